"""SBUs (customer × channel × product): one live SBU per triple, changes of the triple by derivation only,
retirement with a reason; and the read model of campaigns' figures behind the SBU grid.

Event points: :func:`add_sbu` is the one place an SBU comes to life (``sbu.created``), :func:`retire_sbu` the
one place it is retired (``sbu.retired``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.contracts import SbuCreated, SbuRetired
from services.plans.events import publish
from services.plans.planning.children import load_plan
from services.plans.planning.models import Plan
from services.plans.planning.service import WriteContext, audit, open_for_write
from services.plans.sbus.models import LIVE, Sbu, SbuPerformance
from services.plans.sbus.schemas import SbuDerive, SbuIn, SbuOut, SbuPatch, SbuRetire
from services.plans.tactics.models import Channel, Customer, Product
from shared.auth import Principal
from shared.db import get_scoped, scoped, upsert, utcnow
from shared.errors import Conflict, FieldError
from shared.etag import Precondition
from shared.money import to_columns

E = TypeVar("E", bound=SbuCreated)

TRIPLE = ("customer_id", "channel_id", "product_id")


async def _check_parts(session: AsyncSession, plan: Plan, values: dict[str, Any]) -> None:
    for field, model in (("customer_id", Customer), ("channel_id", Channel), ("product_id", Product)):
        found = await session.scalar(
            select(model.id).where(model.org_id == plan.org_id, model.plan_id == plan.id, model.id == values[field])
        )
        if found is None:
            raise FieldError(field, f"{model.__label__} {values[field]} is not in plan {plan.id}")
    for field in ("budget_currency", "revenue_target_currency"):
        if values.get(field) is not None and values[field] != plan.base_currency:
            name = field.removesuffix("_currency")
            raise FieldError(name, f"{name} must be in the plan's base currency {plan.base_currency}")


async def _live_with_triple(session: AsyncSession, org_id: str, values: dict[str, Any]) -> str | None:
    stmt = select(Sbu.id).where(
        Sbu.org_id == org_id, Sbu.status.in_(LIVE), *(getattr(Sbu, f) == values[f] for f in TRIPLE)
    )
    return await session.scalar(stmt)


async def add_sbu(session: AsyncSession, ctx: WriteContext, values: dict[str, Any], reason: str | None = None) -> Sbu:
    """Bring one SBU to life (draft in a draft plan, active in an active one). Publishes ``sbu.created``."""
    await _check_parts(session, ctx.plan, values)
    taken = await _live_with_triple(session, ctx.plan.org_id, values)
    if taken:
        raise Conflict(
            f"this customer × channel × product already has a live SBU ({taken}); retire or derive it", sbu_id=taken
        )
    status = "active" if ctx.plan.status == "active" else "draft"
    sbu = Sbu(org_id=ctx.plan.org_id, plan_id=ctx.plan.id, status=status, **values)
    session.add(sbu)
    try:
        await session.flush()
    except IntegrityError as exc:  # another request took the triple between our check and our insert
        raise Conflict("this customer × channel × product already has a live SBU") from exc
    await session.refresh(sbu)
    audit(session, ctx, "create", "sbu", sbu.id, None, SbuOut.model_validate(sbu), reason)
    await publish(session, sbu.org_id, _sbu_event(SbuCreated, sbu))
    return sbu


async def retire_sbu(session: AsyncSession, ctx: WriteContext, sbu: Sbu, reason: str) -> Sbu:
    """Retire one SBU for good. Publishes ``sbu.retired`` (campaigns pause its running campaigns)."""
    if sbu.status == "retired":
        raise Conflict(f"sbu {sbu.id} is already retired")
    before = SbuOut.model_validate(sbu)
    sbu.status, sbu.retired_reason, sbu.retired_at = "retired", reason, utcnow()
    await session.flush()
    await session.refresh(sbu)
    audit(session, ctx, "retire", "sbu", sbu.id, before, SbuOut.model_validate(sbu), reason)
    await publish(session, sbu.org_id, _sbu_event(SbuRetired, sbu, reason=reason), sbu.retired_at)
    return sbu


def _sbu_event(event: type[E], sbu: Sbu, **extra: str) -> E:
    return event(
        sbu_id=sbu.id,
        plan_id=sbu.plan_id,
        status=sbu.status,
        customer_id=sbu.customer_id,
        channel_id=sbu.channel_id,
        product_id=sbu.product_id,
        derived_from=sbu.derived_from,
        **extra,
    )


async def create_sbu(session: AsyncSession, principal: Principal, plan_id: str, body: SbuIn) -> Sbu:
    ctx = await open_for_write(session, principal, plan_id, "tactical")
    return await add_sbu(session, ctx, to_columns(body))


async def _open_sbu(session: AsyncSession, principal: Principal, sbu_id: str) -> tuple[WriteContext, Sbu]:
    sbu = await get_scoped(session, Sbu, sbu_id, principal.org_id, "sbu")
    ctx = await open_for_write(session, principal, sbu.plan_id, "tactical")
    if sbu.status == "retired":
        raise Conflict(f"sbu {sbu.id} is retired and can no longer change")
    return ctx, sbu


async def update_sbu(
    session: AsyncSession, principal: Principal, sbu_id: str, body: SbuPatch, precondition: Precondition
) -> Sbu:
    """Need, demand, budget, revenue target and owner may change; the triple never does (derive instead)."""
    for field in TRIPLE:
        if field in body.model_fields_set:
            raise FieldError(
                field,
                f"{field} of an SBU never changes: a new customer, channel or product is a new business model; "
                f"derive it with POST /v1/sbus/{sbu_id}/derive",
            )
    ctx, sbu = await _open_sbu(session, principal, sbu_id)
    before = SbuOut.model_validate(sbu)
    precondition(before)
    values = to_columns(body, exclude=set(TRIPLE), only_set=True)
    for key, value in values.items():
        if value is None:
            raise FieldError(
                key.split("_amount")[0], f"{key.removesuffix('_amount').removesuffix('_currency')} cannot be null"
            )
        setattr(sbu, key, value)
    await _check_parts(session, ctx.plan, {f: getattr(sbu, f) for f in TRIPLE} | values)
    await session.flush()
    await session.refresh(sbu)
    audit(session, ctx, "update", "sbu", sbu.id, before, SbuOut.model_validate(sbu))
    return sbu


async def derive_sbu(session: AsyncSession, principal: Principal, sbu_id: str, body: SbuDerive) -> Sbu:
    """A new business model from an old one: the old SBU is retired and the new one keeps ``derived_from``."""
    ctx, old = await _open_sbu(session, principal, sbu_id)
    given = to_columns(body, exclude={"reason"}, only_set=True)
    given = {k: v for k, v in given.items() if v is not None}
    if all(given.get(f, getattr(old, f)) == getattr(old, f) for f in TRIPLE):
        raise FieldError((), "derive changes the customer, the channel or the product; PATCH changes the rest")
    keep = (
        "need",
        "demand",
        "budget_amount",
        "budget_currency",
        "revenue_target_amount",
        "revenue_target_currency",
        "owner",
        *TRIPLE,
    )
    values = {k: getattr(old, k) for k in keep} | given | {"derived_from": old.id}
    await retire_sbu(session, ctx, old, f"derived into a new SBU: {body.reason}")
    return await add_sbu(session, ctx, values, body.reason)


async def open_and_retire_sbu(session: AsyncSession, principal: Principal, sbu_id: str, body: SbuRetire) -> Sbu:
    ctx, sbu = await _open_sbu(session, principal, sbu_id)
    return await retire_sbu(session, ctx, sbu, body.reason)


async def list_sbus(session: AsyncSession, principal: Principal, plan_id: str, status: str | None) -> Any:
    await load_plan(session, principal, plan_id)
    stmt = scoped(Sbu, principal.org_id).where(Sbu.plan_id == plan_id)
    return stmt if status is None else stmt.where(Sbu.status == status)


# --- the read model of campaigns' figures -------------------------------------------------------------------


def roas(spend: Decimal | None, revenue: Decimal | None) -> Decimal | None:
    """Return on ad spend = revenue / spend; None when unknown or when nothing was spent."""
    if spend is None or revenue is None or spend == 0:
        return None
    return (revenue / spend).quantize(Decimal("0.0001"))


async def apply_sbu_performance(
    session: AsyncSession,
    org_id: str,
    sbu_id: str,
    spend: Decimal,
    revenue: Decimal,
    currency: str,
    as_of: datetime,
    released_revenue: Decimal | None = None,
) -> bool:
    """Keep campaigns' latest figures for an SBU (``sbu.performance_changed``). Figures computed before the
    stored ones are ignored, so events arriving out of order never move the grid backwards. One atomic
    upsert: concurrent deliveries cannot both win. True when the figures were stored."""
    await get_scoped(session, Sbu, sbu_id, org_id, "sbu")
    now = utcnow()
    values = {
        "sbu_id": sbu_id,
        "org_id": org_id,
        "spend_amount": spend,
        "revenue_amount": revenue,
        "released_revenue_amount": released_revenue,
        "currency": currency,
        "as_of": as_of,
        "created_at": now,
        "updated_at": now,
    }
    return await upsert(
        session,
        SbuPerformance,
        values,
        [SbuPerformance.sbu_id],
        ("spend_amount", "revenue_amount", "released_revenue_amount", "currency", "as_of", "updated_at"),
        where=lambda excluded: SbuPerformance.as_of < excluded.as_of,
    )
