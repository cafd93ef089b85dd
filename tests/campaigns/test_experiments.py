"""Experiments on a campaign, analysed from its metric rows per variant."""

from __future__ import annotations

import math

import httpx
import pytest
from scipy import stats

from tests.campaigns.conftest import FakePlans
from tests.campaigns.helpers import new_campaign, row
from tests.support import Tenant, assert_problem


async def experiment(campaigns: httpx.AsyncClient, campaign_id: str, tenant: Tenant, **overrides) -> dict:  # type: ignore[no-untyped-def]
    body = {
        "name": "hero test",
        "metric": "conversion_rate",
        "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
        **overrides,
    }
    response = await campaigns.post(
        f"/v1/campaigns/{campaign_id}/experiments", json=body, headers=tenant.auth("specialist")
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/experiments/{response.json()['id']}"
    return response.json()


async def analysis(campaigns: httpx.AsyncClient, experiment_id: str, tenant: Tenant) -> dict:
    response = await campaigns.get(f"/v1/experiments/{experiment_id}/analysis", headers=tenant.auth("analyst"))
    assert response.status_code == 200, response.text
    return response.json()


async def put_counts(campaigns: httpx.AsyncClient, campaign_id: str, tenant: Tenant, counts: dict) -> None:  # type: ignore[type-arg]
    """counts: variant → list of (clicks, conversions), one per day from 2026-09-01."""
    rows = [
        row(f"2026-09-{d + 1:02d}", key, clicks=n, conversions=x, impressions=10 * n)
        for key, days in counts.items()
        for d, (n, x) in enumerate(days)
    ]
    response = await campaigns.put(
        f"/v1/campaigns/{campaign_id}/metrics", json={"rows": rows}, headers=tenant.auth("specialist")
    )
    assert response.status_code == 200, response.text


async def test_winner_with_reference_statistics(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant, kind="visual")
    exp = await experiment(campaigns, campaign["id"], tenant)
    assert exp["decision"] is None and [v["key"] for v in exp["variants"]] == ["a", "b"]
    # split over two days each, summed by the service: a 2000 clicks / 200 conv, b 2000 / 260
    await put_counts(
        campaigns, campaign["id"], tenant, {"a": [(1000, 90), (1000, 110)], "b": [(1200, 150), (800, 110)]}
    )
    result = await analysis(campaigns, exp["id"], tenant)
    a, b = result["variants"]
    assert (a["n"], a["conversions"], b["n"], b["conversions"]) == (2000, 200, 2000, 260)
    assert a["rate"] == pytest.approx(0.1) and b["rate"] == pytest.approx(0.13)
    ref = stats.ttest_ind_from_stats(0.13, math.sqrt(0.13 * 0.87), 2000, 0.1, math.sqrt(0.09), 2000, equal_var=False)
    assert b["p_value"] == pytest.approx(float(ref.pvalue), abs=1e-6)
    se = math.sqrt(0.09 / 2000 + 0.1131 / 2000)
    df = se**4 / ((0.09 / 2000) ** 2 / 1999 + (0.1131 / 2000) ** 2 / 1999)
    half = stats.t.ppf(0.975, df) * se
    assert b["lift"] == pytest.approx(0.03, abs=1e-9)
    assert b["ci_low"] == pytest.approx(0.03 - half, abs=1e-6) and b["ci_high"] == pytest.approx(0.03 + half, abs=1e-6)
    assert b["chance_to_win"] == pytest.approx(stats.norm.cdf(0.03 / se), abs=1e-6)
    assert result["srm"]["flagged"] is False and result["srm"]["p_value"] == pytest.approx(1.0)
    assert result["decision"] == "winner" and result["winner"] == "b"
    stored = await campaigns.get(f"/v1/experiments/{exp['id']}", headers=tenant.auth())
    assert stored.json()["decision"] == "winner" and stored.json()["winner"] == "b" and stored.json()["decided_at"]


async def test_srm_on_a_5000_4000_split(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    exp = await experiment(campaigns, campaign["id"], tenant)
    await put_counts(campaigns, campaign["id"], tenant, {"a": [(5000, 250)], "b": [(4000, 600)]})
    result = await analysis(campaigns, exp["id"], tenant)
    assert result["srm"]["flagged"] is True
    assert result["srm"]["p_value"] == pytest.approx(stats.chi2.sf(1000 / 9, 1), rel=1e-9)
    assert result["decision"] == "srm" and result["winner"] is None


async def test_no_decision_below_min_sample(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    exp = await experiment(campaigns, campaign["id"], tenant, min_sample=500)
    await put_counts(campaigns, campaign["id"], tenant, {"a": [(480, 20)], "b": [(490, 90)]})
    result = await analysis(campaigns, exp["id"], tenant)
    assert result["decision"] == "insufficient_data" and result["winner"] is None
    assert result["variants"][1]["p_value"] < 0.001  # significant, yet no decision
    assert (await campaigns.get(f"/v1/experiments/{exp['id']}", headers=tenant.auth())).json()["decision"] is None


async def test_no_data_at_all(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    exp = await experiment(campaigns, campaign["id"], tenant, metric="open_rate")
    result = await analysis(campaigns, exp["id"], tenant)
    assert result["decision"] == "insufficient_data" and result["srm"] == {"p_value": None, "flagged": False}
    assert [v["n"] for v in result["variants"]] == [0, 0]


async def test_ctr_and_holm_with_three_arms(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    exp = await experiment(
        campaigns,
        campaign["id"],
        tenant,
        metric="ctr",
        variants=[{"key": "a", "weight": 1}, {"key": "b", "weight": 1}, {"key": "c", "weight": 1}],
    )
    # impressions are 10·clicks in put_counts: ctr 0.1 each → no winner
    await put_counts(campaigns, campaign["id"], tenant, {"a": [(300, 0)], "b": [(300, 0)], "c": [(300, 0)]})
    result = await analysis(campaigns, exp["id"], tenant)
    assert [v["n"] for v in result["variants"]] == [3000, 3000, 3000]
    assert result["decision"] == "no_winner"
    assert result["variants"][1]["p_value"] == pytest.approx(1.0)


async def test_inconsistent_rows_never_reach_the_analysis(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    exp = await experiment(campaigns, campaign["id"], tenant)
    # more conversions than clicks: refused when sent (the metrics sense check), so nothing is analysed from it
    rows = [row("2026-09-01", "a", clicks=10, conversions=20, impressions=100), row("2026-09-01", "b", clicks=10)]
    refused = await campaigns.put(
        f"/v1/campaigns/{campaign['id']}/metrics", json={"rows": rows}, headers=tenant.auth("specialist")
    )
    assert "conversions (20) cannot exceed clicks (10)" in assert_problem(refused, 422)["detail"]
    result = await campaigns.get(f"/v1/experiments/{exp['id']}/analysis", headers=tenant.auth())
    assert result.status_code == 200 and result.json()["decision"] == "insufficient_data"


@pytest.mark.parametrize(
    "body",
    [
        {"variants": [{"key": "a", "weight": 1}]},
        {"variants": [{"key": "a", "weight": 1}, {"key": "a", "weight": 1}]},
        {"variants": [{"key": "a", "weight": 0}, {"key": "b", "weight": 1}]},
        {"metric": "revenue"},
        {"alpha": 0},
        {"min_sample": 0},
        {"method": "vibes"},
    ],
)
async def test_experiment_validation(
    campaigns: httpx.AsyncClient,
    fake_plans: FakePlans,
    tenant: Tenant,
    body: dict,  # type: ignore[type-arg]
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    full = {"name": "t", "metric": "ctr", "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}], **body}
    response = await campaigns.post(
        f"/v1/campaigns/{campaign['id']}/experiments", json=full, headers=tenant.auth("specialist")
    )
    assert_problem(response, 422)
