"""A season of orders for the customer register: import buyers released through customs receipts over HTTP,
export buyers through the orders' state change, on a clock the test controls (so orders are months apart)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from lxml import etree
from standardwebhooks.webhooks import Webhook

from services.compliance.orders import intake as orders_intake
from services.compliance.orders import locks as orders_locks
from services.compliance.orders import lookup as orders_lookup
from services.compliance.orders import returns as orders_returns
from services.compliance.orders import state as orders_state
from shared.context import context_of
from shared.events.outbox import derive_webhook_secret
from tests.compliance.support import EBP, Seller, answer, buyer_id, new_order_no, payment, waybill
from tests.compliance.test_messages import CEB, receipt_622, send
from tests.support import SERVICE_SECRET, Tenant

#: the end of the season's window (exclusive): ``to=2026-06-30``
END = datetime(2026, 7, 1, tzinfo=UTC)
WINDOW = "from=2025-07-01&to=2026-06-30"


def customs_time(at: datetime) -> str:
    """``at`` as a receipt's returnTime: China time, 17 digits."""
    return at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d%H%M%S") + "000"


class Clock:
    """What ``utcnow`` answers inside the orders' domain while the test releases and returns orders."""

    def __init__(self, monkeypatch: Any):
        self.now = END
        for module in (orders_state, orders_intake, orders_locks):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)
        monkeypatch.setattr(orders_returns, "utcnow", lambda: self.now)

    def days_before_end(self, days: int) -> None:
        self.now = END - timedelta(days=days) + timedelta(hours=1)


async def release_import(seller: Seller, clock: Clock | None, buyer: str, days_before_end: int = 0) -> str:
    """An import order of ``buyer`` matched, declared and released by customs (CEB622 800) that day (now,
    without a clock)."""
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer)
    assert view["state"] == "declared", view["checks"]
    c, tenant = seller.client, seller.tenant
    xml = await c.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth())
    cop_no = etree.fromstring(xml.content).findtext(f".//{{{CEB}}}copNo")
    if clock is not None:
        clock.days_before_end(days_before_end)
    # customs' own times, on the test's clock: the return windows count from the release receipt's returnTime
    now = clock.now if clock is not None else datetime.now(UTC)
    await send(c, tenant, receipt_622(cop_no, 399, customs_time(now - timedelta(minutes=2))))
    await send(c, tenant, receipt_622(cop_no, 800, customs_time(now - timedelta(minutes=1))))
    assert (await seller.order(order_no))["state"] == "released"
    return order_no


def export_order(order_no: str, n: int, amount: str, *, email: str | None, phone: str, country: str | None,
                 customs_country: str = "502") -> dict[str, Any]:  # fmt: skip
    buyer: dict[str, Any] = {"reg_no": f"u{n}", "name": f"Buyer {n}", "id_number": buyer_id(n), "telephone": phone}
    if email is not None:
        buyer["email"] = email
    if country is not None:
        buyer["country"] = country
    return {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "trade_direction": "export",
        "goods_value": amount, "freight": "0", "discount": "0", "tax_total": "0", "actual_paid": amount,
        "currency": "USD", "country": customs_country, "buyer": buyer, "destination_country": country or "US",
        "consignee": {"name": f"Buyer {n}", "telephone": phone, "address": "1 Main St, Springfield",
                      "country": country or "US"},
        "items": [{"gnum": 1, "item_no": "SCARF-1", "name": "Wool scarf", "qty": "1", "price": amount,
                   "total": amount}],
    }  # fmt: skip


async def declare_export(seller: Seller, order: dict[str, Any]) -> None:
    n_buyer = order["buyer"]
    pay = payment(order["order_no"], buyer=n_buyer["id_number"], amount=order["actual_paid"],
                  payer_name=n_buyer["name"], currency="USD")  # fmt: skip
    ship = waybill(order["order_no"], name=n_buyer["name"], phone=n_buyer["telephone"],
                   address="1 Main St, Springfield")  # fmt: skip
    ship |= {"pod": "002", "destination_country": order["destination_country"]}
    ship["consignee"]["country"] = order["destination_country"]
    integration = seller.tenant.auth("integration")
    for path, doc in (("orders", order), ("payments", pay), ("waybills", ship)):
        r = await seller.client.post(f"/v1/compliance/{path}", json=doc, headers=integration)
        assert r.status_code == 201, r.text
    view = await seller.order(order["order_no"])
    assert view["state"] == "declared", [c for c in view["checks"] if not c["passed"]]


async def release_export(app: Any, seller: Seller, clock: Clock, order: dict[str, Any], days_before_end: int) -> None:
    """Export receipts are being reshaped (CEB604): release the export order through the orders' one
    state-change function, as any receipt that releases it does."""
    await declare_export(seller, order)
    clock.days_before_end(days_before_end)
    async with context_of(app).sessionmaker() as session:
        found = await orders_lookup.get_order(session, seller.tenant.org_id, EBP, order["order_no"])
        await orders_state.change_state(session, found, "released")
        await session.commit()


async def return_order(seller: Seller, order_no: str) -> None:
    """The buyer's return declared to customs (CEB625) and approved by its receipt (CEB626 399)."""
    path = f"/v1/compliance/orders/{EBP}/{order_no}/returns"
    r = await seller.client.post(path, json={"reason": "changed mind"}, headers=seller.tenant.auth("integration"))
    assert r.status_code in (200, 201), r.text
    await send(seller.client, seller.tenant, answer("CEB626Message", "InvtRefundReturn", r.json()["cop_no"], 399))
    assert (await seller.order(order_no))["state"] == "returned_by_buyer"


async def announce_tier(compliance: httpx.AsyncClient, tenant: Tenant, type_: str, data: dict[str, Any]) -> dict:
    """A ``membership_tier.*`` event from plans, signed as plans' relay signs it."""
    body = json.dumps(
        {"id": str(uuid.uuid4()), "type": type_, "timestamp": datetime.now(UTC).isoformat(),
         "org_id": tenant.org_id, "data": data}
    ).encode()  # fmt: skip
    msg_id = "evt_" + uuid.uuid4().hex
    signature = Webhook(derive_webhook_secret(SERVICE_SECRET, "plans->compliance")).sign(
        msg_id, datetime.now(UTC), body.decode()
    )
    headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-signature": signature,
               "webhook-timestamp": str(int(datetime.now(UTC).timestamp()))}  # fmt: skip
    r = await compliance.post("/internal/events/plans", content=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def tier(tier_id: str, plan_id: str, name: str, level: int, min_orders: int, **extra: Any) -> dict[str, Any]:
    return {"tier_id": tier_id, "plan_id": plan_id, "name": name, "level": level, "min_orders": min_orders,
            "min_spend": extra.get("min_spend"), "window_days": extra.get("window_days", 365),
            "changed_at": extra.get("changed_at", datetime.now(UTC).isoformat())}  # fmt: skip
