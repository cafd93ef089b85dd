"""The transactional outbox: a state change and its event are written in the same transaction
(:func:`publish`), together with one delivery row per matching subscription. Relays
(:mod:`shared.events.relay`) deliver those rows, signed with Standard Webhooks (docs/events.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import new_id, utcnow
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


async def publish(
    session: AsyncSession,
    tables: EventTables,
    event: Event,
    *,
    org_id: str,
    occurred_at: datetime | None = None,
) -> OutboxEventColumns:
    """Record an event in the caller's transaction, with a pending delivery for every matching subscription."""
    if type(event) not in tables.events:
        raise ValueError(f"{event.type} is not an event this service publishes")
    now = utcnow()
    row = tables.OutboxEvent(
        id=new_id(), org_id=org_id, type=event.type, payload=event.payload(), occurred_at=occurred_at or now
    )
    session.add(row)
    await session.flush()  # the deliveries reference it
    S = tables.Subscription
    subscriptions = (
        await session.execute(
            select(S.id, S.org_id, S.event_types).where(
                S.status == "active", (S.org_id == org_id) | (S.org_id.is_(None))
            )
        )
    ).all()
    for sub_id, sub_org, types in subscriptions:
        if event.type in types:
            session.add(tables.Delivery(event_id=row.id, subscription_id=sub_id, org_id=sub_org, next_attempt_at=now))
    await session.flush()
    return row


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


def lease_until(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)
