"""The reference console (examples/console), served from its own origin and used in headless Chromium as a person
would: sign in with an API key, see the plans, open a plan's SBU grid with spend and ROAS, and read the customs
exceptions queue with the rules each order failed. The three services run as real processes."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.campaigns.support import BUILTIN_SETTINGS
from tests.compliance.support import Seller, buyer_id, new_order_no, waybill
from tests.frontend.browser import Page, chromium, needs_chromium, static_origin
from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.support import BOOTSTRAP_TOKEN, make_tenant
from tests.system.procs import ROOT, stack_on_new_databases
from tests.system.test_events_flow import eventually

pytestmark = [pytest.mark.system, pytest.mark.db, needs_chromium]
CONSOLE = ROOT / "examples" / "console"


def rows(page: Page, table: str) -> list[list[str]]:
    """The table's body as a person reads it: the visible text of each cell."""
    script = f"[...document.querySelectorAll('#{table} tbody tr')].map(r => [...r.cells].map(c => c.innerText.trim()))"
    value: list[list[str]] = page.evaluate(script)
    return value


def click(page: Page, selector: str) -> None:
    page.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


def visible(page: Page, element_id: str) -> bool:
    return bool(page.evaluate(f"!document.getElementById({json.dumps(element_id)}).closest('[hidden]')"))


async def test_the_console_shows_plans_the_sbu_grid_and_customs_exceptions(tmp_path: Path, databases) -> None:  # type: ignore[no-untyped-def]
    with static_origin(CONSOLE) as origin:
        stack = await stack_on_new_databases(
            databases,
            tmp_path / "data",
            "con",
            extra_env={"XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN, "XBM_CORS_ORIGINS": origin},
        )
        try:
            stack.wait_up()
            async with (
                stack.client("plans") as plans,
                stack.client("campaigns") as campaigns,
                stack.client("compliance") as compliance,
            ):
                tenant = await make_tenant(plans)
                plan = await new_plan(plans, tenant, name="Company A — golf kits 2027")
                await new_plan(plans, tenant, name="Company A — spring launch")
                customer, channel, product = await tactics(plans, tenant, plan["id"], None)
                sbu = await post(
                    plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor"
                )
                campaign = await campaigns.post(
                    "/v1/campaigns",
                    json={
                        "sbu_id": sbu["id"],
                        "kind": "sem",
                        "name": "Office golf search",
                        "budget": {"amount": "3000.00", "currency": "USD"},
                        "starts_on": "2027-03-01",
                        "ends_on": "2027-03-31",
                        "settings": BUILTIN_SETTINGS["sem"],
                    },
                    headers=tenant.auth("specialist"),
                )
                assert campaign.status_code == 201, campaign.text
                usd = "USD"
                metric_rows = [
                    {"date": f"2027-03-0{d}", "impressions": 1000, "clicks": 40, "conversions": 3,
                     "cost": {"amount": "250.00", "currency": usd}, "revenue": {"amount": "875.00", "currency": usd}}
                    for d in (1, 2)
                ]  # fmt: skip
                put = await campaigns.put(
                    f"/v1/campaigns/{campaign.json()['id']}/metrics",
                    json={"rows": metric_rows},
                    headers=tenant.auth("specialist"),
                )
                assert put.status_code == 200, put.text

                async def performance_known() -> Any:
                    grid = await plans.get(f"/v1/plans/{plan['id']}/sbu-grid", headers=tenant.auth("analyst"))
                    return grid.json()["cells"][0]["performance_known"]

                await eventually(performance_known, "campaigns' figures to reach the SBU grid")

                seller = await Seller(compliance, tenant).setup()
                declared, mismatched = new_order_no(), new_order_no()
                await seller.deliver_all(declared, buyer=buyer_id(91))
                view = await seller.deliver_all(mismatched, buyer=buyer_id(91), ship=waybill(mismatched, name="Nobody"))
                assert view["state"] == "mismatch", view
                failing = sorted(c["rule"] for c in view["checks"] if not c["passed"])

            with chromium(tmp_path / "profile") as browser:
                query = urlencode(
                    {
                        "plans": stack.urls["plans"],
                        "campaigns": stack.urls["campaigns"],
                        "compliance": stack.urls["compliance"],
                    }
                )
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

                page.evaluate(f"document.getElementById('api-key').value = {json.dumps(tenant.admin_key)}")
                click(page, "#sign-in-button")
                page.wait_for("document.querySelectorAll('#plans-table tbody tr').length === 2")
                assert page.evaluate("document.getElementById('who').innerText") == "Signed in (admin)"
                assert [r[:2] for r in rows(page, "plans-table")] == [
                    ["Company A — golf kits 2027", "draft"],
                    ["Company A — spring launch", "draft"],
                ]
                assert page.evaluate("document.getElementById('api-key').value") == ""  # the key is not kept

                click(page, f"#plans-table a[data-plan-id='{plan['id']}']")
                page.wait_for("document.querySelectorAll('#grid-table tbody tr').length === 1")
                assert page.evaluate("document.getElementById('grid-title').innerText") == (
                    "SBU grid — Company A — golf kits 2027"
                )
                (cells,) = rows(page, "grid-table")
                assert cells[0] == customer["name"] and cells[2] == product["name"]
                assert cells[1].startswith(channel["name"])
                assert cells[4] == "strong"
                assert cells[6:] == ["USD 10,000.00", "USD 500.00", "USD 1,750.00", "3.50"]

                click(page, "#nav-exceptions")
                page.wait_for("document.querySelectorAll('#exceptions-table tbody tr').length >= 1")
                listed = {r[0]: r for r in rows(page, "exceptions-table")}
                assert declared not in listed
                assert listed[mismatched][2:4] == ["mismatch", "documents disagree"]
                assert sorted(listed[mismatched][4].split()) == failing
                assert page.evaluate("document.getElementById('error').hidden")

                # signing out forgets the token: the queue is gone and the sign-in form is back
                click(page, "#sign-out")
                assert visible(page, "sign-in-form") and not visible(page, "exceptions-table")
                assert page.evaluate("sessionStorage.getItem('xbm-console-token')") is None
        finally:
            code = stack.stop(signal.SIGTERM)
        assert code == 0, stack.output()
