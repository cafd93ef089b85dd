"""Claimed ROAS (the platforms' conversion value / spend) beside released ROAS (customs-released orders naming
the campaign, returns deducted, / spend) in the SBU grid and the report, fed by ``sbu.performance_changed`` as
campaigns publishes it (tests/campaigns/test_platform_imports.py checks campaigns' figures against the orders)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.plans.test_report_sections import deliver
from tests.support import Tenant

AT = datetime(2026, 9, 10, 12, tzinfo=UTC)
#: one Google Ads campaign: spend 90.57, the platform claims 1411.25; orders A1 (500.00) and A2 (300.00) released
#: naming it, A2 returned whole: 500.00 released revenue
SPEND, CLAIMED, RELEASED = Decimal("90.57"), Decimal("1411.25"), Decimal("500.00")


def _figures(sbu_id: str) -> dict:  # type: ignore[type-arg]
    return {
        "sbu_id": sbu_id,
        "currency": "USD",
        "spend": str(SPEND),
        "revenue": str(CLAIMED),
        "roas": "15.58187",
        "released_revenue": str(RELEASED),
        "released_roas": "5.520592",
        "as_of": AT.isoformat(),
        "campaigns": [
            {
                "campaign_id": "cmp-google",
                "name": "Golf simulator - Search",
                "kind": "sem",
                "status": "running",
                "currency": "USD",
                "budget": "3000.00",
                "starts_on": "2026-09-01",
                "ends_on": "2026-09-30",
                "variants": [
                    {
                        "key": "",
                        "impressions": 7190,
                        "clicks": 123,
                        "conversions": "7.87",
                        "spend": "90.57",
                        "revenue": "1411.25",
                    }
                ],
                "released_revenue": str(RELEASED),
            }
        ],
    }


async def test_the_grid_and_the_report_show_claimed_and_released_roas_side_by_side(
    plans: httpx.AsyncClient, tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant)
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor")
    response = await deliver(plans, "campaigns", tenant.org_id, "sbu.performance_changed", _figures(sbu["id"]), AT)
    assert response.json() == {"status": "applied"}, response.text

    four = Decimal("0.0001")
    claimed_roas, released_roas = (CLAIMED / SPEND).quantize(four), (RELEASED / SPEND).quantize(four)
    grid = (await plans.get(f"/v1/plans/{plan['id']}/sbu-grid", headers=tenant.auth("analyst"))).json()
    (cell,) = grid["cells"]
    assert cell["revenue"] == {"amount": "1411.25", "currency": "USD"} and cell["roas"] == str(claimed_roas)
    assert cell["released_revenue"] == {"amount": "500.00", "currency": "USD"}
    assert cell["released_roas"] == str(released_roas)  # 5.5206
    assert cell["roas_gap"] == str(claimed_roas - released_roas)  # 10.0613: what Google claims beyond the orders
    (usd,) = grid["totals"]["by_currency"]
    assert (usd["revenue"], usd["released_revenue"]) == ("1411.25", "500.00")

    html = (await plans.get(f"/v1/plans/{plan['id']}/report", headers=tenant.auth("analyst"))).text
    sbu_grid = html.split("<h2>SBU grid")[1].split("<h2>Budget vs spend")[0]
    assert f"claimed ROAS {claimed_roas:.2f}" in sbu_grid or f"claimed ROAS {claimed_roas}" in sbu_grid
    assert "released 500.00 USD" in sbu_grid
    campaigns = html.split("<h2>Campaigns")[1].split("<h2>Experiments")[0]
    two = Decimal("0.01")
    # the report's ratios, to two places as every ROAS in it: claimed 1411.25 / 90.57, released 500 / 90.57
    assert "7.87 ·" in campaigns  # fractional conversions as the platform counted them
    assert "released 500.00 USD" in campaigns and "released ROAS" in campaigns
    assert f"claimed ROAS {(CLAIMED / SPEND).quantize(two)}" in campaigns
    assert f"released ROAS {(RELEASED / SPEND).quantize(two)}" in campaigns


async def test_figures_from_an_older_campaigns_service_show_no_released_roas(
    plans: httpx.AsyncClient, tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant)
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor")
    older = _figures(sbu["id"])
    for key in ("released_revenue", "released_roas"):
        older.pop(key)
    older["campaigns"][0].pop("released_revenue")
    older["campaigns"][0]["variants"][0]["conversions"] = 8  # an integer, as they were
    at = AT + timedelta(minutes=1)
    assert (await deliver(plans, "campaigns", tenant.org_id, "sbu.performance_changed", older, at)).status_code == 200
    (cell,) = (await plans.get(f"/v1/plans/{plan['id']}/sbu-grid", headers=tenant.auth("analyst"))).json()["cells"]
    assert cell["roas"] is not None and cell["released_revenue"] is None and cell["released_roas"] is None
    html = (await plans.get(f"/v1/plans/{plan['id']}/report", headers=tenant.auth("analyst"))).text
    assert "released ROAS 5" not in html and "8 · CVR" in html.split("<h2>Campaigns")[1]
