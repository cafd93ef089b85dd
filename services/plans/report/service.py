"""The plan a CMO prints on A4: positioning, SWOT 2×2, target segments, the SBU grid, budget against spend per
SBU as inline SVG with the figures written on it (no JavaScript, one currency per scale), the campaigns with their
KPIs and pacing, the experiments' decisions and lift, the innovation tasks and the customs picture.

Everything comes from plans' own tables and the read models the other services' events keep (plans calls no one).
Money in several currencies is converted only with the plan's exchange rates, and the rate is printed beside it;
a rate older than ``STALE_RATE_DAYS`` on the report's day is flagged beside every figure it converts.

Figures are written as a reader wants them: money and ROAS to two decimals, pacing as a verdict a CMO acts on
(``PACING_MARGIN`` is the stated margin), every lift with its 95 % interval and the sample it rests on.

Over 400 lines on purpose: one printed report, each section a short function over the same loaded figures and
the same formatting rules; split, the sections would each re-read what the report loads once.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.execution.models import Innovation
from services.plans.outcomes.models import CampaignOutcome, CustomsOrder, ExperimentOutcome
from services.plans.planning.children import load_plan
from services.plans.planning.fx import Rates
from services.plans.planning.readiness import plan_findings
from services.plans.sbus.grid import sbu_grid
from services.plans.sbus.models import Sbu
from services.plans.strategy.models import Positioning, Segment
from services.plans.strategy.service import swot_matrix
from shared.auth import Principal
from shared.db import scoped
from shared.schemas import format_decimal

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def money_text(amount: Decimal | None, currency: str | None = None) -> str:
    """1234.5 → "1,234.50 USD": what a reader sees on paper."""
    if amount is None:
        return "—"
    text = f"{Decimal(amount):,.2f}"
    return f"{text} {currency}" if currency else text


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value) * 100:.1f} %"


def two_places(value: Decimal | str | None) -> str:
    """A ratio such as ROAS to two decimals: 3.6593 → "3.66"."""
    return "—" if value is None else f"{Decimal(value):,.2f}"


#: a rate older than this on the day of the report is flagged beside every figure it converts
STALE_RATE_DAYS = 30


def rate_age(rate: Any, today: date) -> int | None:
    """Days between the rate's ``as_of`` and ``today`` (None when the date cannot be read)."""
    as_of = rate["as_of"] if isinstance(rate, dict) else rate.as_of
    try:
        return (today - date.fromisoformat(str(as_of)[:10])).days
    except ValueError:
        return None


def stale_rates(rates: Any, today: date) -> list[str]:
    """The flag of each rate among ``rates`` older than ``STALE_RATE_DAYS``: "the CNY rate of 2026-01-02 is 339 days
    old"."""
    flags = []
    for r in rates or []:
        age = rate_age(r, today)
        if age is not None and age > STALE_RATE_DAYS:
            get = r.get if isinstance(r, dict) else lambda k, r=r: getattr(r, k)
            flags.append(f"the {get('currency')} rate of {str(get('as_of'))[:10]} is {age} days old")
    return flags


TEMPLATES.filters["dec"] = lambda v: "—" if v is None else format_decimal(Decimal(v))
TEMPLATES.filters["money"] = lambda m: "—" if m is None else money_text(m.amount, m.currency)
TEMPLATES.filters["pct"] = percent
TEMPLATES.filters["two"] = two_places

# each SBU is a label line above its two bars, the figures written right of the bars; 720 wide fits A4 portrait
CHART_LEFT, CHART_WIDTH, VALUE_WIDTH, ROW = 0, 400, 320, 50
#: the states of a customs order in the order it passes them
ORDER_STATES = (
    "awaiting_documents",
    "incomplete",
    "matched",
    "mismatch",
    "declared",
    "cleared",
    "released",
    "cancel_requested",
    "cancelled",
)
STATE_LABELS = {
    "matched": "matched (three-in-one)",
    "mismatch": "mismatch",
    "declared": "declared to customs",
    "cleared": "cleared",
    "released": "released",
}


