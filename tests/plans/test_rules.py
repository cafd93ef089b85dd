"""Pure rules of the plans service, called without a server."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from services.plans.planning.readiness import PlanView, SbuView, readiness_findings
from services.plans.report.service import CHART_WIDTH, budget_bars
from services.plans.sbus.service import roas
from services.plans.strategy.service import tows_pairings
from services.plans.tactics.service import price_problem

D = Decimal


def _complete(**extra) -> PlanView:  # type: ignore[no-untyped-def]
    view = PlanView(
        id="p",
        budget=None,
        budget_currency=None,
        quadrants={"strength", "weakness", "opportunity", "threat"},
        targeted_segments={"s"},
        positioning_segment="s",
        has_positioning=True,
        innovations=1,
    )
    for key, value in extra.items():
        setattr(view, key, value)
    return view


def test_a_complete_plan_has_only_the_no_sbu_warning() -> None:
    findings = readiness_findings(_complete())
    assert [(f.code, f.severity) for f in findings] == [("no_sbus", "warning")]


def test_missing_strategy_is_an_error_per_gap() -> None:
    view = PlanView(id="p", budget=None, budget_currency=None, quadrants={"strength"}, innovations=1)
    codes = [f.code for f in readiness_findings(view) if f.severity == "error"]
    assert codes == ["swot_quadrant_empty"] * 3 + ["no_targeting", "no_positioning"]


def test_sbu_findings() -> None:
    sbus = [
        SbuView("a", "c1", "office practice", "strong", D("600"), "USD"),
        SbuView("b", "c2", "office practice", "weak", D("500"), "USD"),
    ]
    view = _complete(
        live_sbus=sbus,
        budget=D("1000"),
        budget_currency="USD",
        customer_segments={"c1": "s", "c2": "s"},
        customer_needs={"c2": {"office practice": "pseudo"}},
    )
    found = {(f.code, f.ref["id"]) for f in readiness_findings(view)}
    # the customer's own judgement of the need counts even when the SBU says otherwise
    assert found == {("pseudo_demand_sbu", "b"), ("sbu_budget_over_plan", "p")}


def test_price_above_ceiling_names_both_amounts() -> None:
    assert price_problem((D("650"), "USD"), (D("600"), "USD")) == "price 650.00 USD is above its ceiling 600.00 USD"
    assert price_problem((D("600"), "USD"), (D("600"), "USD")) is None
    assert price_problem((D("1"), "USD"), None) is None
    # another currency is compared only through a rate (tests/plans/test_currency.py); without one, not at all
    assert price_problem((D("1"), "USD"), (D("5"), "EUR")) is None


def test_roas_is_null_without_spend() -> None:
    assert roas(D("200"), D("900")) == D("4.5")
    assert roas(D("0"), D("900")) is None and roas(None, None) is None


def test_tows_pairs_every_internal_with_every_external_item() -> None:
    item = lambda q, w: SimpleNamespace(quadrant=q, weight=D(w))  # noqa: E731
    items = [item("strength", "0.9"), item("strength", "0.2"), item("opportunity", "0.5"), item("threat", "1")]
    pairs = tows_pairings(items)
    assert [p.score for p in pairs["so"]] == [D("0.45"), D("0.10")]
    assert [p.score for p in pairs["st"]] == [D("0.9"), D("0.2")]
    assert pairs["wo"] == [] and pairs["wt"] == []


@given(st.lists(st.tuples(st.decimals(0, 10**9, places=2), st.none() | st.decimals(0, 10**9, places=2)), max_size=30))
def test_budget_bars_stay_inside_the_chart(rows: list[tuple[Decimal, Decimal | None]]) -> None:
    bars = budget_bars([(f"sbu {i}", b, s) for i, (b, s) in enumerate(rows)])
    assert len(bars) == len(rows)
    for bar, (budget, spend) in zip(bars, rows, strict=True):
        assert 0 <= bar.budget_width <= CHART_WIDTH and 0 <= bar.spend_width <= CHART_WIDTH
        assert (bar.budget_width > 0) == (budget > 0)
        if spend is not None and budget >= spend:
            assert bar.budget_width >= bar.spend_width
