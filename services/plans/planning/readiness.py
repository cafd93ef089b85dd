"""Readiness of a plan: what still stands between it and activation. The rules are a pure function over
plain values (:func:`readiness_findings`); :func:`plan_findings` gathers those values from the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.customer_status.service import plan_customer_findings
from services.plans.execution.models import Innovation
from services.plans.planning.fx import Rates, missing
from services.plans.planning.models import Plan
from services.plans.planning.price_rule import price_problem
from services.plans.planning.schemas import Finding
from services.plans.sbus.models import LIVE, Sbu, SbuPerformance
from services.plans.strategy.models import Positioning, Segment, SwotItem
from services.plans.tactics.models import Customer, Product
from shared.db import get_scoped
from shared.schemas import format_decimal

QUADRANTS = ("strength", "weakness", "opportunity", "threat")


@dataclass
class SbuView:
    id: str
    customer_id: str
    need: str
    demand: str
    budget: Decimal
    currency: str


@dataclass
class PlanView:
    id: str
    budget: Decimal | None
    budget_currency: str | None
    quadrants: set[str] = field(default_factory=set)
    targeted_segments: set[str] = field(default_factory=set)
    positioning_segment: str | None = None
    has_positioning: bool = False
    customer_segments: dict[str, str | None] = field(default_factory=dict)
    #: customer id → {need statement → demand}
    customer_needs: dict[str, dict[str, str]] = field(default_factory=dict)
    live_sbus: list[SbuView] = field(default_factory=list)
    #: product id → (price, currency, ceiling, ceiling currency)
    prices: dict[str, tuple[Decimal, str, Decimal | None, str | None]] = field(default_factory=dict)
    rates: Rates = field(default_factory=lambda: Rates("USD", {}))
    #: every currency the plan's money is given in (products, SBUs, innovations, campaigns' spend)
    currencies: set[str] = field(default_factory=set)
    innovations: int = 0
    #: segment id → (name, countries, description), oldest first
    segments: dict[str, tuple[str, list[str], str]] = field(default_factory=dict)


def _finding(code: str, message: str, ref_type: str, ref_id: str, severity: str = "error") -> Finding:
    return Finding(code=code, severity=severity, message=message, ref={"type": ref_type, "id": ref_id})  # type: ignore[arg-type]


def _strategy_findings(p: PlanView) -> list[Finding]:
    out = [
        _finding("swot_quadrant_empty", f"the SWOT matrix has no {q}", "plan", p.id)
        for q in QUADRANTS
        if q not in p.quadrants
    ]
    if not p.targeted_segments:
        out.append(_finding("no_targeting", "no segment is targeted", "plan", p.id))
    if not p.has_positioning:
        out.append(_finding("no_positioning", "the plan has no brand positioning", "plan", p.id))
    elif p.positioning_segment not in p.targeted_segments:
        out.append(
            _finding(
                "positioning_not_targeted",
                "the positioning names a segment that is no longer targeted",
                "segment",
                p.positioning_segment or "",
            )
        )
    return out


def _sbu_findings(p: PlanView) -> list[Finding]:
    out = []
    for sbu in p.live_sbus:
        judged = p.customer_needs.get(sbu.customer_id, {}).get(sbu.need)
        if sbu.demand == "pseudo" or judged == "pseudo":
            out.append(
                _finding(
                    "pseudo_demand_sbu",
                    f"SBU {sbu.id} serves a pseudo-demand ({sbu.need!r}); retire it or derive another",
                    "sbu",
                    sbu.id,
                )
            )
        if p.customer_segments.get(sbu.customer_id) not in p.targeted_segments:
            out.append(
                _finding(
                    "customer_not_targeted", f"the customer of SBU {sbu.id} is in no targeted segment", "sbu", sbu.id
                )
            )
    if not p.live_sbus:
        out.append(_finding("no_sbus", "the plan has no live SBU yet", "plan", p.id, "warning"))
    if p.budget is not None and p.budget_currency is not None:
        total, used = Decimal(0), {}
        for s in p.live_sbus:
            converted = p.rates.convert(s.budget, s.currency, p.budget_currency)
            if converted is None:  # warned as fx_rate_missing; never added unconverted
                continue
            total += converted.amount
            used.update({r["currency"]: r for r in converted.rates})
        if total > p.budget:
            named = "; ".join(
                f"1 {c} = {r['rate']} {p.rates.base} ({r['source']}, {r['as_of']})" for c, r in used.items()
            )
            out.append(
                _finding(
                    "sbu_budget_over_plan",
                    f"live SBU budgets total {format_decimal(total)} {p.budget_currency}, above the plan budget "
                    f"{format_decimal(p.budget)} {p.budget_currency}" + (f" (converted at {named})" if named else ""),
                    "plan",
                    p.id,
                )
            )
    return out


def _fx_findings(p: PlanView) -> list[Finding]:
    return [
        _finding(
            "fx_rate_missing",
            f"no exchange rate from {c} to the base currency {p.rates.base}: figures in {c} are shown beside the "
            f"others, never added to them; add {{currency: {c}, rate, as_of, source}} to the plan's fx_rates",
            "plan",
            p.id,
            "warning",
        )
        for c in missing(p.rates, p.currencies)
    ]


def _shape_findings(p: PlanView) -> list[Finding]:
    """13N1's last "1" (an innovation task) and segments entered twice."""
    out = []
    if p.innovations == 0:
        out.append(
            _finding(
                "no_innovation_task",
                "the plan has no innovation task (the last 1 of 13N1): add one under /innovations",
                "plan",
                p.id,
            )
        )
    seen: dict[object, str] = {}
    for segment_id, (name, countries, description) in p.segments.items():
        for key in (
            ("name", name.strip().casefold()),
            ("market", tuple(sorted(countries)), description.strip().casefold()),
        ):
            if key in seen:
                out.append(
                    _finding(
                        "duplicate_segment",
                        f"segment {name!r} repeats segment {seen[key]} ("
                        + ("the same name" if key[0] == "name" else "the same countries and description")
                        + "); merge or tell them apart",
                        "segment",
                        segment_id,
                    )
                )
                break
            seen[key] = segment_id
    return out


