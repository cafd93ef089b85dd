"""Performance of a campaign or of every campaign of an SBU, aggregated in SQL; KPIs from kpis.py."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.metric_rows import FIGURES, MONEY_FIELDS, TABLE
from services.campaigns.campaigns.models import AttributedOrder, Campaign, MetricRow
from services.campaigns.contracts import CampaignFigures, SbuPerformanceChanged, VariantFigures
from services.campaigns.performance import kpis as k
from services.campaigns.performance.schemas import (
    CampaignPerformanceOut,
    DayOut,
    Kpis,
    Pacing,
    PerformanceTotals,
    RoasOut,
    SbuPerformanceOut,
)
from shared.db import ScaledDecimal, exact_sum, utcnow
from shared.errors import Conflict, NotFound
from shared.money import money_or_zero

#: the figures a metric row carries, as its table declares them: counts (whole numbers) and amounts (scaled
#: decimals), each summed over the rows asked for into the KPI inputs of its name
AMOUNTS = tuple(f for f in FIGURES if isinstance(TABLE.c[f].type, ScaledDecimal))
COUNTS = tuple(f for f in FIGURES if f not in AMOUNTS)

if {f.name for f in fields(k.Totals)} != set(FIGURES):
    raise TypeError(
        f"kpis.Totals {sorted(f.name for f in fields(k.Totals))} and the metric rows' figures {sorted(FIGURES)} "
        "differ: every figure a row carries is totalled"
    )


def _sum_columns() -> list[Any]:
    # exact_sum: ten maximal amounts already pass 2^63 units, where SQLite's SUM gives up
    return [exact_sum(getattr(MetricRow, f)).label(f) for f in FIGURES]


def _totals(row: Any) -> k.Totals:
    values: dict[str, Any] = {f: int(getattr(row, f) or 0) for f in COUNTS}
    values.update((f, Decimal(getattr(row, f) or 0)) for f in AMOUNTS)
    return k.Totals(**values)


def _totals_fields(t: k.Totals, currency: str) -> dict[str, Any]:
    """The totals as answered: a money figure as an amount in the campaign's currency."""
    return {f: money_or_zero(getattr(t, f), currency) if f in MONEY_FIELDS else getattr(t, f) for f in FIGURES}


async def metric_totals(session: AsyncSession, where: list[ColumnElement[bool]]) -> k.Totals:
    row = (await session.execute(select(*_sum_columns()).where(*where))).one()
    return _totals(row)


async def _by_day(session: AsyncSession, where: list[ColumnElement[bool]], currency: str) -> list[DayOut]:
    stmt = select(MetricRow.date, *_sum_columns()).where(*where).group_by(MetricRow.date).order_by(MetricRow.date)
    days = []
    for row in (await session.execute(stmt)).all():
        t = _totals(row)
        days.append(DayOut(date=row.date, kpis=Kpis(**k.kpis(t)), **_totals_fields(t, currency)))
    return days


async def _attributed(session: AsyncSession, where: list[ColumnElement[bool]]) -> tuple[int, Decimal, Decimal]:
    """Released orders naming the campaign(s): how many, their amount, and what of it came back."""
    stmt = select(
        func.count(AttributedOrder.id), exact_sum(AttributedOrder.amount), exact_sum(AttributedOrder.returned_amount)
    ).where(*where)
    count, amount, returned = (await session.execute(stmt)).one()
    return int(count or 0), Decimal(amount or 0), Decimal(returned or 0)


def roas_comparison(spend: Decimal, claimed: Decimal, released: Decimal, currency: str) -> RoasOut:
    """Claimed ROAS (the platforms' value / spend) beside released ROAS (customs-released revenue, returns
    deducted / spend), both in the campaign's currency, and the gap between them."""
    claimed_roas, released_roas = k.ratio(claimed, spend), k.ratio(released, spend)
    return RoasOut(
        currency=currency,
        spend=money_or_zero(spend, currency),
        claimed_value=money_or_zero(claimed, currency),
        released_revenue=money_or_zero(released, currency),
        claimed_roas=claimed_roas,
        released_roas=released_roas,
        gap=None if claimed_roas is None or released_roas is None else claimed_roas - released_roas,
    )


