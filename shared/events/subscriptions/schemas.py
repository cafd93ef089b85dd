"""The bodies of ``/v1/subscriptions`` and of the internal subscription route."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import Field, StringConstraints

from shared.schemas import Out, Schema, ShortText, examples

Url = Annotated[str, StringConstraints(min_length=8, max_length=2048)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SystemName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")]


class SubscriptionIn(Schema):
    """A URL to receive this service's events, and the event types it wants."""

    url: Url
    """The HTTPS address XBM posts each event to (signed, see docs/events.md); it must resolve to a public address."""
    event_types: list[EventType] = Field(min_length=1, max_length=50)
    """The event types to receive, e.g. `plan.activated` (1–50; the service's `GET /v1/subscriptions` documentation
    lists them)."""
    description: ShortText = ""
    """A note for people: what the endpoint is and who runs it."""


class SubscriptionPatch(Schema):
    """Changes to a subscription: its URL or event types, or re-enabling it after a 410."""

    model_config = examples({"status": "active"})

    url: Url | None = None
    """A new delivery address. Leave it out to keep the current value."""
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=50)
    """The new set of event types to receive. Leave it out to keep the current value."""
    description: ShortText | None = None
    """A new note. Leave it out to keep the current value."""
    status: Literal["active", "disabled"] | None = None
    """`disabled` pauses deliveries; `active` resumes them (and clears `disabled_reason`). Leave it out to keep the
    current value."""


class SystemSubscriptionIn(Schema):
    url: Url
    """The address of the other XBM service's event inbox."""
    event_types: list[EventType] = Field(min_length=1, max_length=50)
    """The event types it receives."""
    secret: Annotated[str, StringConstraints(pattern=r"^whsec_[A-Za-z0-9+/=]{32,100}$")]
    """The shared signing secret (`whsec_…`) both services know."""


class SubscriptionOut(Out):
    """A subscription to this service's events."""

    id: str
    """The subscription's id."""
    url: str
    """Where the events are posted."""
    event_types: list[str]
    """The event types delivered to it."""
    description: str
    """The note given when subscribing."""
    status: str
    """`active` (events are delivered) or `disabled` (by an admin, or because the endpoint answered 410 Gone)."""
    disabled_reason: str | None
    """Why deliveries stopped (`disabled by an admin`, `the endpoint answered 410 Gone`); null while active."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
    updated_at: datetime
    """When the object last changed (RFC 3339, UTC)."""


class SubscriptionCreated(SubscriptionOut):
    """The new subscription and its signing secret, shown this once."""

    secret: str
    """The secret (`whsec_…`) that signs every delivery, shown this once: verify each delivery's
    `webhook-signature` with it."""


class AttemptOut(Out):
    """One attempt at delivering an event: when, the HTTP status or error, and how long it took."""

    attempted_at: datetime
    """When the attempt was made (RFC 3339, UTC)."""
    status_code: int | None
    """The HTTP status the endpoint answered; null when it could not be reached."""
    error: str | None
    """What went wrong (a timeout, a refused connection, a non-2xx answer); null on success."""
    duration_ms: int
    """How long the attempt took, in milliseconds."""


class DeliveryOut(Out):
    """One event sent (or to be sent) to a subscription, with its attempts."""

    id: str
    """The delivery's id; `POST …/deliveries/{delivery_id}/replay` sends it again."""
    event_id: str
    """The event's id (the same on every delivery of it: deduplicate on it)."""
    event_type: str
    """The event's type, e.g. `sbu.retired`."""
    status: str
    """`pending` (to be sent or retried), `delivered`, `dead` (retries exhausted; replay it) or `cancelled` (the
    subscription was disabled)."""
    attempts: int
    """How many times it has been sent."""
    next_attempt_at: datetime | None
    """When the next retry is due; null when none is."""
    last_status_code: int | None
    """The HTTP status of the last attempt; null before one, or when the endpoint could not be reached."""
    last_error: str | None
    """What went wrong on the last attempt; null when it succeeded or none was made."""
    delivered_at: datetime | None
    """When the endpoint acknowledged it with a 2xx; null until then."""
    created_at: datetime
    """When the event was queued for this subscription (RFC 3339, UTC)."""
    attempt_log: list[AttemptOut]
    """Each attempt, oldest first."""
