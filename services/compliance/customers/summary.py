"""The customer summary, computed in SQL over one window of released, not returned orders (README, customer status:
repurchase rate = customers with ≥ 2 orders in the window / customers with ≥ 1). Every query reads the
window through ``(org_id, released_at)`` and each customer's first order through ``(customer_id,
released_at)``, so its cost follows the orders in the window, not the organisation's whole history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers.models import CustomerOrder, Lifecycle, Tier
from shared.money import MoneyAmount

_UNITS = MoneyAmount()
CO = CustomerOrder


@dataclass(frozen=True)
class Windows:
    new_days: int = 30
    active_days: int = 90
    at_risk_days: int = 180


@dataclass(frozen=True)
class Scope:
    org_id: str
    start: datetime
    end: datetime
    trade_direction: str | None = None
    ebp_code: str | None = None


@dataclass
class TierFigures:
    tier_id: str
    plan_id: str
    name: str
    level: int
    members: int
    active_members: int

    @property
    def activity_rate(self) -> Decimal | None:
        return ratio(self.active_members, self.members)


@dataclass
class Summary:
    start: datetime
    end: datetime
    customers: int
    new_customers: int
    returning_customers: int
    repeat_customers: int
    orders: int
    revenue: dict[str, Decimal]
    order_counts: dict[str, int]
    stages: dict[str, int]
    tiers: list[TierFigures] = field(default_factory=list)

    @property
    def repurchase_rate(self) -> Decimal | None:
        return ratio(self.repeat_customers, self.customers)

    def aov(self) -> dict[str, Decimal]:
        return {c: (self.revenue[c] / self.order_counts[c]).quantize(Decimal("0.01")) for c in self.revenue}


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """Four decimals; a zero denominator is null (never 0)."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


async def lifecycle_windows(session: AsyncSession, org_id: str) -> Windows:
    row = await session.get(Lifecycle, org_id)
    return Windows(row.new_days, row.active_days, row.at_risk_days) if row else Windows()


def _filters(scope: Scope, model: Any = CO) -> list[ColumnElement[bool]]:
    out = [model.org_id == scope.org_id]
    if scope.trade_direction is not None:
        out.append(model.trade_direction == scope.trade_direction)
    if scope.ebp_code is not None:
        out.append(model.ebp_code == scope.ebp_code)
    return out


def _in_window(scope: Scope, start: datetime | None = None) -> list[ColumnElement[bool]]:
    return [*_filters(scope), CO.released_at >= (start or scope.start), CO.released_at < scope.end]


async def _customer_figures(session: AsyncSession, scope: Scope, w: Windows) -> dict[str, int]:
    per_customer = (
        select(CO.customer_id, func.count().label("n"), func.max(CO.released_at).label("last_at"))
        .where(*_in_window(scope))
        .group_by(CO.customer_id)
        .subquery()
    )
    # the customer's first order through the same filters: one probe of (customer_id, released_at) each; a
    # first order before the window makes a returning customer
    first_ever = (
        select(func.min(CO.released_at))
        .where(CO.customer_id == per_customer.c.customer_id, *_filters(scope), CO.released_at < scope.end)
        .scalar_subquery()
    )
    # OFFSET 0 keeps the planner from copying the probe into each of the counts below (once per customer)
    rows = select(per_customer.c.n, per_customer.c.last_at, first_ever.label("first_at")).offset(0).subquery()
    new_since, active_since = scope.end - timedelta(days=w.new_days), scope.end - timedelta(days=w.active_days)
    at_risk_since = scope.end - timedelta(days=w.at_risk_days)

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    stmt = select(
        func.count().label("customers"),
        count_if(rows.c.n >= 2).label("repeaters"),
        count_if(rows.c.first_at < scope.start).label("returning_n"),
        count_if(rows.c.first_at >= new_since).label("new_n"),
        count_if(and_(rows.c.first_at < new_since, rows.c.last_at >= active_since)).label("active_n"),
        count_if(
            and_(rows.c.first_at < new_since, rows.c.last_at < active_since, rows.c.last_at >= at_risk_since)
        ).label("at_risk_n"),
        count_if(and_(rows.c.first_at < new_since, rows.c.last_at < at_risk_since)).label("lapsed_n"),
    )
    return {k: int(v or 0) for k, v in (await session.execute(stmt)).one()._mapping.items()}


async def _money(session: AsyncSession, scope: Scope) -> tuple[dict[str, Decimal], dict[str, int]]:
    stmt = (
        select(CO.currency, func.count(), func.sum(type_coerce(CO.amount, BigInteger)))
        .where(*_in_window(scope))
        .group_by(CO.currency)
        .order_by(CO.currency)
    )
    revenue, counts = {}, {}
    for currency, n, units in (await session.execute(stmt)).all():
        revenue[currency] = _UNITS.from_units(units) or Decimal(0)
        counts[currency] = int(n)
    return revenue, counts