async def _performance(
    session: AsyncSession,
    metric_where: list[ColumnElement[bool]],
    order_where: list[ColumnElement[bool]],
    currency: str,
    budget: Decimal,
    span: tuple[date, date],
    as_of: date,
) -> dict[str, Any]:
    totals = await metric_totals(session, metric_where)
    orders, attributed, returned = await _attributed(session, order_where)
    elapsed, total_days = k.days_elapsed(span[0], span[1], as_of)
    return {
        "currency": currency,
        "totals": PerformanceTotals(
            **_totals_fields(totals, currency),
            attributed_orders=orders,
            attributed_revenue=money_or_zero(attributed, currency),
            returned_revenue=money_or_zero(returned, currency),
        ),
        "kpis": Kpis(**k.kpis(totals)),
        "roas": roas_comparison(totals.cost, totals.revenue, attributed - returned, currency),
        "pacing": Pacing(
            budget=money_or_zero(budget, currency),
            spend=money_or_zero(totals.cost, currency),
            as_of=as_of,
            days_elapsed=elapsed,
            days_total=total_days,
            pacing=k.pacing(totals.cost, budget, elapsed, total_days),
        ),
        "by_day": await _by_day(session, metric_where, currency),
    }


async def campaign_performance(session: AsyncSession, campaign: Campaign, as_of: date) -> CampaignPerformanceOut:
    body = await _performance(
        session,
        [MetricRow.org_id == campaign.org_id, MetricRow.campaign_id == campaign.id],
        [AttributedOrder.org_id == campaign.org_id, AttributedOrder.campaign_id == campaign.id],
        campaign.currency,
        campaign.budget_amount,
        (campaign.starts_on, campaign.ends_on),
        as_of,
    )
    return CampaignPerformanceOut(campaign_id=campaign.id, **body)


async def sbu_performance(session: AsyncSession, org_id: str, sbu_id: str, as_of: date) -> SbuPerformanceOut:
    """Every campaign of the SBU summed. 404 when this organisation has no campaign on it."""
    stmt = (
        select(
            Campaign.currency,
            func.count(Campaign.id),
            exact_sum(Campaign.budget_amount),
            func.min(Campaign.starts_on),
            func.max(Campaign.ends_on),
        )
        .where(Campaign.org_id == org_id, Campaign.sbu_id == sbu_id)
        .group_by(Campaign.currency)
    )
    groups = (await session.execute(stmt)).all()
    if not groups:
        raise NotFound(f"no campaign of this organisation runs on SBU {sbu_id[:64]}")
    if len(groups) > 1:
        raise Conflict(f"the campaigns of SBU {sbu_id} count in several currencies; they cannot be summed")
    currency, count, budget, starts_on, ends_on = groups[0]
    ids = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.sbu_id == sbu_id)
    body = await _performance(
        session,
        [MetricRow.org_id == org_id, MetricRow.campaign_id.in_(ids)],
        [AttributedOrder.org_id == org_id, AttributedOrder.campaign_id.in_(ids)],
        currency,
        Decimal(budget or 0),
        (starts_on, ends_on),
        as_of,
    )
    return SbuPerformanceOut(sbu_id=sbu_id, campaign_count=int(count), **body)


