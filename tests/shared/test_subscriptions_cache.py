"""The subscriptions cache behind :func:`shared.events.outbox.publish` (docs/events.md, docs/scaling.md): a change
made through this process is seen by the next event at once; one made through another process (another engine
on the same database, as another replica is) within ``SUBSCRIPTIONS_CACHE_SECONDS``; a subscription deleted or
disabled anywhere never gets a delivery, however stale the cache."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.compliance.events import EVENTS
from shared.context import context_of
from shared.db import make_engine, make_sessionmaker
from shared.events import outbox
from shared.events.outbox import SubscriptionCache, publish, subscription_cache
from shared.events.subscriptions.system import upsert_system_subscription
from tests.support import Tenant

HOOK = "http://127.0.0.1:9/xbm-cache"
EVENT = EVENTS.events[0]


async def _publish(sessionmaker: Any, org_id: str) -> str:
    async with sessionmaker() as session, session.begin():
        row = await publish(session, EVENTS, EVENT.model_construct(), org_id=org_id)
    return row.id


async def _deliveries(sessionmaker: Any, event_id: str, subscription_id: str) -> int:
    D = EVENTS.Delivery
    async with sessionmaker() as session:
        stmt = select(func.count()).where(D.event_id == event_id, D.subscription_id == subscription_id)
        return int(await session.scalar(stmt) or 0)


async def _subscribe(client: httpx.AsyncClient, tenant: Tenant) -> str:
    r = await client.post("/v1/subscriptions", json={"url": HOOK, "event_types": [EVENT.type]}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_a_change_made_in_this_process_is_seen_by_the_next_event(
    compliance_app: Any, compliance: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "SUBSCRIPTIONS_CACHE_SECONDS", 3600.0)  # only invalidation can refresh it here
    maker = context_of(compliance_app).sessionmaker
    await _publish(maker, tenant.org_id)  # the cache is read now, without the subscription
    sub_id = await _subscribe(compliance, tenant)
    assert await _deliveries(maker, await _publish(maker, tenant.org_id), sub_id) == 1

    r = await compliance.patch(f"/v1/subscriptions/{sub_id}", json={"status": "disabled"}, headers=tenant.auth())
    assert r.status_code == 200, r.text
    assert await _deliveries(maker, await _publish(maker, tenant.org_id), sub_id) == 0
    r = await compliance.patch(f"/v1/subscriptions/{sub_id}", json={"status": "active"}, headers=tenant.auth())
    assert r.status_code == 200, r.text
    assert await _deliveries(maker, await _publish(maker, tenant.org_id), sub_id) == 1

    # another tenant's subscription is not this tenant's
    assert await _deliveries(maker, await _publish(maker, "another-org"), sub_id) == 0

    r = await compliance.delete(f"/v1/subscriptions/{sub_id}", headers=tenant.auth())
    assert r.status_code == 204, r.text
    assert await _deliveries(maker, await _publish(maker, tenant.org_id), sub_id) == 0


async def test_a_change_committed_after_a_concurrent_load_is_not_hidden(
    compliance_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The subscription is written, another request reads the cache before that commits (and cannot see it),
    then it commits: the commit drops the cache again, so the next event sees the subscription."""
    monkeypatch.setattr(outbox, "SUBSCRIPTIONS_CACHE_SECONDS", 3600.0)
    maker = context_of(compliance_app).sessionmaker
    org_id = "org-cache-race"
    async with maker() as writer:
        async with writer.begin():
            sub = await upsert_system_subscription(
                writer, EVENTS, "cache-race", HOOK, [EVENT.type], outbox.new_webhook_secret()
            )
            sub_id = sub.id
            async with maker() as reader:  # the other request, while the writer's transaction is open
                cache = subscription_cache(reader, EVENTS)
                assert sub_id not in {s for s, _ in await cache.matching(reader, EVENTS, org_id, EVENT.type)}
        # committed: the cache the reader filled is dropped
        assert await _deliveries(maker, await _publish(maker, org_id), sub_id) == 1
    async with maker() as session, session.begin():
        await session.delete(await session.get_one(EVENTS.Subscription, sub_id))
        outbox.invalidate_subscriptions(session, EVENTS)


async def test_a_load_racing_with_an_invalidation_is_not_kept() -> None:
    cache = SubscriptionCache()

    class Rows:
        def all(self) -> list[tuple[str, str | None, list[str]]]:
            return [("s-1", None, [EVENT.type])]

    class Session:
        async def execute(self, stmt: Any) -> Rows:
            cache.invalidate()  # a subscription changed while the table was being read
            return Rows()

    found = await cache.matching(Session(), EVENTS, "org", EVENT.type)  # type: ignore[arg-type]
    assert found == [("s-1", None)]  # this event uses what was read
    assert cache.by_org is None  # the next one reads the table again


async def test_another_process_sees_a_new_subscription_within_the_bound_and_a_deleted_one_at_once(
    compliance_app: Any, compliance: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replica A (the app) and replica B (a second engine on the same database, with its own cache)."""
    bound = 0.5
    monkeypatch.setattr(outbox, "SUBSCRIPTIONS_CACHE_SECONDS", bound)
    a = context_of(compliance_app).sessionmaker
    engine_b = make_engine(context_of(compliance_app).engine.url.render_as_string(hide_password=False))
    b = make_sessionmaker(engine_b)
    try:
        await _publish(b, tenant.org_id)  # B's cache is read now, before the subscription
        sub_id = await _subscribe(compliance, tenant)  # made through A
        assert await _deliveries(a, await _publish(a, tenant.org_id), sub_id) == 1  # A: at once
        stale = await _publish(b, tenant.org_id)  # B within the bound: may not know it yet
        assert await _deliveries(b, stale, sub_id) in (0, 1)
        await asyncio.sleep(bound + 0.1)
        assert await _deliveries(b, await _publish(b, tenant.org_id), sub_id) == 1  # B: after the bound

        # B's cache now lists the subscription; A disables it, then deletes it: B's next events deliver nothing
        # to it (and do not fail on the deleted row), stale cache or not
        r = await compliance.patch(f"/v1/subscriptions/{sub_id}", json={"status": "disabled"}, headers=tenant.auth())
        assert r.status_code == 200, r.text
        assert await _deliveries(b, await _publish(b, tenant.org_id), sub_id) == 0
        r = await compliance.delete(f"/v1/subscriptions/{sub_id}", headers=tenant.auth())
        assert r.status_code == 204, r.text
        assert await _deliveries(b, await _publish(b, tenant.org_id), sub_id) == 0
    finally:
        await engine_b.dispose()
