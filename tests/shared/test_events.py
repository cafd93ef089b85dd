"""Outbox, relay, subscriptions, inbox and Idempotency-Key, proven on a minimal service built on shared/."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook

from shared.context import context_of
from shared.db import utcnow
from shared.events.outbox import MAX_ATTEMPTS, RETRY_DELAYS, derive_webhook_secret, retry_delay
from shared.events.relay import signed_headers
from shared.idempotency import request_fingerprint
from tests.conftest import BACKEND
from tests.shared.toy.service import EVENTS, IdempotencyKey, Toy, running
from tests.support import Tenant, assert_problem

HOOK = "http://127.0.0.1:9/hook"


class Subscriber:
    """A webhook endpoint: answers from a script of status codes (then 200) and keeps what it received."""

    def __init__(self) -> None:
        self.script: list[int | Exception] = []
        self.received: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        outcome = self.script.pop(0) if self.script else 200
        if isinstance(outcome, Exception):
            raise outcome
        return httpx.Response(outcome)

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


@pytest.fixture
async def toy(databases, plans_app, tmp_path: Path) -> AsyncIterator[tuple[Any, httpx.AsyncClient, Subscriber]]:  # type: ignore[no-untyped-def]
    subscriber = Subscriber()
    http = httpx.AsyncClient(transport=httpx.MockTransport(subscriber))
    async with running(databases, plans_app, tmp_path, http) as (app, client):
        yield app, client, subscriber
    await http.aclose()


async def _subscribe(client: httpx.AsyncClient, tenant: Tenant, url: str = HOOK) -> dict[str, Any]:
    response = await client.post(
        "/v1/subscriptions", json={"url": url, "event_types": ["toy.created"]}, headers=tenant.auth()
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _make_toy(client: httpx.AsyncClient, tenant: Tenant, name: str = "putter") -> str:
    response = await client.post("/v1/toys", json={"name": name}, headers=tenant.auth("specialist"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _make_due(app: Any) -> None:
    async with context_of(app).sessionmaker() as session:
        await session.execute(update(EVENTS.Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        await session.commit()


async def test_subscriptions_are_admin_only_and_tenant_scoped(toy, tenant: Tenant, other_tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = toy
    created = await _subscribe(client, tenant)
    assert created["secret"].startswith("whsec_") and created["status"] == "active"
    got = await client.get(f"/v1/subscriptions/{created['id']}", headers=tenant.auth())
    assert got.status_code == 200 and "secret" not in got.json() and got.headers["etag"]
    listed = (await client.get("/v1/subscriptions", headers=tenant.auth())).json()["items"]
    assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]

    assert_problem(await client.get(f"/v1/subscriptions/{created['id']}", headers=other_tenant.auth()), 404)
    assert_problem(await client.delete(f"/v1/subscriptions/{created['id']}", headers=other_tenant.auth()), 404)
    for role in ("executive", "supervisor", "specialist", "analyst", "integration"):
        response = await client.post(
            "/v1/subscriptions", json={"url": HOOK, "event_types": ["toy.created"]}, headers=tenant.auth(role)
        )
        assert_problem(response, 403)
    assert_problem(await client.get("/v1/subscriptions"), 401)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00::1]/x",
        "ftp://example.com/x",
        "http://user:pw@127.0.0.1/x",
        "not a url",
    ],
)
async def test_subscriptions_cannot_reach_internal_hosts(toy, tenant: Tenant, url: str) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = toy
    response = await client.post(
        "/v1/subscriptions", json={"url": url, "event_types": ["toy.created"]}, headers=tenant.auth()
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][-1] == "url"


async def test_unknown_event_types_are_refused(toy, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = toy
    response = await client.post(
        "/v1/subscriptions", json={"url": HOOK, "event_types": ["toy.eaten"]}, headers=tenant.auth()
    )
    assert "toy.created" in assert_problem(response, 422)["detail"]


async def test_an_event_is_saved_with_its_state_change_and_delivered_signed(
    toy, tenant: Tenant, other_tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    app, client, subscriber = toy
    sub = await _subscribe(client, tenant)
    await _subscribe(client, other_tenant)  # must not receive tenant's events
    toy_id = await _make_toy(client, tenant)

    subscriber.script = [503]
    assert await context_of(app).require_relay().run_once() == 1
    deliveries = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=tenant.auth())).json()["items"]
    assert len(deliveries) == 1
    first = deliveries[0]
    assert first["status"] == "pending" and first["attempts"] == 1 and first["last_status_code"] == 503
    assert first["attempt_log"][0]["status_code"] == 503 and first["attempt_log"][0]["error"] == "HTTP 503"
    retry_in = (datetime.fromisoformat(first["next_attempt_at"]) - utcnow()).total_seconds()
    assert 0 < retry_in <= 10, "the first retry comes within 10 s"

    await _make_due(app)
    assert await context_of(app).require_relay().run_once() == 1
    delivered = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=tenant.auth())).json()["items"][
        0
    ]
    assert delivered["status"] == "delivered" and delivered["attempts"] == 2
    assert [a["status_code"] for a in delivered["attempt_log"]] == [503, 200]

    assert len(subscriber.received) == 2
    request = subscriber.received[-1]
    payload = Webhook(sub["secret"]).verify(request.content, dict(request.headers))
    assert payload["type"] == "toy.created" and payload["data"] == {"id": toy_id, "name": "putter"}
    assert payload["org_id"] == tenant.org_id
    assert subscriber.ids()[0] == subscriber.ids()[1] == payload["id"]


async def test_a_failed_request_leaves_no_event(toy, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    app, client, _ = toy
    await _subscribe(client, tenant)
    response = await client.post("/v1/toys", json={"name": ""}, headers=tenant.auth("specialist"))
    assert_problem(response, 422)
    async with context_of(app).sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(EVENTS.OutboxEvent).where(EVENTS.OutboxEvent.org_id == tenant.org_id)
        )
    assert count == 0


async def test_410_disables_the_subscription(toy, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    app, client, subscriber = toy
    sub = await _subscribe(client, tenant)
    await _make_toy(client, tenant)
    await _make_toy(client, tenant, "driver")
    subscriber.script = [410, 410]
    await context_of(app).require_relay().run_once()
    got = (await client.get(f"/v1/subscriptions/{sub['id']}", headers=tenant.auth())).json()
    assert got["status"] == "disabled" and "410" in got["disabled_reason"]
    await _make_toy(client, tenant, "wedge")  # no delivery for a disabled subscription
    await _make_due(app)
    subscriber.received.clear()
    assert await context_of(app).require_relay().run_once() == 0 and subscriber.received == []

    enabled = await client.patch(f"/v1/subscriptions/{sub['id']}", json={"status": "active"}, headers=tenant.auth())
    assert enabled.json()["status"] == "active"


async def test_after_ten_attempts_a_delivery_is_dead_and_can_be_replayed(toy, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    app, client, subscriber = toy
    sub = await _subscribe(client, tenant)
    await _make_toy(client, tenant)
    subscriber.script = [500] * (MAX_ATTEMPTS - 1) + [httpx.ConnectError("refused")]
    for _ in range(MAX_ATTEMPTS):
        assert await context_of(app).require_relay().run_once() == 1
        await _make_due(app)
    assert await context_of(app).require_relay().run_once() == 0
    delivery = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=tenant.auth())).json()["items"][0]
    assert delivery["status"] == "dead" and delivery["attempts"] == MAX_ATTEMPTS == 10
    assert "ConnectError" in delivery["last_error"]

    replay = await client.post(
        f"/v1/subscriptions/{sub['id']}/deliveries/{delivery['id']}/replay", headers=tenant.auth()
    )
    assert replay.status_code == 202
    again = await client.post(
        f"/v1/subscriptions/{sub['id']}/deliveries/{delivery['id']}/replay", headers=tenant.auth()
    )
    assert_problem(again, 409)
    assert await context_of(app).require_relay().run_once() == 1
    delivery = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=tenant.auth())).json()["items"][0]
    assert delivery["status"] == "delivered"


def test_retry_schedule_first_within_10s_ten_attempts_over_about_three_days() -> None:
    assert MAX_ATTEMPTS == 10
    assert retry_delay(1) is not None and retry_delay(1) <= 10  # type: ignore[operator]
    assert retry_delay(MAX_ATTEMPTS) is None
    total_days = sum(RETRY_DELAYS) / 86400
    assert 2.5 <= total_days <= 3.5
    jittered = {retry_delay(3) for _ in range(20)}
    assert len(jittered) > 1 and all(96 <= d <= 144 for d in jittered)  # type: ignore[operator]


async def test_a_relay_killed_between_sending_and_recording_loses_nothing(toy, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    app, client, subscriber = toy
    await _subscribe(client, tenant)
    await _make_toy(client, tenant)
    relay = context_of(app).require_relay()
    claimed = await relay.claim()
    assert len(claimed) == 1
    await relay.send(*claimed[0])  # sent … and the process dies before recording the outcome
    assert len(subscriber.received) == 1
    assert await relay.claim() == [], "a leased row is not claimed again while the lease runs"
    await _make_due(app)  # the lease runs out
    assert await relay.run_once() == 1
    assert len(subscriber.received) == 2 and subscriber.ids()[0] == subscriber.ids()[1]


async def test_two_relays_never_send_one_row_twice(toy, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    if BACKEND != "postgres":
        pytest.skip("SKIP LOCKED is PostgreSQL's; on SQLite XBM runs a single relay")
    from shared.events.relay import Relay

    app, client, subscriber = toy
    await _subscribe(client, tenant)
    for i in range(120):
        await _make_toy(client, tenant, f"club {i}")

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.005)
        return subscriber(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as http:
        relays = [
            Relay(context_of(app).sessionmaker, EVENTS, http, context_of(app).outbound_policy, batch=7)
            for _ in range(2)
        ]

        async def drain(relay: Relay) -> None:
            while await relay.run_once():
                pass

        await asyncio.gather(*(drain(r) for r in relays))
    counts = Counter(subscriber.ids())
    assert len(counts) == 120 and set(counts.values()) == {1}


async def test_the_inbox_applies_a_redelivered_event_once(toy) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = toy
    secret = derive_webhook_secret("toy-service-secret", "toys->toys")
    body = json.dumps({"id": "evt_1", "type": "toy.created", "data": {"id": "x"}}).encode()
    headers = signed_headers(secret, "evt_1", body)
    first = await client.post("/internal/events/toys", content=body, headers=headers)
    second = await client.post("/internal/events/toys", content=body, headers=headers)
    assert first.json() == {"applied": True} and second.json() == {"applied": False}
    forged = signed_headers(derive_webhook_secret("other", "toys->toys"), "evt_2", body)
    assert_problem(await client.post("/internal/events/toys", content=body, headers=forged), 401)


async def test_idempotency_key_replays_the_first_response(toy, tenant: Tenant, other_tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    app, client, _ = toy
    headers = {**tenant.auth("specialist"), "Idempotency-Key": "order-42"}
    first = await client.post("/v1/toys", json={"name": "iron"}, headers=headers)
    second = await client.post("/v1/toys", json={"name": "iron"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == first.headers["location"]
    async with context_of(app).sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(Toy).where(Toy.org_id == tenant.org_id))
    assert stored == 1

    other_body = await client.post("/v1/toys", json={"name": "wood"}, headers=headers)
    assert "different request" in assert_problem(other_body, 422)["detail"]
    # keys are kept per organisation
    theirs = await client.post(
        "/v1/toys", json={"name": "iron"}, headers={**other_tenant.auth("specialist"), "Idempotency-Key": "order-42"}
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert_problem(
        await client.post("/v1/toys", json={"name": "x"}, headers={**headers, "Idempotency-Key": "bad key"}), 400
    )


async def test_idempotency_key_while_the_first_still_runs_is_409(toy, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    app, client, _ = toy
    async with context_of(app).sessionmaker() as session:
        session.add(
            IdempotencyKey(
                scope=f"org:{tenant.org_id}",
                key="busy",
                fingerprint=request_fingerprint("/v1/toys", b"", b'{"name":"iron"}'),
                principal=jwt.decode(tenant.tokens["specialist"], options={"verify_signature": False})["sub"],
                state="running",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        await session.commit()
    response = await client.post(
        "/v1/toys", json={"name": "iron"}, headers={**tenant.auth("specialist"), "Idempotency-Key": "busy"}
    )
    assert_problem(response, 409)


async def test_requests_without_a_token_are_not_held_to_idempotency_keys(toy) -> None:  # type: ignore[no-untyped-def]
    app, client, _ = toy
    secret = derive_webhook_secret("toy-service-secret", "toys->toys")
    body = json.dumps({"id": "evt_k", "type": "toy.created", "data": {"id": "k"}}).encode()
    headers = {**signed_headers(secret, "evt_k", body), "Idempotency-Key": "squatted"}
    first = await client.post("/internal/events/toys", content=body, headers=headers)
    second = await client.post("/internal/events/toys", content=body, headers=headers)
    assert first.json() == {"applied": True} and second.json() == {"applied": False}
    assert "idempotent-replayed" not in second.headers
    async with context_of(app).sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
