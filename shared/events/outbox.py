"""The transactional outbox: a state change and its event are written in the same transaction
(:func:`publish`), together with one delivery row per matching subscription. Relays
(:mod:`shared.events.relay`) deliver those rows, signed with Standard Webhooks (docs/events.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import random
import secrets
import time
import weakref
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, case, insert, literal, select, true
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.db import UTCDateTime, new_id, utcnow
from shared.events.contracts import Event
from shared.events.tables import EventTables, OutboxEventColumns

#: seconds to wait after attempt n (1-based) failed: first retry within 10 s, ten attempts over about 3 days
RETRY_DELAYS = (5, 30, 120, 600, 1800, 7200, 21600, 43200, 172800)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def retry_delay(attempts_made: int, rng: random.Random | None = None) -> float | None:
    """Delay before the next attempt, with ±20 % jitter; ``None`` when the delivery is out of attempts."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[attempts_made - 1]
    return base * (rng or random).uniform(0.8, 1.2)


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def derive_webhook_secret(service_secret: str, label: str) -> str:
    """A ``whsec_`` secret both ends of an internal subscription can compute from the shared service secret."""
    digest = hmac.new(service_secret.encode(), f"xbm-events:{label}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


#: how long a process trusts its cached list of active subscriptions before it reads the table again: a
#: subscription created, re-enabled or given new event types through another replica (or process) is seen by
#: this one's events within this many seconds; a change made through this process is seen at once
#: (:func:`invalidate_subscriptions`), and a subscription deleted or disabled anywhere never gets a delivery
#: (the deliveries are written from the subscriptions table itself). See docs/events.md and docs/scaling.md.
SUBSCRIPTIONS_CACHE_SECONDS = 2.0


class SubscriptionCache:
    """The active subscriptions of one service's database, cached in this process (one per engine).

    A load records the generation it started in and is kept only if no invalidation happened meanwhile, so a
    load racing with a change never hides the change for a whole :data:`SUBSCRIPTIONS_CACHE_SECONDS`."""

    def __init__(self) -> None:
        self.generation = 0
        self.loaded_at = -math.inf
        #: org_id (None for internal subscriptions) → [(subscription id, its event types)]
        self.by_org: dict[str | None, list[tuple[str, frozenset[str]]]] | None = None

    def invalidate(self) -> None:
        self.generation += 1
        self.by_org = None

    async def matching(
        self, session: AsyncSession, tables: EventTables, org_id: str, event_type: str
    ) -> list[tuple[str, str | None]]:
        """(subscription id, its org_id) of the active subscriptions of ``org_id`` or internal ones that want
        ``event_type``, from the cache (read again when invalidated or older than the limit)."""
        by_org = self.by_org
        if by_org is None or time.monotonic() - self.loaded_at > SUBSCRIPTIONS_CACHE_SECONDS:
            generation, started = self.generation, time.monotonic()
            S = tables.Subscription
            rows = (await session.execute(select(S.id, S.org_id, S.event_types).where(S.status == "active"))).all()
            by_org = {}
            for sub_id, sub_org, types in rows:
                by_org.setdefault(sub_org, []).append((sub_id, frozenset(types)))
            if generation == self.generation:
                self.by_org, self.loaded_at = by_org, started
        found: list[tuple[str, str | None]] = [
            (sub_id, org_id) for sub_id, types in by_org.get(org_id, ()) if event_type in types
        ]
        found += [(sub_id, None) for sub_id, types in by_org.get(None, ()) if event_type in types]
        return found


_CACHES: weakref.WeakKeyDictionary[Engine, dict[type, SubscriptionCache]] = weakref.WeakKeyDictionary()
_PENDING = "xbm_subscription_caches"


def subscription_cache(session: AsyncSession, tables: EventTables) -> SubscriptionCache:
    """This process's cache of the subscriptions in the session's database (each engine has its own: two apps
    on one database in one process are two readers, as two replicas are)."""
    per_engine = _CACHES.setdefault(session.get_bind(), {})  # type: ignore[arg-type]
    cache = per_engine.get(tables.Subscription)
    if cache is None:
        cache = per_engine[tables.Subscription] = SubscriptionCache()
    return cache


def invalidate_subscriptions(session: AsyncSession, tables: EventTables) -> None:
    """A subscription was written in this session: this process's cache is dropped now and again when the
    transaction commits (a load in between, by another request, read the table before the change was visible)."""
    cache = subscription_cache(session, tables)
    cache.invalidate()
    session.info.setdefault(_PENDING, set()).add(cache)


@sa_event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    for cache in session.info.pop(_PENDING, ()):
        cache.invalidate()


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


def _table(model: type) -> Table:
    return cast(Table, sa_inspect(model).local_table)


def _deliveries(
    tables: EventTables, event_id: Any, subscriptions: list[tuple[str, str | None]], now: datetime, stored: Any = None
) -> Any:
    """``INSERT … SELECT`` of one pending delivery per cached subscription that is still active in the table
    (one deleted or disabled since the cache was read, here or by another process, gets none)."""
    D, S = _table(tables.Delivery), _table(tables.Subscription)
    ids = [sub_id for sub_id, _ in subscriptions]
    delivery_id = case({sub_id: new_id() for sub_id in ids}, value=S.c.id) if len(ids) > 1 else literal(new_id())
    rows = select(
        delivery_id,
        event_id,
        S.c.id,
        S.c.org_id,
        literal("pending"),
        literal(0),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    ).select_from(S if stored is None else S.join(stored, true()))
    rows = rows.where(S.c.id.in_(ids), S.c.status == "active")
    names = ["id", "event_id", "subscription_id", "org_id", "status", "attempts", "next_attempt_at", "created_at",
             "updated_at"]  # fmt: skip
    return insert(D).from_select(names, rows)


async def publish(
    session: AsyncSession,
    tables: EventTables,
    event: Event,
    *,
    org_id: str,
    occurred_at: datetime | None = None,
) -> OutboxEventColumns:
    """Record an event in the caller's transaction, with a pending delivery for every matching subscription.

    The subscriptions come from this process's cache (:class:`SubscriptionCache`); the event and its
    deliveries are one statement on PostgreSQL (the deliveries read the event's id from the insert), two on
    SQLite, and the event alone when no subscription wants it."""
    if type(event) not in tables.events:
        raise ValueError(f"{event.type} is not an event this service publishes")
    now = utcnow()
    values = {"id": new_id(), "org_id": org_id, "type": event.type, "payload": event.payload(),
              "occurred_at": occurred_at or now, "created_at": now}  # fmt: skip
    subscriptions = await subscription_cache(session, tables).matching(session, tables, org_id, event.type)
    E = _table(tables.OutboxEvent)
    if session.new or session.dirty or session.deleted:
        await session.flush()  # what the caller changed is written before its event, as it always was
    if not subscriptions:
        await session.execute(insert(E).values(values))
    elif session.get_bind().dialect.name == "postgresql":
        stored = insert(E).values(values).returning(E.c.id).cte("stored_event")
        await session.execute(_deliveries(tables, stored.c.id, subscriptions, now, stored))
    else:
        await session.execute(insert(E).values(values))
        await session.execute(_deliveries(tables, literal(values["id"]), subscriptions, now))
    return tables.OutboxEvent(**values)


def envelope(event: OutboxEventColumns) -> bytes:
    """The body every subscriber receives."""
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "timestamp": event.occurred_at.isoformat(),
            "org_id": event.org_id,
            "data": event.payload,
        },
        separators=(",", ":"),
        default=str,
    ).encode()
