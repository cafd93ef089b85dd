"""compliance's events: each order transition publishes its event in the same transaction, tenants receive them
signed, no buyer or payer identity ever leaves in one; Idempotency-Key on intake; locks taken in one order."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from standardwebhooks.webhooks import Webhook

from services.compliance.events import EVENTS
from services.compliance.orders import declaration, locks, matching
from services.compliance.orders.models import Order
from shared.context import context_of
from shared.db import lock_conflict_as_unavailable
from shared.errors import Conflict, Unavailable
from shared.events.relay import Relay
from tests.compliance.support import (
    EBP,
    LOGISTICS,
    Seller,
    buyer_id,
    new_order_no,
    payment,
    profile,
    shopify_order,
    waybill,
)
from tests.compliance.test_messages import CEB, declared_order, receipt_622, send, xml_headers
from tests.conftest import BACKEND
from tests.support import Tenant, assert_problem

EVENT_TYPES = ["order.matched", "order.mismatch", "order.declared", "order.cleared", "order.released"]
#: what a buyer or payer is known by in the test documents: none of it may appear in an event
BUYER_TRACES = ("Jiao", "Hongyu", "Zhongguancun", "2265", "13522652231")


async def events_of(app: Any, org_id: str, order_no: str) -> list[Any]:
    E = EVENTS.OutboxEvent
    async with context_of(app).sessionmaker() as session:
        rows = (await session.execute(select(E).where(E.org_id == org_id))).scalars().all()
    mine = [e for e in rows if e.payload.get("order_no") == order_no]
    return sorted(mine, key=lambda e: (e.occurred_at, e.created_at))


def assert_no_pii(payloads: list[dict[str, Any]], *id_numbers: str) -> None:
    blob = json.dumps(payloads)
    for trace in (*id_numbers, *(f"{n[:4]}**********{n[-4:]}" for n in id_numbers), *BUYER_TRACES):
        assert trace not in blob, f"{trace!r} leaked into an event"


async def test_a_full_match_publishes_matched_then_declared_in_the_same_request(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(81)
    await seller.send_order(shopify_order(order_no, buyer=b))
    await seller.send_payment(payment(order_no, buyer=b))
    assert await events_of(compliance_app, tenant.org_id, order_no) == []  # still awaiting the waybill
    view = await seller.deliver_all(order_no, buyer=b)
    assert view["state"] == "declared"

    events = await events_of(compliance_app, tenant.org_id, order_no)
    assert [e.type for e in events] == ["order.matched", "order.declared"]
    matched, declared = (e.payload for e in events)
    assert matched == {
        "ebp_code": EBP,
        "order_no": order_no,
        "state": "matched",
        "previous_state": "awaiting_documents",
        "utm_campaign": "winter-sale",
        "amount": "240.02",
        "currency": "CNY",
        "declaration_id": None,
    }
    assert declared == {**matched, "state": "declared", "previous_state": "matched",
                        "declaration_id": view["declaration_id"]}  # fmt: skip
    assert events[1].occurred_at == datetime.fromisoformat(view["state_changed_at"])
    assert_no_pii([matched, declared], b)


async def test_a_mismatch_publishes_the_failing_rules(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(82)
    pay = payment(order_no, buyer=b, amount="240.00", payer_name="Someone Else")
    pay["payer"]["id_number"] = buyer_id(83)
    view = await seller.deliver_all(order_no, buyer=b, pay=pay)
    assert view["state"] == "mismatch"

    events = await events_of(compliance_app, tenant.org_id, order_no)
    assert [e.type for e in events] == ["order.mismatch"]
    data = events[0].payload
    failing = [c["rule"] for c in view["checks"] if not c["passed"]]
    assert data["failing_rules"] == failing and {"amount_paid", "payer_identity"} <= set(failing)
    assert data["state"] == "mismatch" and data["previous_state"] == "awaiting_documents"
    assert data["declaration_id"] is None and data["amount"] == "240.02"
    assert_no_pii([data], b, buyer_id(83))
    assert "Someone" not in json.dumps(data)


async def test_receipts_publish_cleared_and_released_once(compliance, compliance_app, tenant):
    seller, order_no, cop_no = await declared_order(compliance, tenant, 84)
    for status in (120, 399, 399, 800, 800):  # accepted (no event), cleared, released; repeats change nothing
        await send(compliance, tenant, receipt_622(cop_no, status))
    view = await seller.order(order_no)
    assert view["state"] == "released"

    events = await events_of(compliance_app, tenant.org_id, order_no)
    assert [e.type for e in events] == ["order.matched", "order.declared", "order.cleared", "order.released"]
    cleared, released = events[2].payload, events[3].payload
    assert cleared["previous_state"] == "accepted" and cleared["state"] == "cleared"
    assert released["previous_state"] == "cleared" and released["state"] == "released"
    assert released["declaration_id"] == view["declaration_id"]
    assert (released["amount"], released["currency"], released["utm_campaign"]) == ("240.02", "CNY", "winter-sale")
    assert events[3].occurred_at == datetime.fromisoformat(view["released_at"])
    assert_no_pii([e.payload for e in events], buyer_id(84))


async def test_a_failed_request_leaves_neither_the_state_change_nor_its_event(
    compliance, compliance_app, tenant, monkeypatch
):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(85)
    await seller.send_order(shopify_order(order_no, buyer=b))
    await seller.send_payment(payment(order_no, buyer=b))
    declare = matching.declare

    async def refused(session, order, chosen=None):  # type: ignore[no-untyped-def]
        await declare(session, order, chosen)  # matched and declared, with their events … then the request fails
        raise Conflict("customs refused the connection")

    monkeypatch.setattr(matching, "declare", refused)
    assert_problem(await seller.send_waybill(waybill(order_no)), 409)
    assert await events_of(compliance_app, tenant.org_id, order_no) == []
    view = await seller.order(order_no)
    assert view["state"] == "awaiting_documents" and view["documents"]["waybill"] is None

    monkeypatch.setattr(matching, "declare", declare)
    assert (await seller.send_waybill(waybill(order_no))).status_code == 200
    types = [e.type for e in await events_of(compliance_app, tenant.org_id, order_no)]
    assert types == ["order.matched", "order.declared"]


class Subscriber:
    def __init__(self) -> None:
        self.received: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        return httpx.Response(200)

    def at(self, url: str) -> list[httpx.Request]:
        return [r for r in self.received if str(r.url) == url]


async def _subscribe(compliance: httpx.AsyncClient, tenant: Tenant, types: list[str]) -> tuple[str, dict[str, Any]]:
    url = f"http://127.0.0.1:9/hooks/{uuid.uuid4().hex}"
    r = await compliance.post("/v1/subscriptions", json={"url": url, "event_types": types}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return url, r.json()


async def test_a_tenant_subscription_receives_order_released_signed(compliance, compliance_app, tenant, other_tenant):
    url, sub = await _subscribe(compliance, tenant, ["order.released"])
    their_url, _ = await _subscribe(compliance, other_tenant, EVENT_TYPES)
    r = await compliance.post(
        "/v1/subscriptions", json={"url": url, "event_types": ["order.shipped"]}, headers=tenant.auth()
    )
    assert "order.released" in assert_problem(r, 422)["detail"]

    _, order_no, cop_no = await declared_order(compliance, tenant, 86)
    for status in (399, 800):
        await send(compliance, tenant, receipt_622(cop_no, status))

    subscriber = Subscriber()
    async with httpx.AsyncClient(transport=httpx.MockTransport(subscriber)) as http:
        relay = Relay(context_of(compliance_app).sessionmaker, EVENTS, http, context_of(compliance_app).outbound_policy)
        while await relay.run_once():
            pass
    assert subscriber.at(their_url) == [], "another organisation's subscription hears nothing of this one"
    [request] = subscriber.at(url)
    envelope = Webhook(sub["secret"]).verify(request.content, dict(request.headers))
    assert envelope["type"] == "order.released" and envelope["org_id"] == tenant.org_id
    data = envelope["data"]
    assert (data["ebp_code"], data["order_no"], data["state"]) == (EBP, order_no, "released")
    assert (data["amount"], data["currency"], data["utm_campaign"]) == ("240.02", "CNY", "winter-sale")
    assert_no_pii([envelope], buyer_id(86))

    deliveries = await compliance.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=tenant.auth())
    assert [d["status"] for d in deliveries.json()["items"]] == ["delivered"]


def _canonical(order_no: str, b: str, utm: str = "spring") -> dict[str, Any]:
    return {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "goods_value": "200.00", "freight": "20.00",
        "tax_total": "20.02", "actual_paid": "240.02", "currency": "142",
        "buyer": {"reg_no": "u1", "name": "Jiao Hongyu", "id_number": b, "telephone": "13522652231"},
        "consignee": {"name": "Jiao Hongyu", "telephone": "13522652231",
                      "address": "Beijing Haidian 1 Zhongguancun Street"},
        "items": [{"gnum": 1, "item_no": "SCARF-1", "name": "Wool scarf", "qty": "2", "price": "100", "total": "200"}],
        "utm_campaign": utm,
    }  # fmt: skip


async def test_idempotency_key_on_orders_replays_the_first_response(compliance, compliance_app, tenant):
    await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(87)
    headers = {**tenant.auth("integration"), "Idempotency-Key": f"order-{order_no}"}
    first = await compliance.post("/v1/compliance/orders", json=_canonical(order_no, b), headers=headers)
    again = await compliance.post("/v1/compliance/orders", json=_canonical(order_no, b), headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    plain = await compliance.post(
        "/v1/compliance/orders", json=_canonical(order_no, b), headers=tenant.auth("integration")
    )
    assert plain.status_code == 200 and plain.json()["status"] == "duplicate"  # without the key: a duplicate

    other = await compliance.post("/v1/compliance/orders", json=_canonical(order_no, b, "summer"), headers=headers)
    assert "different request" in assert_problem(other, 422)["detail"]
    async with context_of(compliance_app).sessionmaker() as session:
        stored = (await session.execute(select(Order).where(Order.org_id == tenant.org_id))).scalars().all()
    assert [(o.order_no, o.utm_campaign, o.currency) for o in stored] == [(order_no, "spring", "CNY")]


async def test_a_late_customs_profile_declares_the_matched_orders_in_batches(
    compliance, compliance_app, tenant, monkeypatch
):
    monkeypatch.setattr(declaration, "DECLARE_BATCH", 2)
    seller = await Seller(compliance, tenant).setup(profile=False)
    waiting = [new_order_no() for _ in range(3)]
    for n, order_no in enumerate(waiting):
        assert (await seller.deliver_all(order_no, buyer=buyer_id(90 + n)))["state"] == "matched"

    created = await compliance.put("/v1/compliance/customs-profile", json=profile(tenant), headers=tenant.auth())
    assert created.status_code == 201, created.text
    states = [(await seller.order(n))["state"] for n in waiting]
    assert states == ["declared", "declared", "matched"], "the oldest first, at most one batch per save"
    first = await seller.order(waiting[0])
    assert first["declaration_id"]
    xml = await compliance.get(f"/v1/compliance/declarations/{first['declaration_id']}/xml", headers=tenant.auth())
    assert xml.status_code == 200 and etree.fromstring(xml.content).findtext(f".//{{{CEB}}}orderNo") == waiting[0]

    again = await compliance.put(
        "/v1/compliance/customs-profile",
        json=profile(tenant),
        headers={**tenant.auth(), "If-Match": created.headers["etag"]},
    )
    assert again.status_code == 200, again.text
    assert (await seller.order(waiting[2]))["state"] == "declared"
    for order_no in waiting:
        events = await events_of(compliance_app, tenant.org_id, order_no)
        assert [e.type for e in events] == ["order.matched", "order.declared"]
        assert events[1].payload["previous_state"] == "matched"


def waybills_message(order_nos: list[str]) -> bytes:
    heads = "".join(
        f"""<ceb:Logistics><ceb:LogisticsHead><ceb:logisticsCode>{LOGISTICS}</ceb:logisticsCode>
        <ceb:logisticsNo>L{n}</ceb:logisticsNo><ceb:orderNo>{n}</ceb:orderNo><ceb:freight>20</ceb:freight>
        <ceb:weight>0.4</ceb:weight><ceb:consignee>Li Xiaoke</ceb:consignee>
        <ceb:consigneeAddress>Beijing</ceb:consigneeAddress><ceb:consigneeTelephone>13936921298</ceb:consigneeTelephone>
        </ceb:LogisticsHead></ceb:Logistics>"""
        for n in order_nos
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ceb:CEB511Message xmlns:ceb="{CEB}" guid="{uuid.uuid4()}" version="1.0">{heads}</ceb:CEB511Message>""".encode()


