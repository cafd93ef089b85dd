"""The summary in its answer shape, over the window a request names, and the organisation's lifecycle windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers.models import Lifecycle
from services.compliance.customers.register import mark_changed
from services.compliance.customers.schemas import (
    LifecycleIn,
    LifecycleOut,
    MoneyOut,
    Stages,
    SummaryOut,
    TierOut,
    Window,
)
from services.compliance.customers.summary import (
    Scope,
    Summary,
    customer_summary,
    lifecycle_windows,
    ratio,
)
from services.compliance.setup.models import Source
from shared.db import get_scoped, is_uuid, utcnow
from shared.errors import FieldError, NotFound, Unprocessable

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
        raise FieldError((), "the windows must grow: new_days ≤ active_days < at_risk_days")
    row = await session.get(Lifecycle, org_id)
    if row is None:
        row = Lifecycle(org_id=org_id)
        session.add(row)
    row.new_days, row.active_days, row.at_risk_days = body.new_days, body.active_days, body.at_risk_days
    await session.flush()
    await mark_changed(session, org_id)
    return await get_lifecycle(session, org_id)