def _price_findings(p: PlanView) -> list[Finding]:
    out = []
    for product_id, (price, currency, ceiling, ceiling_currency) in p.prices.items():
        problem = price_problem((price, currency), (ceiling, ceiling_currency), p.rates)
        if problem:
            out.append(_finding("price_above_ceiling", problem, "product", product_id))
    return out


def readiness_findings(p: PlanView) -> list[Finding]:
    """Every reason the plan is not ready (errors) or could be better (warnings)."""
    return _strategy_findings(p) + _shape_findings(p) + _sbu_findings(p) + _price_findings(p) + _fx_findings(p)


async def plan_view(session: AsyncSession, plan: Plan) -> PlanView:
    org, pid = plan.org_id, plan.id

    async def rows(*cols, where=()):  # type: ignore[no-untyped-def]
        model = cols[0].class_
        stmt = select(*cols).where(model.org_id == org, model.plan_id == pid, *where)
        return (await session.execute(stmt)).all()

    view = PlanView(
        id=pid,
        budget=plan.budget_amount,
        budget_currency=plan.budget_currency,
        rates=Rates.of(plan.base_currency, plan.fx_rates),
    )
    view.quadrants = {q for (q,) in await rows(SwotItem.quadrant)}
    # oldest first, so a repeated segment is reported against the one entered before it
    segment_rows = sorted(
        await rows(Segment.id, Segment.name, Segment.countries, Segment.description, Segment.created_at),
        key=lambda r: (r[4], r[0]),
    )
    view.segments = {
        sid: (name, list(countries or []), description or "") for sid, name, countries, description, _ in segment_rows
    }
    view.innovations = len(await rows(Innovation.id))
    view.targeted_segments = {s for (s,) in await rows(Segment.id, where=(Segment.targeted.is_(True),))}
    positioning = await rows(Positioning.target_segment_id)
    view.has_positioning = bool(positioning)
    view.positioning_segment = positioning[0][0] if positioning else None
    for cid, segment_id, needs in await rows(Customer.id, Customer.segment_id, Customer.needs):
        view.customer_segments[cid] = segment_id
        view.customer_needs[cid] = {n["statement"]: n["demand"] for n in needs or []}
    view.live_sbus = [
        SbuView(*r)
        for r in await rows(
            Sbu.id,
            Sbu.customer_id,
            Sbu.need,
            Sbu.demand,
            Sbu.budget_amount,
            Sbu.budget_currency,
            where=(Sbu.status.in_(LIVE),),
        )
    ]
    for r in await rows(
        Product.id,
        Product.price_amount,
        Product.price_currency,
        Product.price_ceiling_amount,
        Product.price_ceiling_currency,
        Product.unit_cost_currency,
    ):
        view.prices[r[0]] = (r[1], r[2], r[3], r[4])
        view.currencies.update(c for c in (r[2], r[4], r[5]) if c)
    view.currencies.update(s.currency for s in view.live_sbus)
    performance = select(SbuPerformance.currency).where(
        SbuPerformance.org_id == org, SbuPerformance.sbu_id.in_([s.id for s in view.live_sbus])
    )
    view.currencies.update(c for (c,) in (await session.execute(performance)).all())
    return view


async def plan_findings(session: AsyncSession, plan: Plan) -> list[Finding]:
    return readiness_findings(await plan_view(session, plan)) + await plan_customer_findings(session, plan)


async def health_of(session: AsyncSession, org_id: str, plan_id: str) -> tuple[bool, list[Finding]]:
    plan = await get_scoped(session, Plan, plan_id, org_id)
    findings = await plan_findings(session, plan)
    return not any(f.severity == "error" for f in findings), findings