async def _lock_waits(app: Any) -> int:
    async with context_of(app).engine.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(count or 0)


async def _until_waiting(app: Any, n: int) -> None:
    for _ in range(500):
        if await _lock_waits(app) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {n} requests waiting on a lock")


async def test_messages_naming_the_same_orders_in_opposite_order_both_succeed(compliance, compliance_app, tenant):
    """Each message locks its order numbers in sorted order. On PostgreSQL the test forces the interleaving that
    deadlocks when a message locks in document order: a third transaction holds B while the message [B, A]
    starts, then the message [A, B] starts, then B is released."""
    a, b = sorted([new_order_no(), new_order_no()])
    first, second = waybills_message([b, a]), waybills_message([a, b])
    post = compliance.post

    async def deliver(body: bytes) -> httpx.Response:
        return await post("/v1/compliance/messages", content=body, headers=xml_headers(tenant))

    if BACKEND == "postgres":
        async with context_of(compliance_app).sessionmaker() as holder:
            await locks.lock_order_nos(holder, tenant.org_id, [b])
            one = asyncio.create_task(deliver(first))
            await _until_waiting(compliance_app, 1)
            two = asyncio.create_task(deliver(second))
            await _until_waiting(compliance_app, 2)
            await holder.commit()
        responses = await asyncio.gather(one, two)
    else:
        responses = await asyncio.gather(deliver(first), deliver(second))
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert sorted(r.json()["stored"] for r in responses) == [0, 2]


