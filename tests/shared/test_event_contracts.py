"""The event models: the type names and the wire shape subscribers depend on (docs/events.md), and the inbox
registry's dispatch."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.campaigns.contracts import CampaignStatusChanged, SbuPerformanceChanged
from services.campaigns.events import EVENTS as CAMPAIGNS
from services.compliance.contracts import CustomersSummaryChanged, OrderMismatch, OrderReleased
from services.compliance.events import EVENTS as COMPLIANCE
from services.plans.contracts import MembershipTierCreated, PlanActivated, SbuRetired, TierSpend
from services.plans.events import EVENTS as PLANS
from shared.events.inbox import Inbox

AT = datetime(2027, 3, 15, 8, 30, tzinfo=UTC)


def test_each_service_publishes_the_event_types_it_always_did() -> None:
    assert PLANS.event_types == (
        "plan.activated",
        "sbu.created",
        "sbu.retired",
        "membership_tier.created",
        "membership_tier.updated",
        "membership_tier.deleted",
    )
    assert CAMPAIGNS.event_types == ("campaign.status_changed", "experiment.decided", "sbu.performance_changed")
    assert COMPLIANCE.event_types == (
        "order.matched",
        "order.mismatch",
        "order.declared",
        "order.cleared",
        "order.released",
        "order.returned",  # added: what came back of a released order (campaigns deducts it)
        "customers.summary_changed",
    )


def test_the_wire_keeps_its_field_names_strings_and_timestamps() -> None:
    assert PlanActivated(plan_id="p", name="FY", strategy_locked_until=date(2027, 6, 30)).payload() == {
        "plan_id": "p",
        "name": "FY",
        "strategy_locked_until": "2027-06-30",
    }
    assert SbuRetired(sbu_id="s", plan_id="p", status="retired", reason="gone").payload() == {
        "sbu_id": "s",
        "plan_id": "p",
        "status": "retired",
        "customer_id": None,
        "channel_id": None,
        "product_id": None,
        "derived_from": None,
        "reason": "gone",
    }
    tier = MembershipTierCreated(
        tier_id="t",
        plan_id="p",
        name="Gold",
        level=2,
        min_orders=3,
        min_spend=TierSpend(amount=Decimal("500.0000"), currency="CNY"),
        window_days=365,
        changed_at=AT,
    )
    assert tier.payload()["min_spend"] == {"amount": "500.00", "currency": "CNY"}
    assert tier.payload()["changed_at"] == "2027-03-15T08:30:00+00:00"
    changed = CampaignStatusChanged(campaign_id="c", sbu_id="s", from_="draft", to="scheduled")
    assert changed.payload() == {"campaign_id": "c", "sbu_id": "s", "from": "draft", "to": "scheduled"}
    figures = SbuPerformanceChanged(
        sbu_id="s", currency="USD", spend=Decimal("100"), revenue=Decimal("350.0000"), roas=Decimal("3.5"), as_of=AT
    )
    assert figures.payload() == {
        "sbu_id": "s",
        "currency": "USD",
        "spend": "100.00",
        "revenue": "350.00",
        "roas": "3.50",
        "released_revenue": None,  # added: customs-released revenue, returns deducted, and its ROAS
        "released_roas": None,
        "as_of": "2027-03-15T08:30:00+00:00",
        "campaigns": [],
    }


def test_failing_rules_travel_with_order_mismatch_only() -> None:
    keys = {"ebp_code": "E", "order_no": "1", "previous_state": "cleared", "amount": Decimal("19.9900")}
    released = OrderReleased(**keys, state="released", currency="USD", failing_rules=["x"]).payload()
    assert "failing_rules" not in released and released["amount"] == "19.99"
    assert OrderMismatch(**keys, state="mismatch", failing_rules=["amount"]).payload()["failing_rules"] == ["amount"]


def test_the_customer_summary_keeps_its_window_aliases() -> None:
    summary = CustomersSummaryChanged.model_validate(
        {
            "window": {"from": AT.isoformat(), "to": AT.isoformat()},
            "customers": 1,
            "new_customers": 1,
            "returning_customers": 0,
            "orders": 1,
            "stages": {"new": 1, "active": 0, "at_risk": 0, "lapsed": 0},
            "computed_at": AT.isoformat(),
        }
    )
    assert summary.window.start == AT and set(summary.payload()["window"]) == {"from", "to"}


def test_an_event_is_handled_once_per_inbox() -> None:
    inbox = Inbox("campaigns", CAMPAIGNS)

    @inbox.handles(SbuRetired)
    async def first(*_: object) -> dict[str, str]:
        return {"status": "applied"}

    assert inbox.event_types("plans") == ["sbu.retired"]
    with pytest.raises(ValueError, match="handled twice"):
        inbox.handles(SbuRetired)(first)
