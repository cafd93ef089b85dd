"""The report's campaign, experiment, innovation and customs sections, fed by the events the other services
publish (signed as their relays sign them, received by plans' inbox), and read off the printed page."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from services.plans.report.service import observed_lift
from shared.events.outbox import derive_webhook_secret
from shared.events.relay import signed_headers
from tests.frontend.browser import needs_chromium
from tests.plans.example_plan import CompanyA, amount, import_company_a
from tests.plans.printing import assert_a4, printed
from tests.support import SERVICE_SECRET, Tenant, assert_problem


async def deliver(
    plans: httpx.AsyncClient, publisher: str, org_id: str, type: str, data: dict[str, Any], at: datetime
) -> httpx.Response:
    event_id = f"evt_{uuid.uuid4().hex}"
    body = json.dumps(
        {"id": event_id, "type": type, "timestamp": at.isoformat(), "org_id": org_id, "data": data}
    ).encode()
    secret = derive_webhook_secret(SERVICE_SECRET, f"{publisher}->plans")
    return await plans.post(
        f"/internal/events/{publisher}", content=body, headers=signed_headers(secret, event_id, body)
    )


def season_start(company: CompanyA) -> date:
    """The campaigns start on the first of March of the file's period."""
    return company.period_start.replace(month=3, day=1)


def campaign(
    start: date, campaign_id: str, name: str, currency: str, budget: str, variants: list[dict[str, Any]]
) -> dict:  # type: ignore[type-arg]
    return {
        "campaign_id": campaign_id,
        "name": name,
        "kind": "sem",
        "status": "running",
        "currency": currency,
        "budget": budget,
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=29)).isoformat(),
        "variants": variants,
    }


def arm(key: str, impressions: int, clicks: int, conversions: int, spend: str, revenue: str) -> dict:  # type: ignore[type-arg]
    return {
        "key": key,
        "impressions": impressions,
        "clicks": clicks,
        "conversions": conversions,
        "spend": spend,
        "revenue": revenue,
    }