async def test_receipts_for_one_order_arriving_together_are_both_kept(compliance, compliance_app, tenant):
    """Each receipt message locks its orders, then re-reads them: neither receipt overwrites the other."""
    seller, order_no, cop_no = await declared_order(compliance, tenant, 88)
    cleared, released = receipt_622(cop_no, 399), receipt_622(cop_no, 800)
    if BACKEND == "postgres":
        async with context_of(compliance_app).sessionmaker() as holder:
            await locks.lock_order_nos(holder, tenant.org_id, [order_no])
            one = asyncio.create_task(send(compliance, tenant, released))
            await _until_waiting(compliance_app, 1)
            two = asyncio.create_task(send(compliance, tenant, cleared))
            await _until_waiting(compliance_app, 2)
            await holder.commit()
        results = await asyncio.gather(one, two)
    else:
        results = await asyncio.gather(send(compliance, tenant, released), send(compliance, tenant, cleared))
    assert [r["applied"] for r in results] == [1, 1]
    view = await seller.order(order_no)
    assert view["state"] == "released"
    assert sorted(r["status"] for r in view["receipts"]) == [399, 800]


class _Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_deadlock_is_a_503_to_retry_and_other_database_errors_are_not_hidden():
    with pytest.raises(Unavailable) as caught:
        async with lock_conflict_as_unavailable():
            raise DBAPIError("UPDATE orders", {}, _Deadlock("deadlock detected"))
    assert caught.value.status == 503 and caught.value.headers["Retry-After"] == "1"
    with pytest.raises(DBAPIError):
        async with lock_conflict_as_unavailable():
            raise DBAPIError("UPDATE orders", {}, ValueError("disk full"))
