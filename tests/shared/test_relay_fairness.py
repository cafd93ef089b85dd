"""No subscriber can hold the relay: one that drips its answer, one that never answers, one that answers 300 MB and
300 subscriptions of one organisation leave another organisation's delivery (and the services' own) on time.

The subscribers are real HTTP servers on loopback, so the relay's own client, timeouts and reads are what is tested.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shared.context import context_of
from shared.events.relay import Relay
from shared.events.subscriptions.system import upsert_system_subscription
from tests.shared.test_events import toy  # noqa: F401 - the toy service with a test double subscriber
from tests.shared.toy.service import EVENTS, running
from tests.support import Tenant, assert_problem

HUGE = 300 * 1024 * 1024


@dataclass
class Endpoints:
    """One loopback server; the path says how it answers."""

    port: int = 0
    received: dict[str, list[str]] = field(default_factory=dict)
    huge_bytes_written: int = 0
    open_slow: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            body = await reader.readexactly(length)
            webhook_id = next(
                (
                    line.split(b":", 1)[1].strip().decode()
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"webhook-id")
                ),
                "",
            )
            self.received.setdefault(path, []).append(webhook_id)
            assert body
            if path.startswith("/fast"):
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
            elif path.startswith("/drip"):
                self.open_slow += 1
                try:
                    for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n":
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(0.5)
                finally:
                    self.open_slow -= 1
            elif path.startswith("/silent"):
                self.open_slow += 1
                try:
                    await asyncio.sleep(3600)
                finally:
                    self.open_slow -= 1
            elif path.startswith("/huge"):
                writer.write(f"HTTP/1.1 200 OK\r\ncontent-length: {HUGE}\r\n\r\n".encode())
                chunk = b"x" * 65536
                while self.huge_bytes_written < HUGE:
                    writer.write(chunk)
                    await writer.drain()
                    self.huge_bytes_written += len(chunk)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the relay hung up, or the test is over
        finally:
            writer.close()


@pytest.fixture
async def endpoints() -> AsyncIterator[Endpoints]:
    endpoints = Endpoints()
    server = await asyncio.start_server(endpoints.handle, "127.0.0.1", 0)
    endpoints.port = server.sockets[0].getsockname()[1]
    async with server:
        yield endpoints
        server.close()


@pytest.fixture
async def toy_app(databases, plans_app, tmp_path: Path) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:  # type: ignore[no-untyped-def]
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0))
    async with running(databases, plans_app, tmp_path, http, max_subscriptions_per_org=400) as running_toy:
        yield running_toy
    await http.aclose()


async def _subscribe(client: httpx.AsyncClient, tenant: Tenant, url: str) -> str:
    r = await client.post("/v1/subscriptions", json={"url": url, "event_types": ["toy.created"]}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _toy(client: httpx.AsyncClient, tenant: Tenant) -> str:
    r = await client.post("/v1/toys", json={"name": "putter"}, headers=tenant.auth("specialist"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _delivery(client: httpx.AsyncClient, tenant: Tenant, subscription_id: str) -> dict[str, Any]:
    r = await client.get(f"/v1/subscriptions/{subscription_id}/deliveries", headers=tenant.auth())
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1, items
    return dict(items[0])


async def test_slow_and_huge_subscribers_leave_another_organisations_delivery_on_time(
    toy_app, endpoints: Endpoints, tenant: Tenant, other_tenant: Tenant
) -> None:
    app, client = toy_app
    relay: Relay = context_of(app).require_relay()
    relay.send_timeout = 6.0
    for path in ("/drip", "/silent", "/huge"):
        await _subscribe(client, tenant, endpoints.url(path))
    await _toy(client, tenant)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run_forever(0.2, stop))
    try:
        # the slow attempts are under way: each holds one place in the relay, none holds the relay
        for _ in range(100):
            if endpoints.open_slow == 2 and endpoints.huge_bytes_written:
                break
            await asyncio.sleep(0.05)
        assert endpoints.open_slow == 2
        fast = await _subscribe(client, other_tenant, endpoints.url("/fast"))
        toy_id = await _toy(client, other_tenant)
        for _ in range(40):  # two relay passes are 0.4 s; the slow ones end after 6 s
            if endpoints.received.get("/fast"):
                break
            await asyncio.sleep(0.05)
        assert len(endpoints.received["/fast"]) == 1
        delivered = await _delivery(client, other_tenant, fast)
        for _ in range(20):
            if delivered["status"] == "delivered":
                break
            await asyncio.sleep(0.05)
            delivered = await _delivery(client, other_tenant, fast)
        assert delivered["status"] == "delivered" and delivered["attempts"] == 1, delivered
        # …while the first organisation's slow subscribers are still being waited for
        assert endpoints.open_slow == 2
        assert toy_id
    finally:
        stop.set()
        await running
    # every slow attempt ended within the bound, recorded as failed, and the 300 MB answer was not read whole
    r = await client.get("/v1/subscriptions", headers=tenant.auth())
    for subscription in r.json()["items"]:
        delivery = await _delivery(client, tenant, subscription["id"])
        assert delivery["attempts"] == 1, delivery
        if subscription["url"].endswith(("/drip", "/silent")):
            assert delivery["status"] == "pending" and "no complete answer" in delivery["last_error"], delivery
        else:
            assert delivery["status"] == "delivered", delivery
    assert endpoints.huge_bytes_written < HUGE // 10


async def test_three_hundred_subscriptions_of_one_organisation_do_not_delay_another(
    toy_app, endpoints: Endpoints, tenant: Tenant, other_tenant: Tenant
) -> None:
    app, client = toy_app
    relay: Relay = context_of(app).require_relay()
    for _ in range(300):
        await _subscribe(client, tenant, endpoints.url("/silent"))
    for _ in range(3):
        await _toy(client, tenant)  # 900 deliveries due, each to an endpoint that never answers
    fast = await _subscribe(client, other_tenant, endpoints.url("/fast"))
    await _toy(client, other_tenant)
    async with context_of(app).sessionmaker() as session:
        system = await upsert_system_subscription(
            session, EVENTS, "plans", endpoints.url("/fast-internal"), ["toy.created"], "whsec_" + "a" * 32
        )
        await session.commit()
    await _toy(client, tenant)  # the services' own subscription gets this one, due after 1,200 others
    async with context_of(app).sessionmaker() as session:
        D = EVENTS.Delivery
        due = (await session.execute(select(D.subscription_id).order_by(D.next_attempt_at, D.id))).scalars().all()
    assert len(due) == 1202 and due.index(fast) >= 900 and due.index(system.id) > 900
    first = await relay.claim(1)
    assert [s.id for _, _, s in first] == [system.id]  # the services' own first
    claimed = await relay.claim(relay.batch)
    subscriptions = [s.id for _, _, s in claimed]
    assert fast in subscriptions  # then round robin: the other organisation is in the next claim
    assert len(claimed) == relay.batch
    assert max(Counter(subscriptions).values()) <= relay.per_subscription


async def test_an_organisation_holds_a_bounded_number_of_subscriptions(toy, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    app, client, _ = toy
    cap = context_of(app).settings.max_subscriptions_per_org
    for _ in range(cap):
        await _subscribe(client, tenant, "http://127.0.0.1:9/hook")
    r = await client.post(
        "/v1/subscriptions",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["toy.created"]},
        headers=tenant.auth(),
    )
    assert str(cap) in assert_problem(r, 409)["detail"]
