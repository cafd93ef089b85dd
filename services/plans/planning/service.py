"""The plan and its lifecycle, the write guard every plan-owned write passes (archived plans; for the strategic
layer the strategy lock of ``strategy_lock.py``), and the audit of writes on active plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.contracts import PlanActivated
from services.plans.events import publish
from services.plans.planning.models import AuditEntry, Plan
from services.plans.planning.readiness import plan_findings
from services.plans.planning.schemas import PlanCreate, PlanOut, PlanPatch
from services.plans.planning.strategy_lock import check_lock
from services.plans.sbus.models import Sbu
from shared.auth import Principal
from shared.db import get_scoped, scoped, utcnow
from shared.errors import Conflict, FieldError
from shared.etag import Precondition
from shared.money import to_columns

Layer = Literal["plan", "strategic", "tactical", "execution"]


@dataclass
class WriteContext:
    """A plan opened for one write, with who writes and the reason they gave (if any)."""

    plan: Plan
    principal: Principal
    reason: str | None = None
    override: bool = False


async def open_for_write(
    session: AsyncSession, principal: Principal, plan_id: str, layer: Layer, override_reason: str | None = None
) -> WriteContext:
    plan = await get_scoped(session, Plan, plan_id, principal.org_id)
    if plan.status == "archived":
        raise Conflict(f"plan {plan.id} is archived and can no longer be changed")
    override = check_lock(plan, principal, override_reason) if layer == "strategic" else False
    return WriteContext(plan=plan, principal=principal, reason=override_reason, override=override)


def snapshot(out: BaseModel | None) -> dict[str, Any] | None:
    return None if out is None else out.model_dump(mode="json")


def audit(
    session: AsyncSession,
    ctx: WriteContext,
    action: str,
    entity: str,
    entity_id: str,
    before: BaseModel | None,
    after: BaseModel | None,
    reason: str | None = None,
) -> None:
    """Audit one write when the plan is active (drafts change freely and are not audited)."""
    if ctx.plan.status != "active":
        return
    session.add(
        AuditEntry(
            org_id=ctx.plan.org_id,
            plan_id=ctx.plan.id,
            actor=ctx.principal.subject,
            actor_role=ctx.principal.role,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=snapshot(before),
            after=snapshot(after),
            reason=reason or ctx.reason,
            override=ctx.override,
        )
    )


def _fx_columns(body: PlanCreate | PlanPatch, values: dict[str, Any]) -> dict[str, Any]:
    # kept as JSON text values: decimals and dates as their strings, exactly as given
    if "fx_rates" in values:
        values["fx_rates"] = [r.model_dump(mode="json") for r in body.fx_rates or []]
    return values


async def create_plan(session: AsyncSession, org_id: str, body: PlanCreate) -> Plan:
    if body.key is not None:
        taken = await session.scalar(scoped(Plan, org_id).where(Plan.key == body.key))
        if taken is not None:
            raise Conflict(f"plan key {body.key!r} is taken by plan {taken.id}")
    plan = Plan(org_id=org_id, status="draft", **_fx_columns(body, to_columns(body)))
    session.add(plan)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same key sent twice at once: the unique constraint decides
        raise Conflict(f"plan key {body.key!r} is taken") from exc
    return plan


def _check_patch(plan: Plan, body: PlanPatch) -> None:
    fields = body.model_fields_set
    if "status" in fields and body.status != plan.status:
        if body.status != "archived":
            raise FieldError("status", "a plan becomes active through POST /activate, and never returns to draft")
        if plan.status != "active":
            raise FieldError("status", "only an active plan can be archived; delete a draft instead")
    if "base_currency" in fields and body.base_currency != plan.base_currency and plan.status != "draft":
        raise FieldError("base_currency", "the base currency of an active plan cannot change")
    if plan.period_end < plan.period_start:
        raise FieldError("period_end", "period_end must not be before period_start")
    if plan.budget_currency is not None and plan.budget_currency != plan.base_currency:
        raise FieldError("budget", "budget must be in the plan's base currency")
    if any(r["currency"] == plan.base_currency for r in plan.fx_rates or []):
        raise FieldError("fx_rates", f"fx_rates needs no rate for the base currency {plan.base_currency}")


async def update_plan(
    session: AsyncSession, principal: Principal, plan_id: str, body: PlanPatch, precondition: Precondition
) -> Plan:
    layer: Layer = "strategic" if "strategy_locked_until" in body.model_fields_set else "plan"
    ctx = await open_for_write(session, principal, plan_id, layer, body.override_reason)
    plan = ctx.plan
    before = PlanOut.model_validate(plan)
    precondition(before)
    for key, value in _fx_columns(body, to_columns(body, exclude={"override_reason", "status"}, only_set=True)).items():
        setattr(plan, key, value)
    _check_patch(plan, body)
    if body.status == "archived":
        plan.status = "archived"
    await session.flush()
    await session.refresh(plan)
    audit(session, ctx, "update", "plan", plan.id, before, PlanOut.model_validate(plan))
    return plan


async def delete_plan(session: AsyncSession, principal: Principal, plan_id: str, precondition: Precondition) -> None:
    plan = await get_scoped(session, Plan, plan_id, principal.org_id)
    precondition(PlanOut.model_validate(plan))
    if plan.status != "draft":
        raise Conflict(f"plan {plan.id} is {plan.status}; only a draft can be deleted (archive it instead)")
    await session.delete(plan)
    await session.flush()


async def activate_plan(session: AsyncSession, principal: Principal, plan_id: str, locked_until: date | None) -> Plan:
    """draft → active, when no readiness finding is an error; the strategy locks until the period end.
    Publishes ``plan.activated``."""
    ctx = await open_for_write(session, principal, plan_id, "plan")
    plan = ctx.plan
    if plan.status != "draft":
        raise Conflict(f"plan {plan.id} is already {plan.status}")
    errors = [f for f in await plan_findings(session, plan) if f.severity == "error"]
    if errors:
        raise Conflict(
            f"plan {plan.id} is not ready: " + "; ".join(f.message for f in errors),
            findings=[f.model_dump(mode="json") for f in errors],
        )
    before = PlanOut.model_validate(plan)
    plan.status = "active"
    plan.activated_at = utcnow()
    plan.strategy_locked_until = locked_until or plan.period_end
    await session.execute(
        update(Sbu)
        .where(Sbu.org_id == plan.org_id, Sbu.plan_id == plan.id, Sbu.status == "draft")
        .values(status="active", version=Sbu.version + 1)
    )
    await session.flush()
    await session.refresh(plan)
    audit(session, ctx, "activate", "plan", plan.id, before, PlanOut.model_validate(plan))
    activated = PlanActivated(plan_id=plan.id, name=plan.name, strategy_locked_until=plan.strategy_locked_until)
    await publish(session, plan.org_id, activated)
    return plan
