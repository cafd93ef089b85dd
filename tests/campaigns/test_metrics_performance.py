"""Metrics upserts, KPIs with zero denominators, pacing, SBU sums, and the two event-consumer functions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx

from services.campaigns.campaigns.service import attribute_order, pause_campaigns_of_sbu
from services.plans.client_fake import FakePlans
from tests.campaigns.support import new_campaign, row, unique_utm
from tests.support import Tenant, assert_problem


async def put(campaigns: httpx.AsyncClient, campaign_id: str, rows: list, tenant: Tenant, role: str = "specialist"):  # type: ignore[no-untyped-def]
    return await campaigns.put(f"/v1/campaigns/{campaign_id}/metrics", json={"rows": rows}, headers=tenant.auth(role))


async def performance(
    campaigns: httpx.AsyncClient, campaign_id: str, tenant: Tenant, as_of: str = "2026-09-10"
) -> dict:
    response = await campaigns.get(
        f"/v1/campaigns/{campaign_id}/performance", params={"as_of": as_of}, headers=tenant.auth("analyst")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_kpis_totals_pacing_and_zero_denominator_days(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)  # 3000 USD over 30 days of September
    rows = [
        row("2026-09-01", impressions=10000, clicks=200, cost="100.00", conversions=10, revenue="400.00"),
        row("2026-09-02", impressions=0, clicks=0, cost="0", conversions=0, revenue="0"),  # a dark day
        row("2026-09-03", impressions=5000, clicks=0, cost="20.00", conversions=0, revenue="0"),  # no clicks
    ]
    response = await put(campaigns, campaign["id"], rows, tenant)
    assert response.status_code == 200, response.text
    assert response.json() == {"campaign_id": campaign["id"], "upserted": 3}

    perf = await performance(campaigns, campaign["id"], tenant)
    totals = perf["totals"]
    assert totals["impressions"] == 15000 and totals["clicks"] == 200 and totals["conversions"] == 10
    assert totals["cost"] == {"amount": "120.00", "currency": "USD"}
    assert totals["revenue"] == {"amount": "400.00", "currency": "USD"}
    assert perf["kpis"] == {
        "ctr": "0.013333",  # 200/15000
        "cpc": "0.60",  # 120/200
        "cpm": "8.00",  # 1000·120/15000
        "cvr": "0.05",
        "cpa": "12.00",
        "roas": "3.333333",
        "roi": "2.333333",  # (400 − 120)/120
        "open_rate": None,  # nothing sent
    }
    # spent 120 of 3000 in 10 of 30 days: (120/3000)/(10/30) = 0.12
    assert perf["pacing"]["pacing"] == "0.12" and perf["pacing"]["days_elapsed"] == 10
    assert perf["pacing"]["days_total"] == 30
    days = {d["date"]: d for d in perf["by_day"]}
    assert list(days) == ["2026-09-01", "2026-09-02", "2026-09-03"]
    assert days["2026-09-02"]["kpis"] == {k: None for k in perf["kpis"]}
    assert days["2026-09-03"]["kpis"]["ctr"] == "0.00" and days["2026-09-03"]["kpis"]["cpc"] is None
    assert days["2026-09-03"]["kpis"]["cpm"] == "4.00" and days["2026-09-03"]["kpis"]["roas"] == "0.00"
    assert days["2026-09-01"]["kpis"]["cvr"] == "0.05"


async def test_pacing_before_start_is_null(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    perf = await performance(campaigns, campaign["id"], tenant, as_of="2026-08-01")
    assert perf["pacing"]["pacing"] is None and perf["pacing"]["days_elapsed"] == 0
    assert perf["kpis"]["ctr"] is None and perf["by_day"] == []
    after = await performance(campaigns, campaign["id"], tenant, as_of="2027-01-01")
    assert after["pacing"]["days_elapsed"] == 30 and after["pacing"]["pacing"] == "0.00"


async def test_upsert_by_date_and_variant(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    await put(campaigns, campaign["id"], [row("2026-09-01"), row("2026-09-01", "b")], tenant)
    again = await put(
        campaigns, campaign["id"], [row("2026-09-01", clicks=80), row("2026-09-02")], tenant, "integration"
    )
    assert again.status_code == 200, again.text
    perf = await performance(campaigns, campaign["id"], tenant)
    # 2026-09-01 no-variant row replaced (80 clicks), variant b kept (50), 2026-09-02 added (50)
    assert perf["totals"]["clicks"] == 180 and perf["totals"]["impressions"] == 3000


async def test_metrics_validation(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    cid = campaign["id"]
    problem = assert_problem(await put(campaigns, cid, [row("2026-09-01", currency="EUR")], tenant), 422)
    assert problem["errors"][0]["loc"] == ["body", "rows", 0, "cost", "currency"]
    assert_problem(await put(campaigns, cid, [row("2026-09-01", clicks=-1)], tenant), 422)
    assert_problem(await put(campaigns, cid, [row("2026-09-01", clicks=1.5)], tenant), 422)
    assert_problem(await put(campaigns, cid, [row("2026-09-01", clicks="7")], tenant), 422)
    assert_problem(await put(campaigns, cid, [row("2026-09-01", cost="1.0000001")], tenant), 422)  # micros at most
    assert_problem(await put(campaigns, cid, [row("2026-09-01"), row("2026-09-01")], tenant), 422)
    assert_problem(await put(campaigns, cid, [], tenant), 422)
    too_many = [row(f"2026-{m:02d}-{d:02d}", f"v{i}") for i in range(39) for m in (9,) for d in range(1, 27)]
    assert len(too_many) == 1014
    assert_problem(await put(campaigns, cid, too_many, tenant), 422)
    assert (await performance(campaigns, cid, tenant))["totals"]["clicks"] == 0  # nothing stored


async def test_a_thousand_rows_in_one_request(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    rows = [row(f"2026-09-{d:02d}", f"v{i}", clicks=1, conversions=1) for i in range(40) for d in range(1, 26)]
    assert len(rows) == 1000
    response = await put(campaigns, campaign["id"], rows, tenant)
    assert response.status_code == 200 and response.json()["upserted"] == 1000
    perf = await performance(campaigns, campaign["id"], tenant, as_of="2026-09-30")
    assert perf["totals"]["clicks"] == 1000 and len(perf["by_day"]) == 25
    assert perf["totals"]["cost"]["amount"] == "25000.00"


async def test_sbu_performance_sums_its_campaigns(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, other_tenant: Tenant
) -> None:
    sbu_id = fake_plans.add_sbu(tenant.org_id)
    first = await new_campaign(campaigns, fake_plans, tenant, sbu_id=sbu_id)
    second = await new_campaign(
        campaigns,
        fake_plans,
        tenant,
        kind="edm",
        sbu_id=sbu_id,
        budget={"amount": "1000", "currency": "USD"},
        starts_on="2026-09-16",
        ends_on="2026-10-15",
    )
    await put(campaigns, first["id"], [row("2026-09-01", cost="100", revenue="300")], tenant)
    await put(campaigns, second["id"], [row("2026-09-20", cost="60", revenue="0", sends=1000, opens=250)], tenant)
    response = await campaigns.get(
        f"/v1/sbus/{sbu_id}/performance", params={"as_of": "2026-09-30"}, headers=tenant.auth("analyst")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sbu_id"] == sbu_id and body["campaign_count"] == 2
    assert body["totals"]["cost"]["amount"] == "160.00" and body["totals"]["clicks"] == 100
    assert body["kpis"]["roas"] == "1.875" and body["kpis"]["open_rate"] == "0.25"
    # budget 4000 over 2026-09-01..2026-10-15 (45 days), 30 elapsed: (160/4000)/(30/45) = 0.06
    assert body["pacing"]["budget"]["amount"] == "4000.00" and body["pacing"]["pacing"] == "0.06"
    assert [d["date"] for d in body["by_day"]] == ["2026-09-01", "2026-09-20"]
    assert_problem(await campaigns.get(f"/v1/sbus/{sbu_id}/performance", headers=other_tenant.auth()), 404)
    assert_problem(await campaigns.get(f"/v1/sbus/{sbu_id}/performance", headers=tenant.auth("integration")), 403)


async def test_pause_campaigns_of_a_retired_sbu(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, session
) -> None:  # type: ignore[no-untyped-def]
    sbu_id = fake_plans.add_sbu(tenant.org_id)
    made = [await new_campaign(campaigns, fake_plans, tenant, sbu_id=sbu_id) for _ in range(4)]
    moves = [[], ["scheduled"], ["scheduled", "running"], ["scheduled", "running", "completed"]]
    for campaign, path in zip(made, moves, strict=True):
        for to in path:
            await campaigns.post(
                f"/v1/campaigns/{campaign['id']}/transitions", json={"to": to}, headers=tenant.auth("specialist")
            )
    other = await new_campaign(campaigns, fake_plans, tenant)
    await campaigns.post(
        f"/v1/campaigns/{other['id']}/transitions", json={"to": "scheduled"}, headers=tenant.auth("specialist")
    )

    paused = await pause_campaigns_of_sbu(session, tenant.org_id, sbu_id)
    await session.commit()
    assert sorted(c.id for c in paused) == sorted([made[1]["id"], made[2]["id"]])
    statuses = [
        (await campaigns.get(f"/v1/campaigns/{c['id']}", headers=tenant.auth())).json()["status"]
        for c in [*made, other]
    ]
    assert statuses == ["draft", "paused", "paused", "completed", "scheduled"]
    assert await pause_campaigns_of_sbu(session, tenant.org_id, sbu_id) == []


async def test_attributed_orders_are_idempotent_and_shown(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, other_tenant: Tenant, session
) -> None:  # type: ignore[no-untyped-def]
    utm = unique_utm()
    campaign = await new_campaign(campaigns, fake_plans, tenant, utm_campaign=utm)
    at = datetime(2026, 9, 5, 12, tzinfo=UTC)
    outcomes = [
        await attribute_order(session, tenant.org_id, utm, "ebp1:A-1", Decimal("199.90"), "USD", at),
        await attribute_order(session, tenant.org_id, utm, "ebp1:A-1", Decimal("199.90"), "USD", at),
        await attribute_order(session, tenant.org_id, utm, "ebp1:A-2", Decimal("50"), "USD", at),
        await attribute_order(session, tenant.org_id, utm, "ebp1:A-3", Decimal("50"), "EUR", at),
        await attribute_order(session, tenant.org_id, "no-such-utm", "ebp1:A-4", Decimal("1"), "USD", at),
        await attribute_order(session, other_tenant.org_id, utm, "ebp1:A-5", Decimal("1"), "USD", at),
    ]
    await session.commit()
    assert outcomes == [
        "attributed",
        "duplicate",
        "attributed",
        "currency_mismatch",
        "unknown_campaign",
        "unknown_campaign",
    ]
    totals = (await performance(campaigns, campaign["id"], tenant))["totals"]
    assert totals["attributed_orders"] == 2
    assert totals["attributed_revenue"] == {"amount": "249.90", "currency": "USD"}
