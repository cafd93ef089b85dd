"""Platform reports imported as published (tests/campaigns/platforms/, sources in SOURCES.md there): each row
placed on the campaign whose external_refs names its platform campaign, figures as the platform counts them
(micros ÷ 10⁶, fractional conversions, one Meta purchase type, Amazon's window per campaign), the same report
twice changes nothing, unknown platform campaigns listed; and released ROAS beside claimed ROAS."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.campaigns.events import announce_changed_sbus
from shared.context import context_of
from shared.schemas import format_decimal
from tests.campaigns.support import FakePlans, campaign_body, new_campaign
from tests.campaigns.test_events import _events, _signed
from tests.support import Tenant, assert_problem

FIXTURES = Path(__file__).parent / "platforms"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def _import(
    campaigns: httpx.AsyncClient, tenant: Tenant, body: bytes, content_type: str = "application/json", **params: Any
) -> httpx.Response:
    return await campaigns.post(
        "/v1/campaigns/metrics/imports",
        content=body,
        params=params,
        headers={**tenant.auth("integration"), "content-type": content_type},
    )


async def _campaign(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, *refs: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    return await new_campaign(campaigns, fake_plans, tenant, external_refs=list(refs), **kw)


async def _perf(campaigns: httpx.AsyncClient, tenant: Tenant, campaign_id: str) -> dict[str, Any]:
    response = await campaigns.get(
        f"/v1/campaigns/{campaign_id}/performance", params={"as_of": "2026-09-10"}, headers=tenant.auth("analyst")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _figures(perf: dict[str, Any]) -> tuple[Any, ...]:
    t = perf["totals"]
    return (t["impressions"], t["clicks"], t["cost"]["amount"], t["conversions"], t["revenue"]["amount"])


def _by_day(perf: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        d["date"]: (d["impressions"], d["clicks"], d["cost"]["amount"], d["conversions"], d["revenue"]["amount"])
        for d in perf["by_day"]
    }


GOOGLE = [
    {"platform": "google_ads", "account_id": "1234567890", "campaign_id": "21000000001"},
    {"platform": "google_ads", "account_id": "1234567890", "campaign_id": "21000000002"},
]


@pytest.mark.parametrize(
    ("name", "content_type", "skipped"),
    [
        ("google_ads_search_stream.json", "application/json", 0),
        ("google_ads_ui.csv", "text/csv", 2),  # the two "Total:" lines
    ],
)
async def test_google_ads_reports_fan_out_with_micros_and_fractional_conversions(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, name: str, content_type: str, skipped: int
) -> None:
    search = await _campaign(campaigns, fake_plans, tenant, GOOGLE[0])
    display = await _campaign(campaigns, fake_plans, tenant, GOOGLE[1], kind="sem")
    response = await _import(campaigns, tenant, fixture(name), content_type)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["format"] == ("google_ads_api" if name.endswith(".json") else "google_ads_csv")
    assert {c["campaign_id"]: (c["rows"], c["days"]) for c in answer["campaigns"]} == {
        search["id"]: (2, 2),
        display["id"]: (1, 1),
    }
    # the platform campaign no campaign names is listed, not dropped
    assert [(u["campaign_id"], u["rows"]) for u in answer["unknown"]] == [("21000000099", 1)]
    assert len(answer["skipped"]) == skipped and all("total" in s["reason"] for s in answer["skipped"])
    # a view-through day: 5.5 conversions on 3 clicks, 4 of them counted on views — kept and shown
    (flag,) = next(c for c in answer["campaigns"] if c["campaign_id"] == search["id"])["conversions_above_clicks"]
    assert flag == {"date": "2026-09-02", "clicks": 3, "conversions": 5.5, "view_through_conversions": 4}

    perf = await _perf(campaigns, tenant, search["id"])
    # costMicros 86420000 + 4150000 = 90.57 USD exactly; conversions 2.37 + 5.5; value 348.75 + 1062.5
    assert _figures(perf) == (7190, 123, "90.57", 7.87, "1411.25")
    assert _by_day(perf) == {
        "2026-09-01": (4210, 120, "86.42", 2.37, "348.75"),
        "2026-09-02": (2980, 3, "4.15", 5.5, "1062.50"),
    }
    # the API's micros are kept exactly (21374562 micros); the UI export rounds its Cost column to cents
    display_cost = "21.374562" if name.endswith(".json") else "21.37"
    assert _figures(await _perf(campaigns, tenant, display["id"])) == (18764, 57, display_cost, 0, "0.00")

    again = await _import(campaigns, tenant, fixture(name), content_type)
    assert again.status_code == 200 and again.json()["campaigns"] == answer["campaigns"]
    assert await _perf(campaigns, tenant, search["id"]) == perf  # the same report again changes nothing


async def test_another_organisations_platform_campaigns_are_unknown_to_it(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = await _campaign(campaigns, fake_plans, tenant, GOOGLE[0])
    response = await _import(campaigns, other_tenant, fixture("google_ads_search_stream.json"))
    assert response.status_code == 200, response.text
    assert response.json()["campaigns"] == [] and len(response.json()["unknown"]) == 3
    assert _figures(await _perf(campaigns, tenant, mine["id"]))[0] == 0  # nothing reached this organisation
    # and the other organisation may name the same platform campaign for its own campaign
    theirs = await new_campaign(campaigns, fake_plans, other_tenant, external_refs=[GOOGLE[0]])
    assert theirs["external_refs"] == [GOOGLE[0]]


async def test_a_newer_overlapping_report_replaces_the_days_it_covers(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    search = await _campaign(campaigns, fake_plans, tenant, GOOGLE[0])
    assert (await _import(campaigns, tenant, fixture("google_ads_search_stream.json"))).status_code == 200
    newer = json.loads(fixture("google_ads_search_stream.json"))
    newer[0]["results"] = [newer[0]["results"][1]]  # only 2026-09-02, conversions restated by the platform
    newer[0]["results"][0]["metrics"]["conversions"] = 6.25
    assert (await _import(campaigns, tenant, json.dumps(newer).encode())).status_code == 200
    days = _by_day(await _perf(campaigns, tenant, search["id"]))
    assert days["2026-09-02"][3] == 6.25 and days["2026-09-01"] == (4210, 120, "86.42", 2.37, "348.75")


async def test_clicks_above_impressions_is_still_422_and_nothing_is_stored(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    search = await _campaign(campaigns, fake_plans, tenant, GOOGLE[0])
    display = await _campaign(campaigns, fake_plans, tenant, GOOGLE[1])
    broken = json.loads(fixture("google_ads_search_stream.json"))
    broken[0]["results"][2]["metrics"]["clicks"] = "20000"  # the Display row: more clicks than its 18764 impressions
    problem = assert_problem(await _import(campaigns, tenant, json.dumps(broken).encode()), 422)
    assert "21000000002 on 2026-09-01" in problem["detail"] and "cannot exceed impressions" in problem["detail"]
    for campaign in (search, display):  # the good campaign's rows are not stored either
        assert _figures(await _perf(campaigns, tenant, campaign["id"]))[0] == 0
    negative = json.loads(fixture("google_ads_search_stream.json"))
    negative[0]["results"][0]["metrics"]["costMicros"] = "-1000000"
    assert_problem(await _import(campaigns, tenant, json.dumps(negative).encode()), 422)


META = {"platform": "meta", "account_id": "1020304050", "campaign_id": "120210000000000001"}


@pytest.mark.parametrize(
    ("name", "content_type"), [("meta_insights.json", "application/json"), ("meta_ads_manager.csv", "text/csv")]
)
async def test_meta_reports_take_one_purchase_type_and_keep_view_through_days(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, name: str, content_type: str
) -> None:
    campaign = await _campaign(campaigns, fake_plans, tenant, META)
    response = await _import(campaigns, tenant, fixture(name), content_type)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["platform"] == "meta"
    assert [(u["campaign_id"], u["rows"]) for u in answer["unknown"]] == [("120210000000000777", 1)]
    perf = await _perf(campaigns, tenant, campaign["id"])
    # purchases 4 and 9 from omni_purchase alone (never 4 + 4 + 4 over the overlapping types); 9 on 6 clicks kept
    assert _by_day(perf) == {
        "2026-09-01": (15320, 212, "143.27", 4, "1196.00"),
        "2026-09-02": (9874, 6, "98.10", 9, "2691.00"),
    }
    (flag,) = answer["campaigns"][0]["conversions_above_clicks"]
    assert (flag["date"], flag["clicks"], flag["conversions"]) == ("2026-09-02", 6, 9)


async def test_meta_purchase_action_types_are_configurable(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await _campaign(campaigns, fake_plans, tenant, META)
    response = await _import(
        campaigns, tenant, fixture("meta_insights.json"), purchase_action_types="offsite_conversion.fb_pixel_purchase"
    )
    assert response.status_code == 200, response.text
    days = _by_day(await _perf(campaigns, tenant, campaign["id"]))
    assert (days["2026-09-01"][3], days["2026-09-01"][4]) == (4, "1196.00")
    assert (days["2026-09-02"][3], days["2026-09-02"][4]) == (0, "0.00")  # the pixel counted none that day


async def test_the_insights_documentation_example_is_read_and_its_period_row_skipped(
    campaigns: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Meta's own example covers 30 days in one row: not a daily row, so skipped and said why."""
    response = await _import(campaigns, tenant, fixture("meta_insights_docs_example.json"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["format"] == "meta_insights" and answer["rows_read"] == 1 and answer["campaigns"] == []
    assert "covers 2025-03-14 – 2025-04-12" in answer["skipped"][0]["reason"]


async def test_tiktok_rows_are_summed_per_day_in_the_advertisers_currency(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await _campaign(campaigns, fake_plans, tenant, {"platform": "tiktok", "campaign_id": "1790000000000001"})
    body = fixture("tiktok_integrated_report.json")
    problem = assert_problem(await _import(campaigns, tenant, body), 422)  # TikTok reports no currency
    assert "currency" in problem["detail"]
    response = await _import(campaigns, tenant, body, currency="USD")
    assert response.status_code == 200, response.text
    assert [(u["campaign_id"], u["rows"]) for u in response.json()["unknown"]] == [("1790000000000404", 1)]
    perf = await _perf(campaigns, tenant, campaign["id"])
    assert _by_day(perf) == {
        "2026-09-01": (19102, 118, "52.35", 3, "597.00"),  # two rows of the day summed
        "2026-09-02": (20411, 188, "61.20", 3, "597.00"),
    }
    skipped = (await _import(campaigns, tenant, body, currency="EUR")).json()["skipped"]
    assert any("in EUR; campaign" in s["reason"] for s in skipped)  # another currency is never summed in


async def test_amazon_ads_counts_the_window_chosen_per_campaign(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    products = await _campaign(
        campaigns, fake_plans, tenant, {"platform": "amazon_ads", "campaign_id": "281234567890123"}
    )
    brands = await _campaign(
        campaigns,
        fake_plans,
        tenant,
        {"platform": "amazon_ads", "campaign_id": "281234567890999", "attribution_window": "14d"},
    )
    response = await _import(campaigns, tenant, fixture("amazon_ads_sp_campaigns.json"))
    assert response.status_code == 200, response.text
    windows = {c["campaign_id"]: c["attribution_window"] for c in response.json()["campaigns"]}
    assert windows == {products["id"]: "7d", brands["id"]: "14d"}
    assert _figures(await _perf(campaigns, tenant, products["id"])) == (10300, 78, "44.92", 5, "249.95")
    assert _figures(await _perf(campaigns, tenant, brands["id"])) == (2100, 12, "6.60", 1, "49.99")


async def test_mailchimp_report_is_booked_on_the_send_day_in_the_accounts_zone(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await _campaign(
        campaigns, fake_plans, tenant, {"platform": "mailchimp", "campaign_id": "42694e9e57"}, kind="edm"
    )
    response = await _import(campaigns, tenant, fixture("mailchimp_report.json"), time_zone="America/New_York")
    assert response.status_code == 200, response.text
    perf = await _perf(campaigns, tenant, campaign["id"])
    (day,) = perf["by_day"]
    assert day["date"] == "2026-09-01"  # 02:30 UTC on the 2nd is the evening of the 1st in New York
    t = perf["totals"]
    # unique opens (not opens_total 2950, which counts repeats), unique subscriber clicks, revenue without shipping
    assert (t["sends"], t["opens"], t["clicks"], t["unsubscribes"]) == (2400, 1032, 174, 7)
    assert (t["conversions"], t["revenue"]["amount"]) == (6, "1194.00")


async def test_klaviyo_values_report_is_booked_on_the_day_named(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await _campaign(
        campaigns, fake_plans, tenant, {"platform": "klaviyo", "campaign_id": "01J7XQ3M2V9C0ZP8H6Y4K1T5RD"}, kind="edm"
    )
    body = fixture("klaviyo_campaign_values.json")
    assert "date=" in assert_problem(await _import(campaigns, tenant, body, currency="USD"), 422)["detail"]
    response = await _import(campaigns, tenant, body, currency="USD", date="2026-09-03")
    assert response.status_code == 200, response.text
    assert [u["campaign_id"] for u in response.json()["unknown"]] == ["01J7XQ3M2V9C0ZP8H6Y4K1T9ZZ"]
    t = (await _perf(campaigns, tenant, campaign["id"]))["totals"]
    assert (t["sends"], t["opens"], t["clicks"], t["conversions"], t["revenue"]["amount"]) == (
        1800,
        702,
        95,
        5,
        "995.00",
    )


async def test_klaviyos_own_example_without_recipients_is_skipped_with_its_reason(
    campaigns: httpx.AsyncClient, tenant: Tenant
) -> None:
    results = json.loads(fixture("klaviyo_openapi_results_example.json"))
    body = {"data": {"type": "campaign-values-report", "attributes": {"results": results}}}
    response = await _import(campaigns, tenant, json.dumps(body).encode(), date="2026-09-03")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["format"] == "klaviyo_campaign_values" and answer["campaigns"] == []
    assert [s["row"] for s in answer["skipped"]] == ["results[0]", "results[1]"]
    assert all("no recipients" in s["reason"] for s in answer["skipped"])


async def test_unreadable_reports_are_422(campaigns: httpx.AsyncClient, tenant: Tenant) -> None:
    for body, params in (
        (b"", {}),
        (b"{not json", {}),
        (b'{"hello": "world"}', {}),
        (b"a,b\n1,2\n", {}),
        (fixture("google_ads_ui.csv"), {"format": "meta_insights"}),
        (fixture("mailchimp_report.json"), {"time_zone": "Mars/Olympus"}),
    ):
        assert_problem(await _import(campaigns, tenant, body, **params), 422)
    assert_problem(await _import(campaigns, tenant, b"{}", format="excel"), 422)


async def test_a_platform_campaign_names_one_campaign_only(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    first = await _campaign(campaigns, fake_plans, tenant, GOOGLE[0])
    assert first["external_refs"] == [GOOGLE[0]]
    sbu_id = fake_plans.add_sbu(tenant.org_id)

    taken = await campaigns.post(
        "/v1/campaigns",
        json=campaign_body(sbu_id, external_refs=[GOOGLE[0]]),
        headers=tenant.auth("specialist"),
    )
    assert "21000000001 already names campaign" in assert_problem(taken, 409)["detail"]
    moved = await campaigns.patch(
        f"/v1/campaigns/{first['id']}", json={"external_refs": [GOOGLE[1]]}, headers=tenant.auth("specialist")
    )
    assert moved.status_code == 200 and moved.json()["external_refs"] == [GOOGLE[1]]
    again = await campaigns.post(
        "/v1/campaigns", json=campaign_body(sbu_id, external_refs=[GOOGLE[0]]), headers=tenant.auth("specialist")
    )
    assert again.status_code == 201, again.text  # released by the first campaign


# --- released ROAS beside claimed ROAS --------------------------------------------------------------------------


def _order(order_no: str, amount: str, utm: str = "golf-sem") -> dict[str, Any]:
    return {
        "ebp_code": "EBP001",
        "order_no": order_no,
        "state": "released",
        "utm_campaign": utm,
        "amount": amount,
        "currency": "USD",
    }


async def test_claimed_and_released_roas_side_by_side_returns_deducted(
    campaigns: httpx.AsyncClient, campaigns_app: Any, fake_plans: FakePlans, tenant: Tenant
) -> None:
    search = await _campaign(campaigns, fake_plans, tenant, GOOGLE[0], utm_campaign="golf-sem")
    assert (await _import(campaigns, tenant, fixture("google_ads_search_stream.json"))).status_code == 200
    released = [_order("A1", "500.00"), _order("A2", "300.00"), _order("A3", "120.00", utm="other")]
    for n, order in enumerate(released):
        body, headers = _signed("compliance", "order.released", tenant.org_id, order, f"evt-rel-{n}")
        assert (await campaigns.post("/internal/events/compliance", content=body, headers=headers)).status_code == 200
    # A2 came back whole (customs approved the return): its revenue is deducted
    returned = {**_order("A2", "300.00"), "state": "returned_by_buyer", "returned_amount": "300.00"}
    body, headers = _signed("compliance", "order.returned", tenant.org_id, returned, "evt-ret-1")
    answer = await campaigns.post("/internal/events/compliance", content=body, headers=headers)
    assert answer.json() == {"status": "deducted"}
    again = await campaigns.post("/internal/events/compliance", content=body, headers=headers)
    assert again.json() == {"status": "duplicate"}

    spend, claimed, verified = Decimal("90.57"), Decimal("1411.25"), Decimal("500.00")  # A1 only
    six = Decimal("0.000001")
    expected = {
        "currency": "USD",
        "spend": {"amount": "90.57", "currency": "USD"},
        "claimed_value": {"amount": "1411.25", "currency": "USD"},
        "released_revenue": {"amount": "500.00", "currency": "USD"},
        "claimed_roas": format_decimal((claimed / spend).quantize(six)),
        "released_roas": format_decimal((verified / spend).quantize(six)),
        "gap": format_decimal((claimed / spend).quantize(six) - (verified / spend).quantize(six)),
    }
    perf = await _perf(campaigns, tenant, search["id"])
    assert perf["roas"] == expected
    assert perf["totals"]["attributed_orders"] == 2
    assert perf["totals"]["attributed_revenue"]["amount"] == "800.00"
    assert perf["totals"]["returned_revenue"]["amount"] == "300.00"
    sbu = await campaigns.get(
        f"/v1/sbus/{search['sbu_id']}/performance", params={"as_of": "2026-09-10"}, headers=tenant.auth()
    )
    assert sbu.json()["roas"] == expected

    await announce_changed_sbus(context_of(campaigns_app).sessionmaker)
    announced = (await _events(campaigns_app, tenant.org_id, "sbu.performance_changed"))[-1]
    assert (announced["revenue"], announced["released_revenue"]) == ("1411.25", "500.00")
    assert announced["released_roas"] == expected["released_roas"]
    assert announced["campaigns"][0]["released_revenue"] == "500.00"
    assert announced["campaigns"][0]["variants"][0]["conversions"] == "7.87"
