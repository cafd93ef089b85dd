"""The event tables every service declares on its own declarative ``Base`` (:func:`event_tables`): the
outbox, its deliveries and their attempts, the subscriptions, and the inbox of consumed ``webhook-id`` s.

The columns are written once, in the mixins below; their DDL for Alembic is in :mod:`shared.events.migration`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from shared.db import IdMixin, TimestampMixin, UTCDateTime, VersionedMixin, utcnow
from shared.events.contracts import Event

#: a JSON payload as stored in the outbox and sent to subscribers
Payload = dict[str, JsonValue]


class _Row:
    if TYPE_CHECKING:  # the mapped classes take their columns as keyword arguments

        def __init__(self, **values: Any) -> None: ...


class SubscriptionColumns(_Row, IdMixin, TimestampMixin, VersionedMixin):
    """A tenant's subscription (org_id set) or an internal one between services (org_id NULL, named)."""

    __tablename__ = "event_subscriptions"
    __label__ = "subscription"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        return (UniqueConstraint("system_name"),)

    org_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    system_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class OutboxEventColumns(_Row, IdMixin):
    __tablename__ = "outbox_events"

    org_id: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[Payload] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeliveryColumns(_Row, IdMixin, TimestampMixin):
    __tablename__ = "event_deliveries"
    __label__ = "delivery"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint, Index]:
        return (UniqueConstraint("event_id", "subscription_id"), Index(None, "status", "next_attempt_at"))

    org_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    subscription_id: Mapped[str] = mapped_column(ForeignKey("event_subscriptions.id", ondelete="CASCADE"), index=True)
    #: pending → delivered | dead | cancelled (subscription gone or disabled)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AttemptColumns(_Row, IdMixin):
    __tablename__ = "delivery_attempts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("event_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class InboxMessageColumns(_Row):
    """Events this service consumed, by ``webhook-id``: a redelivered event is applied once."""

    __tablename__ = "inbox_messages"

    webhook_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class EventTables:
    Subscription: type[SubscriptionColumns]
    OutboxEvent: type[OutboxEventColumns]
    Delivery: type[DeliveryColumns]
    Attempt: type[AttemptColumns]
    InboxMessage: type[InboxMessageColumns]
    #: the events this service publishes
    events: tuple[type[Event], ...]

    @property
    def event_types(self) -> tuple[str, ...]:
        """The type names of the events this service publishes, as subscriptions name them."""
        return tuple(event.type for event in self.events)


def event_tables(base: type[DeclarativeBase], events: tuple[type[Event], ...]) -> EventTables:
    """Map the event tables on a service's ``Base``; ``events`` are the models of every event it publishes."""

    class Subscription(SubscriptionColumns, base):  # type: ignore[misc, valid-type]
        pass

    class OutboxEvent(OutboxEventColumns, base):  # type: ignore[misc, valid-type]
        pass

    class Delivery(DeliveryColumns, base):  # type: ignore[misc, valid-type]
        pass

    class Attempt(AttemptColumns, base):  # type: ignore[misc, valid-type]
        pass

    class InboxMessage(InboxMessageColumns, base):  # type: ignore[misc, valid-type]
        pass

    return EventTables(Subscription, OutboxEvent, Delivery, Attempt, InboxMessage, events)
