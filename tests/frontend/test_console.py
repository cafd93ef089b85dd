"""The reference console (examples/console), served from its own origin and used in headless Chromium as a marketer
would: sign in with an API key, open a plan's SBU grid with its totals in the base currency (the rate named), the
plan's campaigns with KPIs and pacing, a campaign's experiment and its decision, the orders, and the customs
exceptions queue with the reason of each and the action that resolves it — completing an order from the console
and seeing it leave the queue. The access token lives 60 seconds here: the console outlives it (and a reload) by
exchanging the key it keeps for the tab, and forgets the key on signing out. The three services run as real
processes."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.campaigns.support import BUILTIN_SETTINGS
from tests.compliance.support import (
    Seller,
    buyer_id,
    new_order_no,
    payment,
    shopify_headers,
    shopify_order,
    waybill,
)
from tests.frontend.browser import Page, chromium, needs_chromium, static_origin
from tests.plans.support import money, new_plan, post, sbu_body, tactics
from tests.support import BOOTSTRAP_TOKEN, make_tenant
from tests.system.procs import ROOT, stack_on_new_databases
from tests.system.test_events_flow import eventually

pytestmark = [pytest.mark.system, pytest.mark.db, needs_chromium]
CONSOLE = ROOT / "examples" / "console"
REMATCH = "/v1/compliance/orders/{ebp_code}/{order_no}/rematch"
#: the page's fetch as an older compliance service answers: /openapi.json without the rematch route (unless
#: xbmOlder.rematch), the queue without `actions` and `cause`, and POST …/rematch a 404 like any unknown route
OLDER_COMPLIANCE = """
window.xbmOlder = {fetch: window.fetch.bind(window), rematch: false};
state.rematch = null;
window.fetch = async (url, init) => {
  const path = new URL(url).pathname;
  if (path.endsWith('/rematch')) {
    return new Response(JSON.stringify({detail: 'Not Found'}), {status: 404});
  }
  const response = await window.xbmOlder.fetch(url, init);
  if (path === '/openapi.json' || path === '/v1/compliance/exceptions') {
    const body = await response.json();
    if (body.paths && !window.xbmOlder.rematch) delete body.paths[REMATCH];
    for (const item of body.items || []) { delete item.actions; delete item.cause; }
    return new Response(JSON.stringify(body), {status: response.status});
  }
  return response;
};
"""
TOKEN_TTL = 60  # the shortest the services allow (they accept a token 5 s past its end, for clock skew)


def rows(page: Page, table: str, part: str = "tbody") -> list[list[str]]:
    """The table's body (or foot) as a person reads it: the visible text of each cell."""
    script = f"[...document.querySelectorAll('#{table} {part} tr')].map(r => [...r.cells].map(c => c.innerText.trim()))"
    value: list[list[str]] = page.evaluate(script)
    return value


def click(page: Page, selector: str) -> None:
    page.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


def text(page: Page, element_id: str) -> str:
    return str(page.evaluate(f"document.getElementById({json.dumps(element_id)}).innerText"))


def visible(page: Page, element_id: str) -> bool:
    return bool(page.evaluate(f"!document.getElementById({json.dumps(element_id)}).closest('[hidden]')"))


def fill(page: Page, row_selector: str, values: dict[str, str]) -> None:
    """Type into the open action form of a row, then press its Save button."""
    for name, value in values.items():
        page.evaluate(
            f"document.querySelector({json.dumps(f'{row_selector} form:not([hidden]) [name={json.dumps(name)}]')})"
            f".value = {json.dumps(value)}"
        )
    click(page, f"{row_selector} form:not([hidden]) button[type=submit]")


def queue(page: Page) -> dict[str, list[str]]:
    return {r[0]: r for r in rows(page, "exceptions-table")}


def metric_row(day: date, *, variant: str = "", clicks: int, cost: str, conversions: int, revenue: str,
               currency: str) -> dict[str, Any]:  # fmt: skip
    row = {"date": str(day), "impressions": clicks * 50, "clicks": clicks, "conversions": conversions,
           "cost": money(cost, currency), "revenue": money(revenue, currency)}  # fmt: skip
    if variant:
        row["variant"] = variant
    return row


