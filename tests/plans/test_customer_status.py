"""The customer status compliance computes reaches plans by events only: a computed status snapshot beside the
manual ones, the SBU grid's context, the report, and a readiness warning under the plan's threshold; plans'
membership tiers reach compliance the same way."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from lxml import html as lxml_html
from standardwebhooks.webhooks import Webhook

from services.plans.customer_status.models import CustomerStatus
from services.plans.events import EVENTS as PLANS_EVENTS
from shared.context import context_of
from shared.events.outbox import derive_webhook_secret
from shared.events.relay import Relay
from shared.outbound import OutboundPolicy
from tests.compliance.customer_season import release_import
from tests.compliance.support import Seller, buyer_id
from tests.conftest import asgi_client
from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.support import SERVICE_SECRET, Tenant, assert_problem


async def _relay_compliance(compliance_app: Any, plans_app: Any, org_id: str, idle_passes: int = 3) -> None:
    """Compliance's relay passes (announcing summaries, delivering to plans in-process) until plans has this
    organisation's status. The session's other organisations' events are delivered too, in their turns (the
    relay is fair across organisations), so it runs as long as it finds work, and a few passes more."""
    idle = 0
    while idle < idle_passes:
        claimed = await context_of(compliance_app).require_relay().run_once()
        idle = 0 if claimed else idle + 1
        async with context_of(plans_app).sessionmaker() as session:
            if await session.get(CustomerStatus, org_id) is not None:
                return
    raise AssertionError("customers.summary_changed never reached plans")


async def _relay_plans(plans_app: Any, compliance_app: Any, passes: int = 10) -> None:
    """Plans' relay, delivering its events to compliance in-process."""
    async with asgi_client(compliance_app, "http://compliance") as to_compliance:
        relay = Relay(
            context_of(plans_app).sessionmaker, PLANS_EVENTS, to_compliance, OutboundPolicy.for_environment("test", [])
        )
        for _ in range(passes):
            if not await relay.run_once():
                return


async def test_compliance_figures_become_a_computed_snapshot_grid_context_report_and_warning(
    plans: httpx.AsyncClient, compliance: httpx.AsyncClient, plans_app: Any, compliance_app: Any, tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant, min_repurchase_rate="0.6")
    base = f"/v1/plans/{plan['id']}"
    tier = await post(plans, f"{base}/membership-tiers", {"name": "Regular", "level": 1, "min_orders": 1}, tenant,
                      "supervisor")  # fmt: skip
    assert tier["window_days"] == 365
    manual = await post(plans, f"{base}/status-snapshots", {"as_of": "2027-01-01", "customer_count": 10,
                        "repurchase_rate": "0.3", "member_activity_rate": "0.2"}, tenant, "supervisor")  # fmt: skip
    await _relay_plans(plans_app, compliance_app)  # the tier reaches compliance

    seller = await Seller(compliance, tenant).setup()
    for buyer in (buyer_id(3001), buyer_id(3001), buyer_id(3002)):
        await release_import(seller, None, buyer)
    await _relay_compliance(compliance_app, plans_app, tenant.org_id)

    # the snapshot list: the computed status first, then the manual ones
    r = await plans.get(f"{base}/status-snapshots", headers=tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["source"] for i in items] == ["computed", "manual"] and items[1]["id"] == manual["id"]
    computed = items[0]
    assert (computed["customer_count"], computed["repurchase_rate"], computed["member_activity_rate"]) == (
        2, "0.50", "1.00")  # fmt: skip
    window = computed["window"]
    start, end = datetime.fromisoformat(window["from"]), datetime.fromisoformat(window["to"])
    assert end - start == timedelta(days=365) and abs(datetime.now(UTC) - end) < timedelta(minutes=5)
    assert computed["computed_at"] and computed["plan_id"] == plan["id"]

    # the SBU grid's context, and the report
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    await post(plans, f"{base}/sbus", sbu_body(customer, channel, product), tenant, "supervisor")
    grid = (await plans.get(f"{base}/sbu-grid", headers=tenant.auth("analyst"))).json()
    status = grid["customer_status"]
    assert (status["customers"], status["repurchase_rate"], status["min_repurchase_rate"]) == (2, "0.50", "0.60")
    assert (status["new_customers"], status["orders"], status["stages"]["new"]) == (2, 3, 2)
    report = await plans.get(f"{base}/report", headers=tenant.auth("analyst"))
    doc = lxml_html.fromstring(report.text)
    assert doc.xpath("string(//td[@class='customers'])").startswith("2 (2 new, 0 returning)")
    assert doc.xpath("string(//td[@class='repurchase-rate'])") == "0.50 (plan threshold 0.60)"
    assert doc.xpath("string(//td[@class='member-activity'])") == "1.00"

    # readiness warns below the plan's threshold, and not once the threshold is met
    health = (await plans.get(f"{base}/health", headers=tenant.auth("analyst"))).json()
    warning = [f for f in health["findings"] if f["code"] == "repurchase_rate_below_threshold"]
    assert len(warning) == 1 and warning[0]["severity"] == "warning" and "0.5000" in warning[0]["message"]
    r = await plans.patch(base, json={"min_repurchase_rate": "0.5"}, headers=tenant.auth("executive"))
    assert r.status_code == 200, r.text
    health = (await plans.get(f"{base}/health", headers=tenant.auth("analyst"))).json()
    assert not [f for f in health["findings"] if f["code"] == "repurchase_rate_below_threshold"]


