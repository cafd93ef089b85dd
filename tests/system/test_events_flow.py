"""The three services as processes, reacting to each other through their events:
retiring an SBU pauses its running campaign and reaches a tenant's subscriber (after a refused first attempt);
metrics written in campaigns appear in plans' SBU grid; a released order's revenue appears on its campaign."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from standardwebhooks.webhooks import Webhook

from tests.campaigns.support import campaign_body
from tests.compliance.support import Seller, buyer_id, new_order_no
from tests.compliance.test_messages import CEB, receipt_622, send
from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.support import BOOTSTRAP_TOKEN, make_tenant
from tests.system.procs import stack_on_new_databases

pytestmark = [pytest.mark.system, pytest.mark.db]


class Subscriber:
    """A tenant's webhook endpoint on loopback: refuses the first delivery with 503, accepts the rest."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = 503 if not outer.received else 200
                outer.received.append((dict(self.headers), body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/xbm"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    yield sub
    sub.close()


async def eventually(check: Callable[[], Awaitable[Any]], what: str, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.3)


async def test_services_react_to_each_other(tmp_path: Path, databases, subscriber: Subscriber) -> None:  # type: ignore[no-untyped-def]
    stack = await stack_on_new_databases(
        databases, tmp_path / "data", "ev", extra_env={"XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN}
    )
    try:
        stack.wait_up()
        async with (
            stack.client("plans") as plans,
            stack.client("campaigns") as campaigns,
            stack.client("compliance") as compliance,
        ):
            tenant = await make_tenant(plans)
            plan = await new_plan(plans, tenant)
            customer, channel, product = await tactics(plans, tenant, plan["id"], None)
            sbu = await post(
                plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor"
            )
            hook = await plans.post(
                "/v1/subscriptions", json={"url": subscriber.url, "event_types": ["sbu.retired"]}, headers=tenant.auth()
            )
            assert hook.status_code == 201, hook.text

            body = campaign_body(sbu["id"], budget={"amount": "3000.00", "currency": "CNY"}, utm_campaign="winter-sale")
            created = await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist"))
            assert created.status_code == 201, created.text
            campaign_id = created.json()["id"]
            for to in ("scheduled", "running"):
                moved = await campaigns.post(
                    f"/v1/campaigns/{campaign_id}/transitions", json={"to": to}, headers=tenant.auth("specialist")
                )
                assert moved.status_code == 200, moved.text

            # metrics written in campaigns appear in plans' SBU grid
            rows = [
                {
                    "date": f"2026-09-0{d}",
                    "impressions": 1000,
                    "clicks": 50,
                    "conversions": 2,
                    "cost": {"amount": "100.00", "currency": "CNY"},
                    "revenue": {"amount": "400.00", "currency": "CNY"},
                }
                for d in (1, 2, 3)
            ]
            put = await campaigns.put(
                f"/v1/campaigns/{campaign_id}/metrics", json={"rows": rows}, headers=tenant.auth("specialist")
            )
            assert put.status_code == 200, put.text

            async def grid_cell() -> dict[str, Any] | None:
                grid = (await plans.get(f"/v1/plans/{plan['id']}/sbu-grid", headers=tenant.auth("analyst"))).json()
                cell = next(c for c in grid["cells"] if c["sbu_id"] == sbu["id"])
                return cell if cell["performance_known"] else None

            cell = await eventually(grid_cell, "the SBU grid to show campaigns' figures")
            assert cell["spend"] == {"amount": "300.00", "currency": "CNY"}
            assert cell["revenue"]["amount"] == "1200.00" and cell["roas"] == "4.00"

            # a released order's revenue appears on its campaign (utm_campaign=winter-sale in the Shopify order)
            seller = await Seller(compliance, tenant).setup()
            order_no = new_order_no()
            view = await seller.deliver_all(order_no, buyer=buyer_id(77))
            assert view["state"] == "declared", view
            xml = await compliance.get(
                f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth()
            )
            cop_no = etree.fromstring(xml.content).findtext(f".//{{{CEB}}}copNo")
            await send(compliance, tenant, receipt_622(cop_no, 800))
            assert (await seller.order(order_no))["state"] == "released"

            async def attributed() -> dict[str, Any] | None:
                perf = await campaigns.get(f"/v1/campaigns/{campaign_id}/performance", headers=tenant.auth("analyst"))
                totals = perf.json()["totals"]
                return totals if totals["attributed_orders"] else None

            totals = await eventually(attributed, "the released order to be attributed to its campaign")
            assert totals["attributed_orders"] == 1
            assert totals["attributed_revenue"] == {"amount": "240.02", "currency": "CNY"}

            # retiring the SBU pauses its running campaign, and the tenant's subscriber gets sbu.retired
            retired = await plans.post(
                f"/v1/sbus/{sbu['id']}/retire",
                json={"reason": "moving to Amazon B2C"},
                headers=tenant.auth("supervisor"),
            )
            assert retired.status_code == 200, retired.text

            async def paused() -> bool:
                got = await campaigns.get(f"/v1/campaigns/{campaign_id}", headers=tenant.auth("analyst"))
                return bool(got.json()["status"] == "paused")

            await eventually(paused, "the retired SBU's campaign to be paused")

            async def delivered() -> bool:
                return len(subscriber.received) >= 2

            await eventually(delivered, "the subscriber's retried delivery", seconds=40)
            first, second = subscriber.received[0], subscriber.received[1]
            assert first[2] == 503 and second[2] == 200
            assert first[0]["webhook-id"] == second[0]["webhook-id"]
            event = Webhook(hook.json()["secret"]).verify(second[1], second[0])
            assert event["type"] == "sbu.retired" and event["data"]["sbu_id"] == sbu["id"]
            assert event["data"]["reason"] == "moving to Amazon B2C" and event["org_id"] == tenant.org_id

            deliveries = await plans.get(f"/v1/subscriptions/{hook.json()['id']}/deliveries", headers=tenant.auth())
            attempts = deliveries.json()["items"][0]["attempt_log"]
            assert [a["status_code"] for a in attempts] == [503, 200]
    finally:
        stack.stop(signal.SIGTERM)