async def _season(plans: httpx.AsyncClient, campaigns: httpx.AsyncClient, compliance: httpx.AsyncClient) -> dict:  # type: ignore[type-arg]
    """A plan in USD with a CNY rate, two SBUs, a USD search campaign with an A/B experiment (on pace), a CNY
    service campaign spending ahead of its days (at risk), and customs orders: one declared, one held for the
    buyer's ID number, one without an item record, one whose waybill names someone else."""
    tenant = await make_tenant(plans)
    today = date.today()
    plan = await new_plan(
        plans,
        tenant,
        name="Company A — golf kits",
        period_start=str(today - timedelta(days=200)),
        period_end=str(today + timedelta(days=200)),
        fx_rates=[{"currency": "CNY", "rate": "0.1387", "as_of": "2026-11-02", "source": "PBOC central parity"}],
    )
    await new_plan(plans, tenant, name="Company A — spring launch")
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    pro = await post(
        plans,
        f"/v1/plans/{plan['id']}/products",
        {"sku": "GS-300", "name": "Golf simulator kit with camera", "unit_cost": money("1500", "CNY"),
         "price": money("650")},
        tenant,
        "supervisor",
    )  # fmt: skip
    sbus = [
        await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, p, budget=money("60000.00")),
                   tenant, "supervisor")
        for p in (product, pro)
    ]  # fmt: skip
    start = today - timedelta(days=9)
    made = {}
    for key, body in {
        "usd": {"sbu_id": sbus[0]["id"], "kind": "sem", "name": "Office golf search",
                "budget": money("30000.00"), "settings": BUILTIN_SETTINGS["sem"]},
        "cny": {"sbu_id": sbus[1]["id"], "kind": "service", "name": "WhatsApp service desk",
                "budget": money("20000.00", "CNY"), "settings": BUILTIN_SETTINGS["service"]},
    }.items():  # fmt: skip
        created = await campaigns.post(
            "/v1/campaigns",
            json={**body, "starts_on": str(start), "ends_on": str(start + timedelta(days=29))},
            headers=tenant.auth("specialist"),
        )
        assert created.status_code == 201, created.text
        made[key] = created.json()
        for to in ("scheduled", "running"):
            moved = await campaigns.post(
                f"/v1/campaigns/{made[key]['id']}/transitions", json={"to": to}, headers=tenant.auth("specialist")
            )
            assert moved.status_code == 200, moved.text
    experiment = await campaigns.post(
        f"/v1/campaigns/{made['usd']['id']}/experiments",
        json={"name": "Landing page: old vs setup video", "metric": "conversion_rate", "method": "frequentist",
              "variants": [{"key": "old_page", "weight": 0.5}, {"key": "video_page", "weight": 0.5}]},
        headers=tenant.auth("specialist"),
    )  # fmt: skip
    assert experiment.status_code == 201, experiment.text
    days = [start + timedelta(days=d) for d in range(10)]
    usd_rows = [
        metric_row(d, variant=v, clicks=400, cost="500.00", conversions=c, revenue=f"{c * 500}.00", currency="USD")
        for d in days
        for v, c in (("old_page", 8), ("video_page", 16))
    ]  # 10 days × 1,000.00 USD = 10,000.00 of 30,000.00 at a third of the days: on pace
    cny_rows = [
        metric_row(d, clicks=160, cost="1500.00", conversions=3, revenue="13500.00", currency="CNY") for d in days
    ]  # 15,000.00 of 20,000.00 CNY at a third of the days: at risk
    for key, metric_rows in (("usd", usd_rows), ("cny", cny_rows)):
        put = await campaigns.put(
            f"/v1/campaigns/{made[key]['id']}/metrics", json={"rows": metric_rows}, headers=tenant.auth("specialist")
        )
        assert put.status_code == 200, put.text

    async def performance_known() -> Any:
        grid = await plans.get(f"/v1/plans/{plan['id']}/sbu-grid", headers=tenant.auth("analyst"))
        return all(c["performance_known"] for c in grid.json()["cells"])

    await eventually(performance_known, "campaigns' figures to reach the SBU grid")

    seller = await Seller(compliance, tenant).setup()
    declared, held, no_record, disagreeing = (new_order_no() for _ in range(4))
    await seller.deliver_all(declared, buyer=buyer_id(91))
    order = shopify_order(held, buyer=buyer_id(92))
    order["note_attributes"] = [a for a in order["note_attributes"] if a["name"] != "buyer_id_number"]
    assert (await seller.send_order(order)).status_code == 200
    assert (await seller.send_payment(payment(held, buyer=buyer_id(92)))).status_code == 200
    assert (await seller.send_waybill(waybill(held))).status_code == 200
    assert (await seller.order(held))["state"] == "incomplete"
    view = await seller.deliver_all(no_record, buyer=buyer_id(93), order=shopify_order(no_record, buyer=buyer_id(93),
                                                                                        sku="GLOVE-7"))  # fmt: skip
    assert view["state"] == "mismatch" and "item_records" in {c["rule"] for c in view["checks"] if not c["passed"]}
    view = await seller.deliver_all(disagreeing, buyer=buyer_id(94), ship=waybill(disagreeing, name="Nobody"))
    assert view["state"] == "mismatch", view
    cut = b'{"id": 1, "name": "#1",'  # a delivery cut short on the way: verified, kept, not an order
    shop = seller.sources["shop"]
    assert (await compliance.post(shop["webhook_path"], content=cut,
                                  headers=shopify_headers(shop["secret"], cut))).status_code == 200  # fmt: skip
    return {
        "tenant": tenant, "plan": plan, "made": made, "declared": declared, "held": held, "no_record": no_record,
        "disagreeing": disagreeing, "shop": shop["id"],
        "failing": sorted(c["rule"] for c in view["checks"] if not c["passed"]),
    }  # fmt: skip