async def test_the_tier_plans_announces_is_applied_by_compliance(
    plans: httpx.AsyncClient, compliance: httpx.AsyncClient, plans_app: Any, compliance_app: Any, tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant)
    base = f"/v1/plans/{plan['id']}"
    gold = {"name": "Gold", "level": 2, "min_orders": 2, "min_spend": {"amount": "400", "currency": "CNY"},
            "window_days": 30}  # fmt: skip
    tier = await post(plans, f"{base}/membership-tiers", gold, tenant, "supervisor")
    seller = await Seller(compliance, tenant).setup()
    for buyer in (buyer_id(3101), buyer_id(3101), buyer_id(3102), buyer_id(3102)):
        await release_import(seller, None, buyer)
    await _relay_plans(plans_app, compliance_app)
    summary = (await compliance.get("/v1/compliance/customers/summary", headers=tenant.auth())).json()
    assert [(t["tier_id"], t["members"]) for t in summary["tiers"]] == [(tier["id"], 2)]  # 2 × 240.02 CNY ≥ 400

    # raised above what they spent: nobody; deleted: gone
    raised = {"min_spend": {"amount": "500", "currency": "CNY"}}
    r = await plans.patch(f"{base}/membership-tiers/{tier['id']}", json=raised, headers=tenant.auth("supervisor"))
    assert r.status_code == 200, r.text
    await _relay_plans(plans_app, compliance_app)
    summary = (await compliance.get("/v1/compliance/customers/summary", headers=tenant.auth())).json()
    assert [t["members"] for t in summary["tiers"]] == [0]
    r = await plans.delete(f"{base}/membership-tiers/{tier['id']}", headers=tenant.auth("supervisor"))
    assert r.status_code == 204
    await _relay_plans(plans_app, compliance_app)
    summary = (await compliance.get("/v1/compliance/customers/summary", headers=tenant.auth())).json()
    assert summary["tiers"] == []


def _signed(data: dict[str, Any], org_id: str, secret_label: str = "compliance->plans") -> tuple[bytes, dict]:
    body = json.dumps({"id": str(uuid.uuid4()), "type": "customers.summary_changed", "org_id": org_id,
                       "timestamp": datetime.now(UTC).isoformat(), "data": data}).encode()  # fmt: skip
    msg_id = "evt_" + uuid.uuid4().hex
    now = datetime.now(UTC)
    signature = Webhook(derive_webhook_secret(SERVICE_SECRET, secret_label)).sign(msg_id, now, body.decode())
    return body, {"content-type": "application/json", "webhook-id": msg_id, "webhook-signature": signature,
                  "webhook-timestamp": str(int(now.timestamp()))}  # fmt: skip


def _summary(computed_at: datetime, customers: int, rate: str | None) -> dict[str, Any]:
    return {"window": {"from": (computed_at - timedelta(days=365)).isoformat(), "to": computed_at.isoformat()},
            "computed_at": computed_at.isoformat(), "customers": customers, "new_customers": customers,
            "returning_customers": 0, "repurchase_rate": rate, "orders": customers,
            "stages": {"new": customers, "active": 0, "at_risk": 0, "lapsed": 0}, "tiers": []}  # fmt: skip


async def test_plans_keeps_the_latest_summary_and_refuses_bad_ones(
    plans: httpx.AsyncClient, plans_app: Any, tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant)
    url = "/internal/events/compliance"
    t0 = datetime.now(UTC)
    for data, expected in ((_summary(t0, 5, "0.2"), "applied"), (_summary(t0 - timedelta(hours=1), 9, "0.9"), "stale"),
                           (_summary(t0 + timedelta(hours=1), 6, None), "applied")):  # fmt: skip
        body, headers = _signed(data, tenant.org_id)
        r = await plans.post(url, content=body, headers=headers)
        assert r.status_code == 200 and r.json()["status"] == expected, r.text
    items = (await plans.get(f"/v1/plans/{plan['id']}/status-snapshots", headers=tenant.auth())).json()["items"]
    assert (items[0]["customer_count"], items[0]["repurchase_rate"]) == (6, None)

    bad = _summary(t0 + timedelta(hours=2), -1, "1.5")
    body, headers = _signed(bad, tenant.org_id)
    assert_problem(await plans.post(url, content=body, headers=headers), 422)
    body, headers = _signed(_summary(t0 + timedelta(hours=3), 1, "0"), tenant.org_id, "someone-else")
    assert_problem(await plans.post(url, content=body, headers=headers), 401)
    items = (await plans.get(f"/v1/plans/{plan['id']}/status-snapshots", headers=tenant.auth())).json()["items"]
    assert items[0]["customer_count"] == 6


async def test_another_organisations_status_is_not_shown(
    plans: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    body, headers = _signed(_summary(datetime.now(UTC), 4, "0.25"), tenant.org_id)
    assert (await plans.post("/internal/events/compliance", content=body, headers=headers)).status_code == 200
    other_plan = await new_plan(plans, other_tenant)
    items = (await plans.get(f"/v1/plans/{other_plan['id']}/status-snapshots", headers=other_tenant.auth())).json()
    assert items["items"] == []
    grid = (await plans.get(f"/v1/plans/{other_plan['id']}/sbu-grid", headers=other_tenant.auth())).json()
    assert grid["customer_status"] is None
