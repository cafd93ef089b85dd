"""Customer routes' domain: the summary in its answer shape, lifecycle windows, audiences, and the tiers plans
announces."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers import identity
from services.compliance.customers.models import Customer, CustomerOrder, Lifecycle, Tier
from services.compliance.customers.register import mark_changed
from services.compliance.customers.schemas import (
    AudienceMember,
    LifecycleIn,
    LifecycleOut,
    MoneyOut,
    Stage,
    Stages,
    SummaryOut,
    TierOut,
    Window,
)
from services.compliance.customers.summary import (
    Scope,
    Summary,
    Windows,
    customer_summary,
    lifecycle_windows,
    ratio,
    reaching,
    tiers_of,
)
from services.compliance.pii import Pii
from services.compliance.setup.models import Source
from shared.db import get_scoped, is_uuid, utcnow
from shared.errors import NotFound, Unprocessable

#: the window of the summary announced to plans, and of the routes when no ``from`` is given
DEFAULT_WINDOW = timedelta(days=365)
MAX_WINDOW = timedelta(days=366 * 10)


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def scope_for(
    session: AsyncSession,
    org_id: str,
    start: date | None,
    end: date | None,
    source_id: str | None,
    trade_direction: str | None,
) -> Scope:
    """``from`` and ``to`` are days (UTC), ``to`` included; ``to`` defaults to today, ``from`` to 365 days
    before the end of ``to``."""
    end_at = _utc_start(end or utcnow().date()) + timedelta(days=1)
    start_at = _utc_start(start) if start else end_at - DEFAULT_WINDOW
    if start_at >= end_at:
        raise Unprocessable("from must not be after to", loc=["query", "from"])
    if end_at - start_at > MAX_WINDOW:
        raise Unprocessable("the window may span at most ten years", loc=["query", "from"])
    ebp_code = None
    if source_id is not None:
        source = await get_scoped(session, Source, source_id, org_id) if is_uuid(source_id) else None
        if source is None:
            raise NotFound(f"source {source_id} not found")
        if not source.ebp_code:
            raise Unprocessable("orders come from platform sources; this source sends none", loc=["query", "source_id"])
        ebp_code = source.ebp_code
    return Scope(org_id, start_at, end_at, trade_direction, ebp_code)


def summary_out(summary: Summary) -> SummaryOut:
    members = sum(t.members for t in summary.tiers)
    active = sum(t.active_members for t in summary.tiers)
    return SummaryOut(
        window=Window(start=summary.start, end=summary.end),
        customers=summary.customers,
        new_customers=summary.new_customers,
        returning_customers=summary.returning_customers,
        repurchase_rate=summary.repurchase_rate,
        orders=summary.orders,
        revenue=[MoneyOut(amount=v, currency=c) for c, v in summary.revenue.items()],
        aov=[MoneyOut(amount=v, currency=c) for c, v in summary.aov().items()],
        stages=Stages(**summary.stages),
        tiers=[
            TierOut(
                tier_id=t.tier_id,
                plan_id=t.plan_id,
                name=t.name,
                level=t.level,
                members=t.members,
                active_members=t.active_members,
                activity_rate=t.activity_rate,
            )
            for t in summary.tiers
        ],
        member_activity_rate=ratio(active, members),
    )


async def summary_view(session: AsyncSession, scope: Scope) -> SummaryOut:
    return summary_out(await customer_summary(session, scope))


# --- lifecycle windows --------------------------------------------------------------------------------------


async def get_lifecycle(session: AsyncSession, org_id: str) -> LifecycleOut:
    w = await lifecycle_windows(session, org_id)
    return LifecycleOut(new_days=w.new_days, active_days=w.active_days, at_risk_days=w.at_risk_days)


async def put_lifecycle(session: AsyncSession, org_id: str, body: LifecycleIn) -> LifecycleOut:
    if not body.new_days <= body.active_days < body.at_risk_days:
        raise Unprocessable("the windows must grow: new_days ≤ active_days < at_risk_days", loc=["body"])
    row = await session.get(Lifecycle, org_id)
    if row is None:
        row = Lifecycle(org_id=org_id)
        session.add(row)
    row.new_days, row.active_days, row.at_risk_days = body.new_days, body.active_days, body.at_risk_days
    await session.flush()
    await mark_changed(session, org_id)
    return await get_lifecycle(session, org_id)


# --- audiences ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceQuery:
    stage: Stage | None = None
    tier_id: str | None = None
    limit: int = 1000
    cursor: str | None = None


def stage_of(first: datetime, last: datetime, now: datetime, w: Windows) -> Stage:
    if first >= now - timedelta(days=w.new_days):
        return "new"
    if last >= now - timedelta(days=w.active_days):
        return "active"
    if last >= now - timedelta(days=w.at_risk_days):
        return "at_risk"
    return "lapsed"


def _cursor(customer_id: str) -> str:
    return base64.urlsafe_b64encode(customer_id.encode()).decode().rstrip("=")


def _after(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        value = ""
    if not is_uuid(value):
        raise Unprocessable("cursor is not one this service issued", loc=["query", "cursor"])
    return value


async def _tier_members(session: AsyncSession, org_id: str, tier_id: str, now: datetime, w: Windows) -> set[str]:
    tier = await session.get(Tier, tier_id) if is_uuid(tier_id) else None
    if tier is None or tier.org_id != org_id or tier.deleted:
        raise NotFound(f"membership tier {tier_id} not found")
    scope = Scope(org_id, now - MAX_WINDOW, now)
    members: set[str] = set()
    for other in await tiers_of(session, org_id, tier.plan_id):  # highest first: a member of a higher tier
        found = set(await reaching(session, scope, other, now)) - members  # is not also in this one
        if other.id == tier.id:
            return found
        members |= found
    return set()


async def audience(
    session: AsyncSession, pii: Pii, org_id: str, q: AudienceQuery
) -> tuple[list[AudienceMember], str | None]:
    """Export buyers with a usable email or phone, as the hashes ad platforms match on; never the identifier."""
    now = utcnow()
    w = await lifecycle_windows(session, org_id)
    in_tier = await _tier_members(session, org_id, q.tier_id, now, w) if q.tier_id else None
    after = _after(q.cursor)
    out: list[AudienceMember] = []
    last_id: str | None = None
    async for customer, first, last in _export_customers(session, org_id, after):
        last_id = customer.id
        if q.stage is not None and stage_of(first, last, now, w) != q.stage:
            continue
        if in_tier is not None and customer.id not in in_tier:
            continue
        out.append(_member(pii, customer))
        if len(out) == q.limit:
            break
    more = len(out) == q.limit and last_id is not None
    return out, _cursor(last_id) if more and last_id else None


async def _export_customers(
    session: AsyncSession, org_id: str, after: str | None, chunk: int = 500
) -> AsyncIterator[tuple[Customer, datetime, datetime]]:
    """Export customers with counted orders, by id, with their first and last order."""
    while True:
        stmt = (
            select(Customer, func.min(CustomerOrder.released_at), func.max(CustomerOrder.released_at))
            .join(CustomerOrder, CustomerOrder.customer_id == Customer.id)
            .where(
                Customer.org_id == org_id,
                Customer.trade_direction == "export",
                CustomerOrder.released_at.is_not(None),
            )
            .group_by(Customer.id)
            .order_by(Customer.id)
            .limit(chunk)
        )
        if after is not None:
            stmt = stmt.where(Customer.id > after)
        rows = (await session.execute(stmt)).all()
        for customer, first, last in rows:
            yield customer, first or last or utcnow(), last or utcnow()
        if len(rows) < chunk:
            return
        after = rows[-1][0].id


def _member(pii: Pii, customer: Customer) -> AudienceMember:
    email = (
        pii.decrypt(customer.email_encrypted, f"customer-email:{customer.org_id}") if customer.email_encrypted else None
    )
    phone = (
        pii.decrypt(customer.phone_encrypted, f"customer-phone:{customer.org_id}") if customer.phone_encrypted else None
    )
    return AudienceMember(
        email_sha256=identity.audience_hash(email) if email else None,
        phone_sha256=identity.audience_hash(phone) if phone else None,
        country=customer.country,
    )


# --- tiers from plans ---------------------------------------------------------------------------------------


async def apply_tier(session: AsyncSession, org_id: str, data: dict[str, Any], deleted: bool) -> bool:
    """Keep plans' newest word on a tier; an event older than what is stored changes nothing."""
    changed_at = datetime.fromisoformat(str(data["changed_at"]))
    tier = await session.get(Tier, str(data["tier_id"]))
    if tier is not None and (tier.org_id != org_id or tier.changed_at >= changed_at):
        return False
    if tier is None:
        tier = Tier(id=str(data["tier_id"]), org_id=org_id)
        session.add(tier)
    spend = data.get("min_spend") or None
    tier.plan_id = str(data["plan_id"])
    tier.name = str(data.get("name") or "")[:200]
    tier.level = int(data["level"])
    tier.min_orders = int(data.get("min_orders") or 0)
    tier.min_spend_amount = Decimal(str(spend["amount"])) if spend else None
    tier.min_spend_currency = str(spend["currency"]) if spend else None
    tier.window_days = int(data.get("window_days") or 365)
    tier.changed_at = changed_at
    tier.deleted = deleted
    await session.flush()
    await mark_changed(session, org_id)
    return True