async def test_a_marketer_works_a_season_in_the_console(tmp_path: Path, databases) -> None:  # type: ignore[no-untyped-def]
    with static_origin(CONSOLE) as origin:
        stack = await stack_on_new_databases(
            databases,
            tmp_path / "data",
            "con",
            extra_env={
                "XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
                "XBM_CORS_ORIGINS": origin,
                "XBM_PLANS_TOKEN_TTL_SECONDS": str(TOKEN_TTL),
            },
        )
        try:
            stack.wait_up()
            async with (
                stack.client("plans") as plans,
                stack.client("campaigns") as campaigns,
                stack.client("compliance") as compliance,
            ):
                world = await _season(plans, campaigns, compliance)
            tenant, plan = world["tenant"], world["plan"]

            with chromium(tmp_path / "profile") as browser:
                query = urlencode({name: stack.urls[name] for name in ("plans", "campaigns", "compliance")})
                page = browser.open(f"{origin}/index.html?{query}")
                assert visible(page, "sign-in-form") and not visible(page, "plans-table")

                # a wrong key is refused, visibly, and nothing else is shown
                page.evaluate("document.getElementById('api-key').value = 'xbm_not-a-key'")
                click(page, "#sign-in-button")
                message = page.wait_for(
                    "!document.getElementById('error').hidden && document.getElementById('error').innerText"
                )
                assert message == "That API key was not accepted."
                assert not visible(page, "plans-table")
                assert page.evaluate("sessionStorage.getItem('xbm-console-session')") is None

                page.evaluate(f"document.getElementById('api-key').value = {json.dumps(tenant.admin_key)}")
                click(page, "#sign-in-button")
                page.wait_for("document.querySelectorAll('#plans-table tbody tr').length === 2")
                signed_in_at = time.monotonic()
                first_token = page.evaluate("JSON.parse(sessionStorage.getItem('xbm-console-session')).token")
                assert text(page, "who") == "Signed in (admin)"
                assert [r[:2] for r in rows(page, "plans-table")] == [
                    ["Company A — golf kits", "draft"],
                    ["Company A — spring launch", "draft"],
                ]
                assert page.evaluate("document.getElementById('api-key').value") == ""  # not left in the form

                # the SBU grid: each SBU's spend against its budget, the CNY spend converted with the rate named,
                # and the plan's totals in USD
                click(page, f"#plans-table a[data-plan-id='{plan['id']}']")
                page.wait_for("document.querySelectorAll('#campaigns-table tbody tr').length === 2")
                assert text(page, "grid-title") == "SBU grid — Company A — golf kits"
                rate = "1 CNY = 0.1387 USD (PBOC central parity, 2026-11-02)"
                assert rate in text(page, "rates")
                grid = {r[2]: r for r in rows(page, "grid-table")}
                assert grid["Golf simulator kit"][6:10] == [
                    "USD 60,000.00", "USD 10,000.00", "USD 120,000.00", "12.00"
                ]  # fmt: skip
                assert grid["Golf simulator kit"][10] == "17 % of USD 60,000.00"
                camera = grid["Golf simulator kit with camera"]
                assert camera[6:9] == ["USD 60,000.00", "CNY 15,000.00", "CNY 135,000.00"]
                assert camera[10] == f"3 % of USD 60,000.00 (spend converted at {rate})"  # 2,080.50 USD
                (total,) = rows(page, "grid-table", "tfoot")
                assert total[0] == "Total in USD"
                # 10,000 + 15,000 × 0.1387 spent; 120,000 + 135,000 × 0.1387 earned
                assert total[1:5] == ["USD 120,000.00", "USD 12,080.50", "USD 138,724.50", "11.48"]
                assert total[5] == f"at {rate}"

                # the plan's campaigns with their KPIs and pacing, and their total in USD with the rate named
                listed = {r[0]: r for r in rows(page, "campaigns-table")}
                search, desk = listed["Office golf search"], listed["WhatsApp service desk"]
                assert search[1:6] == ["sem", "running", "USD 30,000.00", "USD 10,000.00", "USD 120,000.00"]
                assert search[6:10] == ["2.00 %", "3.00 %", "USD 41.67", "12.00"]  # 8,000 clicks, 240 conversions
                assert search[10].startswith("on pace: 33 % of budget spent, 33 % of days gone")
                assert desk[3:5] == ["CNY 20,000.00", "CNY 15,000.00"]
                assert desk[10].startswith("at risk: 75 % of budget spent, 33 % of days gone")
                (campaign_total,) = rows(page, "campaigns-table", "tfoot")
                assert campaign_total[:4] == ["Total in USD", "USD 32,774.00", "USD 12,080.50", "USD 138,724.50"]
                assert campaign_total[4:6] == ["", "11.48"]  # CTR, CVR and CPA do not add up; ROAS does
                assert campaign_total[-1] == f"converted at {rate}"

                # the search campaign: its KPIs, and the experiment's analysis, recorded as the decision
                click(page, f"#campaigns-table a[data-campaign-id='{world['made']['usd']['id']}']")
                page.wait_for("document.querySelectorAll('#experiments-table tbody tr').length === 1")
                kpis = page.evaluate(
                    "Object.fromEntries([...document.querySelectorAll('#campaign-kpis dd')]"
                    ".map(d => [d.dataset.kpi, d.innerText]))"
                )
                assert kpis["Spend"] == "USD 10,000.00" and kpis["CVR"] == "3.00 %" and kpis["ROAS"] == "12.00"
                assert kpis["Pacing"].startswith("on pace")
                (experiment,) = rows(page, "experiments-table")
                assert experiment[0] == "Landing page: old vs setup video"
                assert (
                    "old_page: 2.00 % (control)" in experiment[2] and "video_page: 4.00 %, +100.0 % [" in experiment[2]
                )
                assert experiment[3] == "winner: video_page" and experiment[4] == "Record this decision"
                click(page, "#experiments-table button.record-decision")
                decision_cell = "document.querySelector('#experiments-table tbody td:last-child')"
                recorded = "'recorded: winner (video_page)'"
                page.wait_for(f"({decision_cell} || {{innerText: ''}}).innerText.startsWith({recorded})")
                async with httpx.AsyncClient(base_url=stack.urls["campaigns"]) as client:
                    token = page.evaluate("JSON.parse(sessionStorage.getItem('xbm-console-session')).token")
                    stored = await client.get(
                        f"/v1/campaigns/{world['made']['usd']['id']}/experiments",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                assert [(e["decision"], e["winner"]) for e in stored.json()["items"]] == [("winner", "video_page")]

                # the orders, filtered by state
                click(page, "#nav-orders")
                page.wait_for("document.querySelectorAll('#orders-table tbody tr').length === 4")
                orders = {r[0]: r for r in rows(page, "orders-table")}
                assert orders[world["declared"]][3] == "declared"
                assert orders[world["held"]][3] == "incomplete"
                assert orders[world["no_record"]][5].split() == ["item_records", "tax"]
                page.evaluate("const s = document.getElementById('orders-state'); s.value = 'mismatch';"
                              "s.dispatchEvent(new Event('change'))")  # fmt: skip
                page.wait_for("document.querySelectorAll('#orders-table tbody tr').length === 2")
                assert {r[0] for r in rows(page, "orders-table")} == {world["no_record"], world["disagreeing"]}

                # the exceptions queue: why each order is there (in the queue's words), and what resolves it
                click(page, "#nav-exceptions")
                page.wait_for("document.querySelectorAll('#exceptions-table tbody tr').length === 3")
                listed = queue(page)
                assert world["declared"] not in listed
                held = listed[world["held"]]
                assert held[2:4] == ["incomplete", "XBM needs buyer.id_number to compare the order"]
                assert held[6].startswith("Complete the order")
                assert listed[world["no_record"]][3].startswith("no item record for GLOVE-7")
                assert listed[world["no_record"]][6].startswith("Add the item record for GLOVE-7")
                disagreeing = listed[world["disagreeing"]]
                assert sorted(disagreeing[4].split()) == world["failing"]
                assert "consignee" in disagreeing[3].lower()
                for shown in ("Correct the order", "send the waybill again with the order's consignee", "Re-match"):
                    assert shown in disagreeing[6], disagreeing[6]

                # re-match from the console: compared again, still disagreeing, still listed — and said so
                disagreeing_row = f"#exceptions-table tr[data-order-no='{world['disagreeing']}']"
                click(page, f"{disagreeing_row} button[data-action='Re-match']")
                page.wait_for("document.getElementById('notice').innerText.startsWith('Compared again.')")
                assert text(page, "notice") == f"Compared again. Order {world['disagreeing']} is now mismatch."
                assert world["disagreeing"] in queue(page)

                # and the delivery that could not be read as an order, with what to ask the platform for
                (unreadable,) = rows(page, "unreadable-table")
                assert unreadable[:2] == [world["shop"], "orders/create"]
                assert unreadable[2].startswith("its body is not a readable order")
                assert unreadable[4] == "have the platform send the order again; this delivery is kept as received"
                assert visible(page, "unreadable-table") and not visible(page, "orphans-table")

                # complete the held order from the console: it matches, is declared, and leaves the queue
                held_row = f"#exceptions-table tr[data-order-no='{world['held']}']"
                click(page, f"{held_row} button[data-action='Complete the order']")
                fill(page, held_row, {"buyer.id_number": buyer_id(92)})
                page.wait_for(f"!document.querySelector(\"{held_row}\") && !document.getElementById('notice').hidden")
                assert text(page, "notice") == f"Order completed and compared. Order {world['held']} is now declared."
                assert world["held"] not in queue(page) and len(queue(page)) == 2

                # add the missing item record: stored, the order compared again by itself, declared, gone
                record_row = f"#exceptions-table tr[data-order-no='{world['no_record']}']"
                click(page, f"{record_row} button[data-action='Add the item record for GLOVE-7']")
                fill(page, record_row, {"gname": "Golf gloves", "hs_code": "4203291000", "unit": "011",
                                        "unit1": "011"})  # fmt: skip
                page.wait_for("document.getElementById('notice').innerText.startsWith('Item record GLOVE-7 saved')")
                compared = "Item record GLOVE-7 saved; the order was compared again."
                assert text(page, "notice") == f"{compared} Order {world['no_record']} is now declared."
                async with httpx.AsyncClient(base_url=stack.urls["compliance"]) as client:
                    token = page.evaluate("JSON.parse(sessionStorage.getItem('xbm-console-session')).token")
                    record = await client.get(
                        "/v1/compliance/items/GLOVE-7", headers={"Authorization": f"Bearer {token}"}
                    )
                assert record.status_code == 200 and record.json()["hs_code"] == "4203291000"
                assert list(queue(page)) == [world["disagreeing"]]

                # an older compliance service (no rematch route, no actions in its queue): the console still lists
                # the exception with its failing checks, offers what the reason implies, and says it cannot re-match
                page.evaluate(OLDER_COMPLIANCE)
                click(page, "#nav-exceptions")
                actions = f"document.querySelector({json.dumps(disagreeing_row + ' td.actions')})"
                page.wait_for(f"{actions} && {actions}.innerText.includes('re-matching is not available')")
                older = queue(page)[world["disagreeing"]]
                assert "consignee" in older[3].lower() and older[6].startswith("Re-match")
                button = f"document.querySelector({json.dumps(disagreeing_row + ' button[data-action=Re-match]')})"
                assert page.evaluate(f"{button}.disabled") and page.evaluate("document.getElementById('error').hidden")
                # and a replica that loses the route between the page load and the click is said, not an error
                page.evaluate("state.rematch = true; window.xbmOlder.rematch = true")
                click(page, "#nav-exceptions")
                page.wait_for(f"{actions} && {button} && !{button}.disabled")
                click(page, f"{disagreeing_row} button[data-action='Re-match']")
                page.wait_for(
                    f"{actions}.innerText.includes('Re-matching is not available on this compliance service')"
                )
                assert page.evaluate("document.getElementById('error').hidden")
                page.evaluate("window.fetch = window.xbmOlder.fetch; state.rematch = null")

                # a working day in a minute: the first token has expired (the services refuse it), yet the
                # console, handed that token back as if its clock were wrong, exchanges the key and carries on
                await asyncio.sleep(max(0.0, signed_in_at + TOKEN_TTL + 8 - time.monotonic()))
                async with httpx.AsyncClient(base_url=stack.urls["plans"]) as client:
                    refused = await client.get("/v1/plans", headers={"Authorization": f"Bearer {first_token}"})
                assert refused.status_code == 401
                page.evaluate(f"state.token = {json.dumps(first_token)}; state.expiresAt = Date.now() + 3600 * 1000")
                click(page, "#nav-plans")
                page.wait_for("document.querySelectorAll('#plans-table tbody tr').length === 2")
                assert visible(page, "plans-table") and text(page, "who") == "Signed in (admin)"
                assert page.evaluate("document.getElementById('error').hidden")
                renewed = page.evaluate("JSON.parse(sessionStorage.getItem('xbm-console-session')).token")
                assert renewed != first_token

                # a token about to end is replaced before it is used, and a reload keeps the session
                page.evaluate("state.expiresAt = Date.now() + 1000; document.getElementById('orders-state').value = ''")
                click(page, "#nav-orders")
                page.wait_for("document.querySelectorAll('#orders-table tbody tr').length === 4")
                assert page.evaluate("state.expiresAt > Date.now() + 30 * 1000")  # exchanged before the call
                page.evaluate("location.reload()")
                await asyncio.sleep(0.5)
                page.wait_for("document.readyState === 'complete' && typeof state === 'object'")
                page.wait_for("document.querySelectorAll('#plans-table tbody tr').length === 2")
                assert text(page, "who") == "Signed in (admin)"

                # signing out forgets the key and the token: the sign-in form is back
                click(page, "#sign-out")
                assert visible(page, "sign-in-form") and not visible(page, "exceptions-table")
                assert page.evaluate("sessionStorage.getItem('xbm-console-session')") is None
                page.evaluate("location.reload()")
                await asyncio.sleep(0.5)
                page.wait_for("document.readyState === 'complete' && typeof state === 'object'")
                assert visible(page, "sign-in-form") and not visible(page, "plans-table")
        finally:
            code = stack.stop(signal.SIGTERM)
        assert code == 0, stack.output()