def ratio(part: Decimal | int | None, whole: Decimal | int | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    budget: Decimal | None
    budget_width: int
    spend: Decimal | None
    spend_width: int
    #: why the spend bar is missing or how it was converted, printed in the chart
    note: str = ""
    #: the stale rates the conversion used, flagged beside the figure
    stale: tuple[str, ...] = ()


@dataclass
class ChartGroup:
    """One scale: every amount on it is in ``currency``."""

    currency: str
    #: (label, budget, spend, note, stale rates)
    rows: list[tuple[str, Decimal | None, Decimal | None, str, tuple[str, ...]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def bars(self) -> list[Bar]:
        amounts = [r[1] for r in self.rows if r[1] is not None] + [r[2] for r in self.rows if r[2] is not None]
        top = max([*amounts, Decimal(0)])

        def width(v: Decimal | None) -> int:
            return 0 if not v or not top else max(1, int(v / top * CHART_WIDTH))

        return [
            Bar(label, 18 + i * ROW, budget, width(budget), spend, width(spend), note, stale)
            for i, (label, budget, spend, note, stale) in enumerate(self.rows)
        ]

    def height(self) -> int:
        return 44 + ROW * max(len(self.rows), 1)


def budget_bars(rows: list[tuple[str, Decimal, Decimal | None]]) -> list[Bar]:
    """Bar geometry for (label, budget, spend) rows in one currency, scaled to the largest amount."""
    return ChartGroup("", [(label, budget, spend, "", ()) for label, budget, spend in rows]).bars()


def chart_groups(cells: list[Any], today: date | None = None) -> list[ChartGroup]:
    """Budget and spend of each live SBU on the scale of its currency: spend in another currency is drawn on the
    budget's scale only converted with a named rate, else on its own currency's scale."""
    groups: dict[str, ChartGroup] = {}

    def group(currency: str) -> ChartGroup:
        return groups.setdefault(currency, ChartGroup(currency))

    for c in cells:
        label = f"{c.customer.name} × {c.channel.name}"
        budget, currency = c.budget.amount, c.budget.currency
        if not c.performance_known:
            group(currency).rows.append((label, budget, None, "spend not yet known", ()))
        elif c.spend.currency == currency:
            group(currency).rows.append((label, budget, c.spend.amount, "", ()))
        elif c.budget_use is not None:
            rate = "; ".join(f"1 {r.currency} = {r.rate} {c.budget.currency}" for r in c.budget_use.rates)
            note = f"spend {money_text(c.spend.amount, c.spend.currency)} at {rate}"
            stale = tuple(stale_rates(c.budget_use.rates, today or date.today()))
            group(currency).rows.append((label, budget, c.budget_use.spend.amount, note, stale))
        else:
            group(currency).rows.append((label, budget, None, f"spend in {c.spend.currency}: no rate, see below", ()))
            group(c.spend.currency).rows.append((label, None, c.spend.amount, f"budget in {currency}, no rate", ()))
    return [groups[k] for k in sorted(groups)]


#: "at risk" when the share of the budget spent runs ahead of the share of time gone by more than this (and
#: "behind" when it lags by more): 10 percentage points
PACING_MARGIN = Decimal("0.10")


def pacing(outcome: CampaignOutcome, today: date) -> dict[str, Any]:
    """How far through its budget a campaign is against how far through its dates, on the day its figures were
    computed (not the day the report is printed: spend after that day is not known yet).

    The verdict is what a CMO acts on: ``over budget`` once more than the whole budget is spent, ``at risk``
    while spend runs ahead of time by more than ``PACING_MARGIN`` (the budget will run out before the dates
    do), ``behind`` while it lags by more, ``on pace`` otherwise."""
    today = min(today, outcome.as_of.date())
    days = (outcome.ends_on - outcome.starts_on).days + 1
    elapsed = min(max((today - outcome.starts_on).days + 1, 0), days)
    time_share = ratio(elapsed, days)
    spend_share = ratio(outcome.spend_amount, outcome.budget_amount)
    index = ratio(spend_share, time_share) if spend_share is not None and time_share else None
    if spend_share is not None and spend_share > 1:
        verdict = "over budget"
    elif elapsed == 0:
        verdict = "not started"
    elif spend_share is None or time_share is None:
        verdict = "—"
    elif spend_share - time_share > PACING_MARGIN:
        verdict = "at risk"
    elif time_share - spend_share > PACING_MARGIN:
        verdict = "behind"
    else:
        verdict = "on pace"
    return {"time_share": time_share, "spend_share": spend_share, "index": index, "verdict": verdict}


def count_text(value: Decimal | int) -> str:
    """Conversions as the platforms count them: thousands separated, fractions only when there are some."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.normalize():,f}"


def released_roas(o: CampaignOutcome) -> dict[str, Any]:
    """Released ROAS (customs-released revenue, returns deducted, / spend) beside the claimed one, and the gap;
    None until campaigns announced released revenue."""
    if o.released_revenue_amount is None:
        return {"released_revenue": None, "released_roas": None, "roas_gap": None}
    claimed, released = ratio(o.revenue_amount, o.spend_amount), ratio(o.released_revenue_amount, o.spend_amount)
    return {
        "released_revenue": o.released_revenue_amount,
        "released_roas": released,
        "roas_gap": None if claimed is None or released is None else claimed - released,
    }


def campaign_rows(outcomes: list[CampaignOutcome], sbu_labels: dict[str, str], today: date) -> list[dict[str, Any]]:
    rows = []
    for o in outcomes:
        rows.append(
            {
                "outcome": o,
                "sbu": sbu_labels.get(o.sbu_id, o.sbu_id),
                "ctr": ratio(o.clicks, o.impressions),
                "cvr": ratio(o.conversions, o.clicks),
                "cpa": None if not o.conversions else (o.spend_amount / o.conversions),
                "conversions": count_text(o.conversions),
                "roas": ratio(o.revenue_amount, o.spend_amount),
                **released_roas(o),
                "pacing": pacing(o, today),
            }
        )
    return rows


@dataclass(frozen=True)
class Lift:
    """The winner's conversion rate (conversions per impression) against the other arms' pooled rate: the relative
    lift, its 95 % interval and the sample both rest on."""

    estimate: Decimal
    low: Decimal | None
    high: Decimal | None
    winner_impressions: int
    winner_conversions: Decimal
    others_impressions: int
    others_conversions: Decimal

    def text(self) -> str:
        return signed_percent(self.estimate)

    def interval_text(self) -> str:
        if self.low is None or self.high is None:
            return "interval not computable"
        return f"95 % interval {signed_percent(self.low)} to {signed_percent(self.high)}"

    def sample_text(self) -> str:
        return (
            f"{_count(self.winner_conversions)} of {self.winner_impressions:,} impressions against "
            f"{_count(self.others_conversions)} of {self.others_impressions:,}"
        )


def _count(conversions: Decimal) -> str:
    """Conversions as the platform counted them: whole ones as integers, fractional ones with their places."""
    if conversions == conversions.to_integral_value():
        return f"{int(conversions):,}"
    return f"{conversions.normalize():,}"


def signed_percent(value: Decimal) -> str:
    return f"{value * 100:+.1f} %".replace("+0.0 %", "0.0 %").replace("-0.0 %", "0.0 %")


#: the 97.5 % quantile of the normal distribution: a 95 % two-sided interval
Z_95 = 1.959963984540054


def lift_of(variants: list[dict[str, Any]], winner: str | None) -> Lift | None:
    """The winner against the other arms pooled, with the delta-method interval of the relative lift (the
    variance campaigns' analysis uses: σT²/(μC²nT) + σC²μT²/(μC⁴nC), σ² = μ(1 − μ))."""
    if not winner:
        return None
    mine = [v for v in variants if v["key"] == winner]
    others = [v for v in variants if v["key"] != winner]
    if not mine or not others:
        return None
    # conversions arrive as decimal strings (fractional, as the platforms count them) or, from older events, integers
    nt, xt = int(mine[0]["impressions"]), Decimal(str(mine[0]["conversions"]))
    nc, xc = sum(int(v["impressions"]) for v in others), sum(Decimal(str(v["conversions"])) for v in others)
    if not nt or not nc or not xc:
        return None
    mt, mc = float(xt) / nt, float(xc) / nc
    estimate = (xt / nt) / (xc / nc) - 1
    low = high = None
    variance = mt * (1 - mt) / (mc**2 * nt) + mc * (1 - mc) * mt**2 / (mc**4 * nc)
    if nt > 1 and nc > 1 and variance > 0:
        half = Z_95 * math.sqrt(variance)
        low, high = Decimal(mt / mc - 1 - half), Decimal(mt / mc - 1 + half)
    q = Decimal("0.0001")
    return Lift(
        estimate.quantize(q),
        None if low is None else low.quantize(q),
        None if high is None else high.quantize(q),
        nt,
        xt,
        nc,
        xc,
    )


def observed_lift(variants: list[dict[str, Any]], winner: str | None) -> Decimal | None:
    """The winner's relative lift alone (see :func:`lift_of`)."""
    lift = lift_of(variants, winner)
    return None if lift is None else lift.estimate


def customs_picture(orders: list[CustomsOrder]) -> dict[str, Any]:
    states = Counter(o.state for o in orders)
    ordered = [s for s in ORDER_STATES if s in states] + sorted(set(states) - set(ORDER_STATES))
    rules = Counter(rule for o in orders for rule in o.failing_rules or [])
    released: dict[str, Decimal] = {}
    for o in orders:
        if o.state == "released" and o.amount is not None and o.currency:
            released[o.currency] = released.get(o.currency, Decimal(0)) + o.amount
    return {
        "total": len(orders),
        "by_state": [(STATE_LABELS.get(s, s.replace("_", " ")), states[s]) for s in ordered],
        "top_rules": rules.most_common(5),
        "released": sorted(released.items()),
    }


async def _rows(session: AsyncSession, stmt: Any) -> list[Any]:
    return list((await session.execute(stmt)).scalars().all())


async def render_report(session: AsyncSession, principal: Principal, plan_id: str, today: date | None = None) -> str:
    org = principal.org_id
    plan = await load_plan(session, principal, plan_id)
    today = today or date.today()
    swot = await swot_matrix(session, principal, plan_id)
    grid = await sbu_grid(session, principal, plan_id)
    segments = await _rows(session, scoped(Segment, org).where(Segment.plan_id == plan_id).order_by(Segment.name))
    positioning = await session.scalar(scoped(Positioning, org).where(Positioning.plan_id == plan_id))
    live = [c for c in grid.cells if c.status != "retired"]
    groups = chart_groups(live, today)
    labels = {c.sbu_id: f"{c.customer.name} × {c.channel.name} × {c.product.name}" for c in grid.cells}

    plan_sbus = select(Sbu.id).where(Sbu.org_id == org, Sbu.plan_id == plan_id)
    outcomes = await _rows(
        session,
        scoped(CampaignOutcome, org)
        .where(CampaignOutcome.sbu_id.in_(plan_sbus))
        .order_by(CampaignOutcome.starts_on, CampaignOutcome.name, CampaignOutcome.campaign_id),
    )
    by_campaign = {o.campaign_id: o for o in outcomes}
    experiments = await _rows(
        session,
        scoped(ExperimentOutcome, org)
        .where(ExperimentOutcome.campaign_id.in_(list(by_campaign)))
        .order_by(ExperimentOutcome.decided_at),
    )
    innovations = await _rows(
        session, scoped(Innovation, org).where(Innovation.plan_id == plan_id).order_by(Innovation.created_at)
    )
    orders = await _rows(
        session,
        scoped(CustomsOrder, org).where(
            CustomsOrder.as_of >= datetime.combine(plan.period_start, time.min, UTC),
            CustomsOrder.as_of < datetime.combine(plan.period_end + timedelta(days=1), time.min, UTC),
        ),
    )
    rates = Rates.of(plan.base_currency, plan.fx_rates)
    context: dict[str, Any] = {
        "plan": plan,
        "today": today,
        "rates": [rates.by_currency[c] for c in sorted(rates.by_currency)],
        "findings": await plan_findings(session, plan),
        "swot": swot,
        "segments": [s for s in segments if s.targeted],
        "positioning": positioning,
        "positioning_segment": next(
            (s for s in segments if positioning and s.id == positioning.target_segment_id), None
        ),
        "cells": grid.cells,
        "customer_status": grid.customer_status,
        "totals": grid.totals,
        "live": live,
        "chart": {"left": CHART_LEFT, "width": CHART_WIDTH, "value_width": VALUE_WIDTH},
        "groups": [(g, g.bars()) for g in groups],
        "campaigns": campaign_rows(outcomes, labels, today),
        "experiments": [
            {
                "outcome": e,
                "campaign": by_campaign.get(e.campaign_id),
                "lift": lift_of(by_campaign[e.campaign_id].variants, e.winner)
                if e.campaign_id in by_campaign
                else None,
            }
            for e in experiments
        ],
        "innovations": innovations,
        "customs": customs_picture(orders),
        "money_text": money_text,
        "stale": lambda rates: stale_rates(rates, today),
        "stale_rate_days": STALE_RATE_DAYS,
        "pacing_margin": percent(PACING_MARGIN).replace(".0 %", ""),
    }
    return TEMPLATES.get_template("plan_report.html").render(**context)