async def season(plans: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """Company A's plan with a USD and a CNY campaign, an A/B experiment decided, and a customs season: the
    file's first SBU runs the USD campaign, its last (the independent site) the CNY one, in the file's period."""
    company = await import_company_a(plans, tenant)
    office, gift = company.made["sbus"][0], company.made["sbus"][-1]
    start = season_start(company)
    at = datetime(start.year, start.month, 15, 12, tzinfo=UTC)
    usd = campaign(
        start,
        "cmp-usd",
        "Office golf search ads",
        "USD",
        "5000",
        [arm("old_page", 20000, 400, 8, "1500", "3992"), arm("video_page", 20000, 400, 14, "1500", "6986")],
    )
    cny = campaign(
        start,
        "cmp-cny",
        "WhatsApp service for buyers in China",
        "CNY",
        "20000",
        [arm("", 8000, 160, 5, "3000", "14970")],
    )
    for sbu_id, currency, spend, revenue, campaigns in (
        (office["id"], "USD", "3000", "10978", [usd]),
        (gift["id"], "CNY", "3000", "14970", [cny]),
    ):
        data = {"sbu_id": sbu_id, "currency": currency, "spend": spend, "revenue": revenue, "roas": None,
                "as_of": at.isoformat(), "campaigns": campaigns}  # fmt: skip
        response = await deliver(plans, "campaigns", tenant.org_id, "sbu.performance_changed", data, at)
        assert response.json() == {"status": "applied"}, response.text
    decided = {"experiment_id": "exp-1", "campaign_id": "cmp-usd", "decision": "winner", "winner": "video_page"}
    assert (await deliver(plans, "campaigns", tenant.org_id, "experiment.decided", decided, at)).status_code == 200
    paused = {"campaign_id": "cmp-cny", "sbu_id": gift["id"], "from": "running", "to": "paused"}
    assert (await deliver(plans, "campaigns", tenant.org_id, "campaign.status_changed", paused, at)).status_code == 200

    orders = [("GSK1", ["matched", "declared", "cleared", "released"]), ("GSK2", ["matched", "declared", "released"]),
              ("GSK3", ["mismatch"]), ("GSK4", ["mismatch", "matched"]), ("GSK5", ["matched"])]  # fmt: skip
    for order_no, states in orders:
        for i, state in enumerate(states):
            data = {"ebp_code": "3301960ABC", "order_no": order_no, "state": state, "amount": "3326.46",
                    "currency": "CNY", "utm_campaign": "gsk-cn-launch", "declaration_id": None}  # fmt: skip
            if state == "mismatch":
                data["failing_rules"] = (
                    ["amount_paid_matches", "buyer_is_payer"] if order_no == "GSK3" else ["amount_paid_matches"]
                )
            response = await deliver(
                plans, "compliance", tenant.org_id, f"order.{state}", data, at + timedelta(hours=i)
            )
            assert response.json() == {"status": "applied"}, response.text
    # a late, older event never moves an order back
    old = {"ebp_code": "3301960ABC", "order_no": "GSK1", "state": "matched"}
    assert (await deliver(plans, "compliance", tenant.org_id, "order.matched", old, at)).json() == {"status": "stale"}
    return {"base": company.base, "office": office, "gift": gift, "company": company}


async def test_the_sections_are_fed_by_events_and_printed_as_text(
    plans: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    made = await season(plans, tenant)
    html = (await plans.get(f"{made['base']}/report", headers=tenant.auth("analyst"))).text
    assert "<script" not in html.lower()
    campaigns = html.split("<h2>Campaigns")[1].split("<h2>Experiments")[0]
    assert "Office golf search ads" in campaigns and "WhatsApp service for buyers in China" in campaigns
    assert "paused" in campaigns  # the status change that came after the figures
    # CTR 800 / 40000 = 2.0 %, conversions 22, CPA 3000 / 22 = 136.36 USD, ROAS 10978 / 3000 = 3.66 (two places)
    assert "2.0 %" in campaigns and "136.36 USD" in campaigns and "ROAS 3.66<" in campaigns
    assert "60.0 % spent" in campaigns  # 3000 of 5000
    experiments = html.split("<h2>Experiments")[1].split("<h2>Innovation")[0]
    # 14 / 20000 against 8 / 20000: +75 %
    assert "winner" in experiments and "video_page" in experiments and "+75.0 %" in experiments
    customs = html.split("<h2>Customs")[1]
    assert "released" in customs and "amount_paid_matches" in customs


@needs_chromium
async def test_the_printed_report_fits_a4_and_shows_every_figure(
    plans: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    made = await season(plans, tenant)
    html = (await plans.get(f"{made['base']}/report", headers=tenant.auth("analyst"))).text
    sizes, text = printed(html, tmp_path)
    assert_a4(sizes)
    # the chart's figures as text, one currency per scale: the CNY spend converted on the USD scale, rate named
    assert "Amounts in USD" in text and "Amounts in CNY" not in text
    company: CompanyA = made["company"]
    for body in company.sent["sbus"]:  # every SBU of the file with its budget
        assert f"budget {amount(body, 'budget'):,.2f} {body['budget']['currency']}" in text
    share = Decimal(3000) / amount(company.sent["sbus"][0], "budget") * 100  # 3000 of the first SBU's budget
    assert f"spend 3,000.00 USD ({share:.1f} %)" in text
    ((rate,),) = [[r for r in company.parsed.plan["fx_rates"] if r["currency"] == "CNY"]]
    # 3000 CNY at the file's rate
    assert f"spend {Decimal(3000) * Decimal(rate['rate']):,.2f} USD" in text and f"1 CNY = {rate['rate']} USD" in text
    assert "plan status draft" in text
    for section in ("Campaigns", "Experiments", "Innovation tasks", "Customs"):
        assert section in text, section
    assert "Office golf search ads" in text and "+75.0 %" in text, text
    assert "Orders by state (5 in the plan period)" in text
    assert "released 2" in text and "mismatch 1" in text and "amount_paid_matches 2" in text
    assert "Released through customs: 6,652.92 CNY" in text


async def test_without_the_rate_the_chart_has_a_scale_per_currency(
    plans: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    made = await season(plans, tenant)
    assert (await plans.patch(made["base"], json={"fx_rates": []}, headers=tenant.auth("executive"))).status_code == 200
    html = (await plans.get(f"{made['base']}/report", headers=tenant.auth("analyst"))).text
    charts = dict((chunk.split('"', 1)[0], chunk) for chunk in html.split('data-currency="')[1:])
    assert set(charts) == {"USD", "CNY"}
    assert "spend 3,000.00 CNY" in charts["CNY"] and "USD" not in charts["CNY"].split("</svg>")[0].replace(
        "budget in USD", ""
    )
    assert "no rate for CNY" in html and "not added up" in html


async def test_malformed_or_forged_events_are_refused(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    at = datetime(2027, 3, 15, tzinfo=UTC)
    bad = {"ebp_code": "E", "order_no": "", "state": "matched"}
    assert_problem(await deliver(plans, "compliance", tenant.org_id, "order.matched", bad, at), 422)
    body = b'{"id": "evt_x", "type": "order.matched", "org_id": "o", "data": {}}'
    forged = signed_headers(derive_webhook_secret("not the secret", "compliance->plans"), "evt_x", body)
    assert_problem(await plans.post("/internal/events/compliance", content=body, headers=forged), 401)


def test_lift_is_relative_to_the_other_arms() -> None:
    variants = [arm("a", 1000, 0, 10, "0", "0"), arm("b", 1000, 0, 15, "0", "0")]
    assert str(observed_lift(variants, "b")) == "0.5000"
    assert observed_lift(variants, None) is None and observed_lift(variants[:1], "a") is None
    assert observed_lift([arm("a", 0, 0, 0, "0", "0"), arm("b", 10, 0, 1, "0", "0")], "b") is None
