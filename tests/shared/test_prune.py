"""Delivered events, their attempts, consumed-event records and expired Idempotency-Keys are deleted after their
retention; a pending delivery and its event are kept however old."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from shared.context import context_of
from shared.db import utcnow
from shared.events.prune import prune
from tests.shared.test_events import _make_toy, _subscribe, toy  # noqa: F401 - the toy service
from tests.shared.toy.service import EVENTS, IdempotencyKey
from tests.support import Tenant


async def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    async with context_of(app).sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_old_delivered_events_attempts_inbox_records_and_expired_keys_are_pruned(toy, tenant: Tenant) -> None:  # noqa: F811
    app, client, subscriber = toy
    await _subscribe(client, tenant)
    await _make_toy(client, tenant, "delivered")
    relay = context_of(app).require_relay()
    assert await relay.run_once() == 1
    subscriber.script = [503]
    await _make_toy(client, tenant, "still pending")
    assert await relay.run_once() == 1  # failed: it stays pending, with an attempt
    r = await client.post(
        "/v1/toys", json={"name": "keyed"}, headers={**tenant.auth("specialist"), "Idempotency-Key": "prune-me"}
    )
    assert r.status_code == 201
    async with context_of(app).sessionmaker() as session:
        session.add(EVENTS.InboxMessage(webhook_id="msg_old", source="plans", event_type="sbu.retired"))
        await session.commit()
    sessionmaker = context_of(app).sessionmaker
    before = {m: await _count(app, m) for m in (EVENTS.OutboxEvent, EVENTS.Delivery, EVENTS.Attempt)}
    assert before[EVENTS.Delivery] == 3 and before[EVENTS.Attempt] == 2

    # within the retention nothing goes (but a key past its 24 hours does)
    soon = await prune(sessionmaker, EVENTS, retention=timedelta(days=30), idempotency_model=IdempotencyKey,
                       now=utcnow() + timedelta(days=2))  # fmt: skip
    assert (soon.deliveries, soon.attempts, soon.events, soon.inbox, soon.idempotency_keys) == (0, 0, 0, 0, 1)

    later = await prune(sessionmaker, EVENTS, retention=timedelta(days=30), idempotency_model=IdempotencyKey,
                        now=utcnow() + timedelta(days=31))  # fmt: skip
    assert later.deliveries == 1 and later.attempts == 1 and later.inbox == 1
    async with context_of(app).sessionmaker() as session:
        D = EVENTS.Delivery
        left = (await session.execute(select(D.status, D.attempts))).all()
    # the pending delivery (with its attempt and its event) and the third toy's undelivered one are kept
    assert sorted(status for status, _ in left) == ["pending", "pending"]
    assert await _count(app, EVENTS.Attempt) == 1
    assert await _count(app, EVENTS.OutboxEvent) == 2
    assert await _count(app, EVENTS.InboxMessage) == 0
