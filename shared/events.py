"""Transactional outbox and webhook subscriptions, shared by every service.

A state change and its event are written in the same transaction (:func:`emit`), together with one delivery
row per matching subscription. Relays (:mod:`shared.relay`) deliver those rows, signed with Standard Webhooks.
Each service calls :func:`event_tables` once with its own declarative ``Base``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import IdMixin, TimestampMixin, UTCDateTime, new_id, utcnow

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


@dataclass(frozen=True)
class EventTables:
    Subscription: Any
    OutboxEvent: Any
    Delivery: Any
    Attempt: Any
    InboxMessage: Any
    #: the event types this service publishes
    event_types: tuple[str, ...]


def event_tables(base: Any, event_types: tuple[str, ...]) -> EventTables:
    class Subscription(IdMixin, TimestampMixin, base):  # type: ignore[misc, valid-type]
        """A tenant's subscription (org_id set) or an internal one between services (org_id NULL, named)."""

        __tablename__ = "event_subscriptions"
        __label__ = "subscription"
        __table_args__ = (UniqueConstraint("system_name"),)

        org_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
        system_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
        url: Mapped[str] = mapped_column(String(2048))
        event_types: Mapped[list[str]] = mapped_column(JSON)
        secret: Mapped[str] = mapped_column(String(128))
        description: Mapped[str] = mapped_column(String(500), default="")
        status: Mapped[str] = mapped_column(String(16), default="active")
        disabled_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)

    class OutboxEvent(IdMixin, base):  # type: ignore[misc, valid-type]
        __tablename__ = "outbox_events"

        org_id: Mapped[str] = mapped_column(String(36), index=True)
        type: Mapped[str] = mapped_column(String(64))
        payload: Mapped[dict[str, Any]] = mapped_column(JSON)
        occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    class Delivery(IdMixin, TimestampMixin, base):  # type: ignore[misc, valid-type]
        __tablename__ = "event_deliveries"
        __label__ = "delivery"
        __table_args__ = (
            UniqueConstraint("event_id", "subscription_id"),
            Index(None, "status", "next_attempt_at"),
        )

        org_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
        event_id: Mapped[str] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
        subscription_id: Mapped[str] = mapped_column(
            ForeignKey("event_subscriptions.id", ondelete="CASCADE"), index=True
        )
        #: pending → delivered | dead | cancelled (subscription gone or disabled)
        status: Mapped[str] = mapped_column(String(16), default="pending")
        attempts: Mapped[int] = mapped_column(Integer, default=0)
        next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
        last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
        delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    class Attempt(IdMixin, base):  # type: ignore[misc, valid-type]
        __tablename__ = "delivery_attempts"

        delivery_id: Mapped[str] = mapped_column(ForeignKey("event_deliveries.id", ondelete="CASCADE"), index=True)
        attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
        error: Mapped[str | None] = mapped_column(String(500), nullable=True)
        duration_ms: Mapped[int] = mapped_column(Integer, default=0)

    class InboxMessage(base):  # type: ignore[misc, valid-type]
        """Events this service consumed, by ``webhook-id``: a redelivered event is applied once."""

        __tablename__ = "inbox_messages"

        webhook_id: Mapped[str] = mapped_column(String(128), primary_key=True)
        source: Mapped[str] = mapped_column(String(64))
        event_type: Mapped[str] = mapped_column(String(64))
        received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    return EventTables(Subscription, OutboxEvent, Delivery, Attempt, InboxMessage, event_types)


async def emit(
    session: AsyncSession,
    tables: EventTables,
    *,
    org_id: str,
    type: str,
    data: dict[str, Any],
    occurred_at: datetime | None = None,
) -> Any:
    """Record an event in the caller's transaction, with a pending delivery for every matching subscription."""
    if type not in tables.event_types:
        raise ValueError(f"{type} is not an event this service publishes")
    now = utcnow()
    event = tables.OutboxEvent(id=new_id(), org_id=org_id, type=type, payload=data, occurred_at=occurred_at or now)
    session.add(event)
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
        if type in types:
            session.add(tables.Delivery(event_id=event.id, subscription_id=sub_id, org_id=sub_org, next_attempt_at=now))
    await session.flush()
    return event


def envelope(event: Any) -> bytes:
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


async def remember_inbound(session: AsyncSession, tables: EventTables, webhook_id: str, source: str, type: str) -> bool:
    """Record a consumed event in the caller's transaction; False when it was seen before (a redelivery)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(tables.InboxMessage)
        .values(webhook_id=webhook_id, source=source, event_type=type, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["webhook_id"])
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def lease_until(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)
