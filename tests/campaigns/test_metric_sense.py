"""Metric rows that cannot be true are refused with the row named, and nothing of the request is stored: more
clicks than impressions, more opens than sends, a negative figure, or a day outside the campaign (unless the
seller says it is a backfill). More conversions than clicks is true on the ad platforms (view-through, several
conversions per click) and is kept, fractions included."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.plans.client_fake import FakePlans
from tests.campaigns.support import new_campaign, row
from tests.support import Tenant, assert_problem


async def _put(campaigns: httpx.AsyncClient, campaign_id: str, tenant: Tenant, body: dict) -> httpx.Response:  # type: ignore[type-arg]
    return await campaigns.put(f"/v1/campaigns/{campaign_id}/metrics", json=body, headers=tenant.auth("specialist"))


async def _stored_impressions(campaigns: httpx.AsyncClient, campaign_id: str, tenant: Tenant) -> int:
    perf = await campaigns.get(f"/v1/campaigns/{campaign_id}/performance", headers=tenant.auth("analyst"))
    assert perf.status_code == 200, perf.text
    return int(perf.json()["totals"]["impressions"])


async def test_impossible_funnels_are_422_and_nothing_is_stored(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant, kind="edm")
    good = row("2026-09-01", impressions=100, clicks=10, conversions=2, sends=50, opens=20)
    for bad, message in (
        ({"impressions": 10, "clicks": 11}, "clicks (11) cannot exceed impressions (10)"),
        ({"clicks": 3, "conversions": -1}, "greater than or equal to 0"),
        ({"sends": 5, "opens": 6}, "opens (6) cannot exceed sends (5)"),
    ):
        body = {"rows": [good, {**row("2026-09-02", impressions=100, clicks=10, conversions=2), **bad}]}
        detail = assert_problem(await _put(campaigns, campaign["id"], tenant, body), 422)["detail"]
        assert message in detail and "rows.1" in detail, detail
    assert await _stored_impressions(campaigns, campaign["id"], tenant) == 0  # not even the good row


async def test_more_conversions_than_clicks_and_fractions_are_kept(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    """A view-through day: 3 clicks and 4.5 conversions (Google Ads' data-driven attribution is fractional)."""
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    body = {
        "rows": [row("2026-09-02", impressions=100, clicks=3, conversions="4.5"), row("2026-09-03", conversions=2.25)]
    }
    response = await _put(campaigns, campaign["id"], tenant, body)
    assert response.status_code == 200, response.text
    perf = (await campaigns.get(f"/v1/campaigns/{campaign['id']}/performance", headers=tenant.auth("analyst"))).json()
    assert perf["totals"]["conversions"] == 6.75
    assert [d["conversions"] for d in perf["by_day"]] == [4.5, 2.25]
    too_fine = {"rows": [row("2026-09-04", conversions="1.0000001")]}
    assert_problem(await _put(campaigns, campaign["id"], tenant, too_fine), 422)


async def test_rows_outside_the_campaign_need_backfill(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)  # 2026-09-01 – 2026-09-30
    for day in ("2026-08-31", "2026-10-01"):
        body = {"rows": [row("2026-09-15"), row(day)]}
        detail = assert_problem(await _put(campaigns, campaign["id"], tenant, body), 422)["detail"]
        assert f"rows[1] is dated {day}, outside the campaign (2026-09-01 – 2026-09-30)" in detail
        assert "backfill" in detail
    assert await _stored_impressions(campaigns, campaign["id"], tenant) == 0
    accepted = await _put(campaigns, campaign["id"], tenant, {"rows": [row("2026-08-31")], "backfill": True})
    assert accepted.status_code == 200, accepted.text
    assert await _stored_impressions(campaigns, campaign["id"], tenant) == 1000
    # the edges of the campaign are inside it
    edges = {"rows": [row("2026-09-01"), row("2026-09-30")]}
    assert (await _put(campaigns, campaign["id"], tenant, edges)).status_code == 200


counts = st.integers(min_value=0, max_value=10**6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(impressions=counts, clicks=counts, conversions=counts, sends=counts, opens=counts)
async def test_a_row_is_accepted_exactly_when_its_funnel_narrows(
    campaigns: httpx.AsyncClient,
    fake_plans: FakePlans,
    tenant: Tenant,
    impressions: int,
    clicks: int,
    conversions: int,
    sends: int,
    opens: int,
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant, kind="edm")
    values = {"impressions": impressions, "clicks": clicks, "conversions": conversions, "sends": sends, "opens": opens}
    response = await _put(campaigns, campaign["id"], tenant, {"rows": [row("2026-09-10", **values)]})
    sensible = clicks <= impressions and opens <= sends
    assert response.status_code == (200 if sensible else 422), response.text
