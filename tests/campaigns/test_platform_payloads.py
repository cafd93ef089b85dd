"""Payloads the platforms (or their official SDKs) wrote, imported unchanged (sources in platforms/SOURCES.md):
each platform campaign id is mapped with external_refs, and the expected figures are worked out here from the
payload by the platform's documented semantics, not copied from XBM's answer."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.campaigns.support import FakePlans, new_campaign
from tests.campaigns.test_platform_imports import FIXTURES, _import, fixture
from tests.support import assert_problem

# Mailchimp's official Swift SDK wire tests date every send 2024-01-15: the campaign runs that January
JANUARY = {"starts_on": "2024-01-01", "ends_on": "2024-01-31"}


async def _totals_by_day(campaigns: httpx.AsyncClient, tenant: Any, campaign_id: str) -> dict[str, dict[str, Any]]:
    response = await campaigns.get(
        f"/v1/campaigns/{campaign_id}/performance", params={"as_of": "2024-02-01"}, headers=tenant.auth("analyst")
    )
    assert response.status_code == 200, response.text
    return {d["date"]: d for d in response.json()["by_day"]}


async def test_mailchimps_own_campaign_report_imports_as_mailchimp_counts_it(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Any
) -> None:
    body = fixture("mailchimp_sdk_get_campaign_report.json")
    report = json.loads(body)
    campaign = await new_campaign(
        campaigns,
        fake_plans,
        tenant,
        kind="edm",
        external_refs=[{"platform": "mailchimp", "campaign_id": report["id"]}],
        **JANUARY,
    )
    response = await _import(campaigns, tenant, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["format"] == "mailchimp_report" and answer["unknown"] == [] and answer["skipped"] == []
    assert [(c["campaign_id"], c["rows"]) for c in answer["campaigns"]] == [(campaign["id"], 1)]

    # Mailchimp's semantics, from the payload: the send's day (send_time in UTC, the default zone), emails_sent
    # as sends, unique opens (never opens_total), unique subscriber clicks, total_orders and total_revenue (not
    # total_spent) of ecommerce in its currency_code
    day = report["send_time"][:10]
    expected_value = Decimal(str(report["ecommerce"]["total_revenue"])).quantize(Decimal("0.01"))
    got = (await _totals_by_day(campaigns, tenant, campaign["id"]))[day]
    assert (got["sends"], got["opens"], got["clicks"], got["unsubscribes"]) == (
        report["emails_sent"],
        report["opens"]["unique_opens"],
        report["clicks"]["unique_subscriber_clicks"],
        report["unsubscribed"],
    )
    assert got["conversions"] == report["ecommerce"]["total_orders"]
    assert got["revenue"] == {"amount": str(expected_value), "currency": report["ecommerce"]["currency_code"]}
    assert got["impressions"] == report["emails_sent"]  # an email's impressions are its sends

    again = await _import(campaigns, tenant, body)
    assert again.status_code == 200 and again.json()["campaigns"] == answer["campaigns"]
    assert (await _totals_by_day(campaigns, tenant, campaign["id"]))[day] == got  # the same report changes nothing


async def test_mailchimps_own_report_list_lists_an_unnamed_campaign_and_books_a_named_one(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Any
) -> None:
    body = fixture("mailchimp_sdk_list_campaign_reports.json")
    (report,) = json.loads(body)["reports"]

    unnamed = await _import(campaigns, tenant, body)
    assert unnamed.status_code == 200, unnamed.text
    assert [(u["campaign_id"], u["rows"]) for u in unnamed.json()["unknown"]] == [(report["id"], 1)]

    campaign = await new_campaign(
        campaigns,
        fake_plans,
        tenant,
        kind="edm",
        external_refs=[{"platform": "mailchimp", "campaign_id": report["id"]}],
        **JANUARY,
    )
    response = await _import(campaigns, tenant, body)
    assert response.status_code == 200, response.text
    assert response.json()["unknown"] == []
    got = (await _totals_by_day(campaigns, tenant, campaign["id"]))[report["send_time"][:10]]
    # this summary carries no opens, clicks or orders: none are invented
    assert (got["sends"], got["opens"], got["clicks"], got["unsubscribes"], got["conversions"]) == (
        report["emails_sent"],
        0,
        0,
        report["unsubscribed"],
        0,
    )
    assert got["revenue"] == {"amount": "0.00", "currency": report["ecommerce"]["currency_code"]}


async def test_klaviyos_repeat_counting_opens_are_not_taken_for_unique_opens(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Any
) -> None:
    """Klaviyo's own example asks for ``opens`` (every open, repeats included). A request naming recipients
    as well gets the same results with recipients beside them; repeats may exceed the recipients, and must
    neither be refused as impossible nor counted as unique opens."""
    results = json.loads(fixture("klaviyo_openapi_results_example.json"))
    recipients = 100  # fewer than Klaviyo's 123 and 97 opens: people open more than once
    for result in results:
        result["statistics"]["recipients"] = recipients
    body = {"data": {"type": "campaign-values-report", "attributes": {"results": results}}}
    first, second = (r["groupings"]["campaign_id"] for r in results)
    campaign = await new_campaign(
        campaigns,
        fake_plans,
        tenant,
        kind="edm",
        external_refs=[{"platform": "klaviyo", "campaign_id": first}],
        **JANUARY,
    )
    response = await _import(campaigns, tenant, json.dumps(body).encode(), currency="USD", date="2024-01-15")
    assert response.status_code == 200, response.text
    assert [u["campaign_id"] for u in response.json()["unknown"]] == [second]
    got = (await _totals_by_day(campaigns, tenant, campaign["id"]))["2024-01-15"]
    assert (got["sends"], got["opens"], got["clicks"]) == (recipients, 0, 0)  # no unique opens were asked for


@pytest.mark.parametrize("name", ["adwords_api_campaign_report.csv", "adwords_api_campaign_report_micros.csv"])
async def test_an_adwords_api_report_download_is_refused_rather_than_misread(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Any, name: str
) -> None:
    """Google's aw-reporting keeps one AdWords API CAMPAIGN_PERFORMANCE_REPORT download twice: its 2013 copy with
    money in currency units (Cost 1.11), its 2015 copy in micros (Cost 1110000) — the API wrote either, as the
    request asked, and the file does not say which. Read as a Google Ads UI download, the micros copy would book
    EUR 1.11 as EUR 1,110,000: XBM refuses both, says why and what to import instead, and stores nothing."""
    campaign = await new_campaign(
        campaigns,
        fake_plans,
        tenant,
        external_refs=[{"platform": "google_ads", "campaign_id": "132449648"}],
        budget={"amount": "100.00", "currency": "EUR"},  # the report's currency: only the guard stands in the way
        starts_on="2013-05-01",
        ends_on="2013-05-31",
    )
    for params in ({}, {"format": "google_ads_csv"}):
        problem = assert_problem(await _import(campaigns, tenant, fixture(name), "text/csv", **params), 422)
        assert "AdWords API" in problem["detail"] and "micros" in problem["detail"], problem
        assert "Google Ads UI" in problem["detail"] and "google_ads_api" in problem["detail"], problem
    response = await campaigns.get(
        f"/v1/campaigns/{campaign['id']}/performance", params={"as_of": "2013-06-01"}, headers=tenant.auth("analyst")
    )
    assert response.status_code == 200, response.text
    assert response.json()["by_day"] == []


def test_every_fixture_is_sourced_and_says_whose_it_is() -> None:
    """SOURCES.md names each fixture once, either among the platforms' own payloads or among XBM's."""
    sources = (FIXTURES / "SOURCES.md").read_text()
    platform_part, _, ours_part = sources.partition("## Built by XBM")
    named_platform = set(re.findall(r"`([\w.]+\.(?:json|csv))`", platform_part))
    named_ours = set(re.findall(r"`([\w.]+\.(?:json|csv))`", ours_part))
    files = {p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".csv")}
    assert named_platform & named_ours == set()
    assert files == named_platform | named_ours
    assert {"mailchimp_sdk_get_campaign_report.json", "klaviyo_openapi_results_example.json"} <= named_platform
