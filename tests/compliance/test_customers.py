"""The customer register over a season: counts, repurchase rate, stages and tiers equal to the figures worked
out by hand below; a declared return takes its order out; other organisations and bad filters are refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.compliance.customers.announce import announce_summaries
from services.compliance.customers.models import Customer, CustomerOrder
from services.compliance.events import EVENTS
from shared.context import context_of
from tests.compliance.customer_season import (
    WINDOW,
    Clock,
    announce_tier,
    export_order,
    release_export,
    release_import,
    return_order,
    tier,
)
from tests.compliance.support import Seller, buyer_id, new_order_no
from tests.support import assert_problem


async def _season(compliance, compliance_app, tenant, monkeypatch):  # type: ignore[no-untyped-def]
    """Buyers and the days before the window's end their orders were released (R = returned afterwards):

    I1 400, 100, 20 · I2 10, 5 · I3 120 · I4 60, 50R · I5 170R · I6 300 (imports, by ID number)
    X1 150 (Jane.Roe@Example.com), 40 ("  JANE.ROE@example.COM ", so the same buyer) · X2 200 (phone only)
    """
    seller = await Seller(compliance, tenant).setup()
    clock = Clock(monkeypatch)
    i = {n: buyer_id(1000 + n) for n in range(1, 7)}
    for n, days in ((1, 400), (1, 100), (1, 20), (2, 10), (2, 5), (3, 120), (4, 60), (6, 300)):
        await release_import(seller, clock, i[n], days)
    returned_4 = await release_import(seller, clock, i[4], 50)
    returned_5 = await release_import(seller, clock, i[5], 170)
    await return_order(seller, returned_4)  # within 30 days of its release, on the season's clock
    clock.days_before_end(165)
    await return_order(seller, returned_5)

    x1 = export_order(new_order_no(), 2001, "100.00", email="Jane.Roe@Example.com", phone="+1 415 555 0123",
                      country="US")  # fmt: skip
    x1b = export_order(new_order_no(), 2002, "50.00", email="  JANE.ROE@example.COM ", phone="+1 415 555 0177",
                       country=None)  # fmt: skip
    x2 = export_order(new_order_no(), 2003, "80.00", email=None, phone="(415) 555-0199", country="US")
    await release_export(compliance_app, seller, clock, x1, 150)
    await release_export(compliance_app, seller, clock, x1b, 40)
    await release_export(compliance_app, seller, clock, x2, 200)
    return seller, i, (x1, x1b, x2)


async def test_a_season_gives_the_figures_worked_out_by_hand(compliance, compliance_app, tenant, monkeypatch):
    await _season(compliance, compliance_app, tenant, monkeypatch)
    plan_id, gold, member = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    assert (await announce_tier(compliance, tenant, "membership_tier.created", tier(gold, plan_id, "Gold", 2, 2)))[
        "status"
    ] == "applied"
    await announce_tier(compliance, tenant, "membership_tier.created", tier(member, plan_id, "Member", 1, 1))

    r = await compliance.get(f"/v1/compliance/customers/summary?{WINDOW}", headers=tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    s = r.json()
    # in the window: I1 (2 orders), I2 (2), I3, I4 (its second order returned), I6, X1 (2), X2; I5 returned all
    assert s["window"] == {"from": "2025-07-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}
    assert s["customers"] == 7
    assert s["returning_customers"] == 1  # I1 had ordered before the window
    assert s["new_customers"] == 6
    assert s["repurchase_rate"] == "0.4286"  # I1, I2, X1: 3 of 7
    assert s["orders"] == 10
    assert s["revenue"] == [{"amount": "1680.14", "currency": "CNY"}, {"amount": "230.00", "currency": "USD"}]
    assert s["aov"] == [{"amount": "240.02", "currency": "CNY"}, {"amount": "76.67", "currency": "USD"}]
    # new: I2 (first order 10 days ago) · active (≤ 90): I1, I4, X1 · at risk (90–180): I3 · lapsed: I6, X2
    assert s["stages"] == {"new": 1, "active": 3, "at_risk": 1, "lapsed": 2}
    # Gold (≥ 2 orders in 365 days): I1, I2, X1, all ordered within 90 days; Member: I3, I4, I6, X2 — only I4
    tiers = {t["name"]: t for t in s["tiers"]}
    assert (tiers["Gold"]["members"], tiers["Gold"]["active_members"], tiers["Gold"]["activity_rate"]) == (3, 3, "1.00")
    assert (tiers["Member"]["members"], tiers["Member"]["activity_rate"]) == (4, "0.25")
    assert s["member_activity_rate"] == "0.5714"

    # one direction, and a narrower window (only the last 30 days: I1's and I2's, I4's is returned, X1's at 40)
    r = await compliance.get(f"/v1/compliance/customers/summary?{WINDOW}&trade_direction=export", headers=tenant.auth())
    e = r.json()
    assert (e["customers"], e["orders"], e["repurchase_rate"], e["stages"]["lapsed"]) == (2, 3, "0.50", 1)
    r = await compliance.get("/v1/compliance/customers/summary?from=2026-06-01&to=2026-06-30", headers=tenant.auth())
    m = r.json()
    assert (m["customers"], m["orders"], m["returning_customers"], m["new_customers"]) == (2, 3, 1, 1)


async def test_a_declared_return_takes_its_order_out(compliance, compliance_app, tenant, monkeypatch):
    seller = await Seller(compliance, tenant).setup()
    clock = Clock(monkeypatch)
    buyer = buyer_id(1100)
    await release_import(seller, clock, buyer, 20)
    second = await release_import(seller, clock, buyer, 10)
    url = f"/v1/compliance/customers/summary?{WINDOW}"
    before = (await compliance.get(url, headers=tenant.auth())).json()
    assert (before["customers"], before["orders"], before["repurchase_rate"]) == (1, 2, "1.00")
    await return_order(seller, second)
    after = (await compliance.get(url, headers=tenant.auth())).json()
    assert (after["customers"], after["orders"], after["repurchase_rate"]) == (1, 1, "0.00")
    assert after["revenue"] == [{"amount": "240.02", "currency": "CNY"}]


async def test_the_register_keeps_no_identifier_in_clear(compliance, compliance_app, tenant, monkeypatch):
    seller = await Seller(compliance, tenant).setup()
    clock = Clock(monkeypatch)
    buyer = buyer_id(1200)
    await release_import(seller, clock, buyer, 3)
    x = export_order(new_order_no(), 2200, "10.00", email="someone@example.org", phone="+44 20 7946 0958",
                     country="GB", customs_country="303")  # fmt: skip
    await release_export(compliance_app, seller, clock, x, 2)
    async with context_of(compliance_app).sessionmaker() as session:
        rows = (await session.execute(select(Customer).where(Customer.org_id == tenant.org_id))).scalars().all()
        orders = (await session.execute(select(CustomerOrder).where(CustomerOrder.org_id == tenant.org_id))).all()
    assert len(rows) == 2 and len(orders) == 2
    stored = " ".join(str(vars(r)) for r in rows)
    for clear in (buyer, "someone@example.org", "someone", "+442079460958", "2079460958"):
        assert clear not in stored
    # the order as stored and shown keeps no email either
    view = await seller.order(x["order_no"])
    assert "someone" not in str(view)


async def test_the_summary_refuses_bad_filters_and_other_orgs_sources(compliance, tenant, other_tenant):
    seller = await Seller(compliance, tenant).setup()
    url = "/v1/compliance/customers/summary"
    assert_problem(await compliance.get(f"{url}?from=2026-02-01&to=2026-01-01", headers=tenant.auth()), 422)
    assert_problem(await compliance.get(f"{url}?trade_direction=sideways", headers=tenant.auth()), 422)
    assert_problem(await compliance.get(f"{url}?from=2026-13-01", headers=tenant.auth()), 422)
    shop = seller.sources["shop"]["id"]
    assert (await compliance.get(f"{url}?source_id={shop}", headers=tenant.auth())).status_code == 200
    assert_problem(await compliance.get(f"{url}?source_id={shop}", headers=other_tenant.auth()), 404)
    pay = seller.sources["pay"]["id"]
    assert_problem(await compliance.get(f"{url}?source_id={pay}", headers=tenant.auth()), 422)
    empty = (await compliance.get(url, headers=other_tenant.auth())).json()
    assert (empty["customers"], empty["repurchase_rate"], empty["member_activity_rate"]) == (0, None, None)
    assert_problem(await compliance.get(url, headers=tenant.auth("integration")), 403)


async def test_lifecycle_windows_are_the_organisations_own(compliance, compliance_app, tenant, monkeypatch):
    seller = await Seller(compliance, tenant).setup()
    clock = Clock(monkeypatch)
    await release_import(seller, clock, buyer_id(1300), 45)  # active by default (≤ 90 days)
    url = f"/v1/compliance/customers/summary?{WINDOW}"
    assert (await compliance.get(url, headers=tenant.auth())).json()["stages"]["active"] == 1
    body = {"new_days": 7, "active_days": 30, "at_risk_days": 60}
    assert_problem(
        await compliance.put("/v1/compliance/customers/lifecycle", json=body, headers=tenant.auth("analyst")), 403
    )
    r = await compliance.put("/v1/compliance/customers/lifecycle", json=body, headers=tenant.auth())
    assert r.status_code == 200 and r.json() == body
    assert (await compliance.get(url, headers=tenant.auth())).json()["stages"] == {
        "new": 0, "active": 0, "at_risk": 1, "lapsed": 0}  # fmt: skip
    bad = {"new_days": 100, "active_days": 30, "at_risk_days": 60}
    assert_problem(await compliance.put("/v1/compliance/customers/lifecycle", json=bad, headers=tenant.auth()), 422)


async def test_a_late_tier_event_changes_nothing(compliance, tenant):
    plan_id, tier_id = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)
    newer = tier(tier_id, plan_id, "Gold", 2, 3, changed_at=now.isoformat())
    older = tier(tier_id, plan_id, "Old Gold", 2, 1, changed_at=(now - timedelta(minutes=1)).isoformat())
    assert (await announce_tier(compliance, tenant, "membership_tier.updated", newer))["status"] == "applied"
    assert (await announce_tier(compliance, tenant, "membership_tier.updated", older))["status"] == "stale"
    s = (await compliance.get("/v1/compliance/customers/summary", headers=tenant.auth())).json()
    assert [t["name"] for t in s["tiers"]] == ["Gold"]
    gone = tier(tier_id, plan_id, "Gold", 2, 3, changed_at=(now + timedelta(minutes=1)).isoformat())
    await announce_tier(compliance, tenant, "membership_tier.deleted", gone)
    s = (await compliance.get("/v1/compliance/customers/summary", headers=tenant.auth())).json()
    assert s["tiers"] == []


async def test_one_new_buyers_orders_arriving_at_once_make_one_customer(compliance, compliance_app, tenant):
    """Two first orders of the same new buyer in two concurrent requests (different order numbers, so no lock
    is shared): the register's unique key decides, and both orders belong to one customer."""
    await Seller(compliance, tenant).setup()
    integration = tenant.auth("integration")
    orders = [
        export_order(
            new_order_no(), 2300 + n, "15.00", email="Same.Buyer@example.net", phone="+14155550142", country="US"
        )
        for n in range(4)
    ]
    responses = await asyncio.gather(
        *(compliance.post("/v1/compliance/orders", json=o, headers=integration) for o in orders)
    )
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    async with context_of(compliance_app).sessionmaker() as session:
        customers = (await session.execute(select(Customer).where(Customer.org_id == tenant.org_id))).scalars().all()
        noted = (
            (await session.execute(select(CustomerOrder).where(CustomerOrder.org_id == tenant.org_id))).scalars().all()
        )
    assert len(customers) == 1
    assert len(noted) == 4 and {o.customer_id for o in noted} == {customers[0].id}


async def test_summary_changed_is_announced_once_per_pass_and_again_a_day_later(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    for n in (1400, 1400, 1401):
        await release_import(seller, None, buyer_id(n))

    async def announced() -> list[dict]:
        E = EVENTS.OutboxEvent
        async with context_of(compliance_app).sessionmaker() as session:
            stmt = select(E).where(E.org_id == tenant.org_id, E.type == "customers.summary_changed")
            return [e.payload for e in (await session.execute(stmt.order_by(E.occurred_at))).scalars()]

    await announce_summaries(context_of(compliance_app).sessionmaker)
    first = await announced()
    assert len(first) == 1  # three releases, one event
    assert (first[0]["customers"], first[0]["orders"], first[0]["repurchase_rate"]) == (2, 3, "0.50")
    assert first[0]["window"]["to"] == first[0]["computed_at"]
    await announce_summaries(context_of(compliance_app).sessionmaker)
    assert len(await announced()) == 1  # nothing changed since
    await announce_summaries(context_of(compliance_app).sessionmaker, now=datetime.now(UTC) + timedelta(hours=25))
    assert len(await announced()) == 2  # a day later: stages move with time alone