async def tiers_of(session: AsyncSession, org_id: str, plan_id: str | None = None) -> list[Tier]:
    stmt = select(Tier).where(Tier.org_id == org_id, Tier.deleted.is_(False))
    if plan_id is not None:
        stmt = stmt.where(Tier.plan_id == plan_id)
    return list((await session.execute(stmt.order_by(Tier.plan_id, Tier.level.desc(), Tier.id))).scalars())


async def reaching(session: AsyncSession, scope: Scope, tier: Tier, active_since: datetime) -> dict[str, bool]:
    """Customers who reach the tier's thresholds in its window up to the end of the summary's window, each
    with whether they ordered since ``active_since``."""
    start = scope.end - timedelta(days=tier.window_days)
    spend: Any = func.sum(type_coerce(CO.amount, BigInteger))
    if tier.min_spend_currency is not None:
        spend = func.sum(case((CO.currency == tier.min_spend_currency, type_coerce(CO.amount, BigInteger)), else_=0))
    stmt = (
        select(CO.customer_id, func.max(CO.released_at))
        .where(*_in_window(scope, start))
        .group_by(CO.customer_id)
        .having(func.count() >= max(tier.min_orders, 1))
    )
    if tier.min_spend_amount is not None:
        stmt = stmt.having(spend >= int(tier.min_spend_amount.scaleb(_UNITS.scale)))
    return {cid: last is not None and last >= active_since for cid, last in (await session.execute(stmt)).all()}


def _reaches(scope: Scope, tier: Tier) -> ColumnElement[bool]:
    """Per customer (in a query grouped by customer): the tier's thresholds met in its window."""
    in_window = CO.released_at >= scope.end - timedelta(days=tier.window_days)
    condition = func.sum(case((in_window, 1), else_=0)) >= max(tier.min_orders, 1)
    if tier.min_spend_amount is not None:
        spent = case((and_(in_window, CO.currency == tier.min_spend_currency), type_coerce(CO.amount, BigInteger)))
        condition = and_(condition, func.coalesce(func.sum(spent), 0) >= int(tier.min_spend_amount.scaleb(4)))
    return condition


async def tier_figures(session: AsyncSession, scope: Scope, w: Windows) -> list[TierFigures]:
    """Each customer belongs to the highest tier of a plan whose thresholds they meet; members, and members
    with an order in the last ``active_days`` (the tier's activity rate). One query: a flag per tier and
    customer, then counts of the flags no higher tier of the same plan took."""
    tiers = await tiers_of(session, scope.org_id)  # by plan, highest level first
    if not tiers:
        return []
    longest = max(t.window_days for t in tiers)
    flags = [case((_reaches(scope, t), 1), else_=0).label(f"t{i}") for i, t in enumerate(tiers)]
    per_customer = (
        select(func.max(CO.released_at).label("last_at"), *flags)
        .where(*_in_window(scope, scope.end - timedelta(days=longest)))
        .group_by(CO.customer_id)
        .offset(0)
        .subquery()
    )
    active = per_customer.c.last_at >= scope.end - timedelta(days=w.active_days)
    counts: list[Any] = []
    for i, tier in enumerate(tiers):
        higher = [per_customer.c[f"t{j}"] == 0 for j, t in enumerate(tiers[:i]) if t.plan_id == tier.plan_id]
        member = and_(per_customer.c[f"t{i}"] == 1, *higher)
        counts += [func.sum(case((member, 1), else_=0)), func.sum(case((and_(member, active), 1), else_=0))]
    row = (await session.execute(select(*counts))).one()
    return [
        TierFigures(t.id, t.plan_id, t.name, t.level, int(row[2 * i] or 0), int(row[2 * i + 1] or 0))
        for i, t in enumerate(tiers)
    ]


async def customer_summary(session: AsyncSession, scope: Scope) -> Summary:
    w = await lifecycle_windows(session, scope.org_id)
    figures = await _customer_figures(session, scope, w)
    revenue, counts = await _money(session, scope)
    return Summary(
        start=scope.start,
        end=scope.end,
        customers=figures["customers"],
        new_customers=figures["customers"] - figures["returning_n"],
        returning_customers=figures["returning_n"],
        repeat_customers=figures["repeaters"],
        orders=sum(counts.values()),
        revenue=revenue,
        order_counts=counts,
        stages={k: figures[f"{k}_n"] for k in ("new", "active", "at_risk", "lapsed")},
        tiers=await tier_figures(session, scope, w),
    )