async def sbu_figures(session: AsyncSession, org_id: str, sbu_id: str) -> SbuPerformanceChanged | None:
    """Spend, revenue and ROAS of an SBU as ``sbu.performance_changed`` carries them to plans' grid; None when
    they cannot be summed (no campaign, or campaigns in several currencies)."""
    stmt = (
        select(Campaign.currency, exact_sum(MetricRow.cost), exact_sum(MetricRow.revenue))
        .select_from(Campaign)
        .outerjoin(MetricRow, (MetricRow.campaign_id == Campaign.id) & (MetricRow.org_id == Campaign.org_id))
        .where(Campaign.org_id == org_id, Campaign.sbu_id == sbu_id)
        .group_by(Campaign.currency)
    )
    groups = (await session.execute(stmt)).all()
    if len(groups) != 1:
        return None
    currency, spend, revenue = groups[0]
    spend, revenue = Decimal(spend or 0), Decimal(revenue or 0)
    roas = k.ratio(revenue, spend)  # from the exact figures; the event carries them to 4 places (plans' money)
    ids = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.sbu_id == sbu_id)
    _, attributed, returned = await _attributed(
        session, [AttributedOrder.org_id == org_id, AttributedOrder.campaign_id.in_(ids)]
    )
    released = attributed - returned
    return SbuPerformanceChanged(
        sbu_id=sbu_id,
        currency=currency,
        spend=event_amount(spend),
        revenue=event_amount(revenue),
        roas=roas,
        released_revenue=event_amount(released),
        released_roas=k.ratio(released, spend),
        as_of=utcnow(),
        campaigns=await campaign_figures(session, org_id, sbu_id),
    )


MAX_ANNOUNCED_CAMPAIGNS = 200
EVENT_PLACES = Decimal("0.0001")


def event_amount(amount: Decimal) -> Decimal:
    """An amount as events carry it (4 places, like every amount of money outside the metric rows): a metric
    row's micros rounded half-even."""
    return amount.quantize(EVENT_PLACES)


async def campaign_figures(session: AsyncSession, org_id: str, sbu_id: str) -> list[CampaignFigures]:
    """Each campaign of the SBU with its budget, dates, status and metric totals by variant, so plans' report
    can show KPIs, pacing and experiment lift without calling campaigns (plans calls no one)."""
    campaigns = (
        await session.execute(
            select(Campaign)
            .where(Campaign.org_id == org_id, Campaign.sbu_id == sbu_id)
            .order_by(Campaign.created_at, Campaign.id)
            .limit(MAX_ANNOUNCED_CAMPAIGNS)
        )
    ).scalars()
    by_campaign = {
        c.id: CampaignFigures(
            campaign_id=c.id,
            name=c.name,
            kind=c.kind,
            status=c.status,
            currency=c.currency,
            budget=c.budget_amount,
            starts_on=c.starts_on,
            ends_on=c.ends_on,
        )
        for c in campaigns
    }
    stmt = (
        select(
            MetricRow.campaign_id,
            MetricRow.variant,
            func.sum(MetricRow.impressions),
            func.sum(MetricRow.clicks),
            exact_sum(MetricRow.conversions),
            func.sum(MetricRow.cost),
            func.sum(MetricRow.revenue),
        )
        .where(MetricRow.org_id == org_id, MetricRow.campaign_id.in_(list(by_campaign)))
        .group_by(MetricRow.campaign_id, MetricRow.variant)
        .order_by(MetricRow.campaign_id, MetricRow.variant)
    )
    released = (
        select(
            AttributedOrder.campaign_id,
            exact_sum(AttributedOrder.amount),
            exact_sum(AttributedOrder.returned_amount),
        )
        .where(AttributedOrder.org_id == org_id, AttributedOrder.campaign_id.in_(list(by_campaign)))
        .group_by(AttributedOrder.campaign_id)
    )
    for campaign_id, amount, returned in (await session.execute(released)).all():
        by_campaign[campaign_id].released_revenue = event_amount(Decimal(amount or 0) - Decimal(returned or 0))
    for campaign_id, variant, impressions, clicks, conversions, cost, revenue in (await session.execute(stmt)).all():
        by_campaign[campaign_id].variants.append(
            VariantFigures(
                key=variant,
                impressions=int(impressions or 0),
                clicks=int(clicks or 0),
                conversions=Decimal(conversions or 0),
                spend=event_amount(Decimal(cost or 0)),
                revenue=event_amount(Decimal(revenue or 0)),
            )
        )
    return list(by_campaign.values())
