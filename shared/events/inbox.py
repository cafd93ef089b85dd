"""Receiving another XBM service's events: verify the Standard Webhooks signature, remember the
``webhook-id`` (a redelivery is applied once), validate ``data`` with the publisher's event model and hand it
to the handler registered for that model.

Each consuming service keeps one :class:`Inbox`; its handlers say what they take::

    INBOX = Inbox("campaigns", EVENTS)

    @INBOX.handles(SbuRetired)
    async def sbu_retired(session: AsyncSession, event: Received[SbuRetired]) -> Outcome: ...

    router = INBOX.router()  # POST /internal/events/<publisher> for every publisher handled

A payload that fails its model's validation is a 422 problem; an event type no handler takes is
``{"status": "ignored"}``, a redelivery ``{"status": "duplicate"}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, Request
from pydantic import JsonValue, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.context import context_of
from shared.db import DbSession, insert_ignore, utcnow
from shared.errors import Unauthorized, Unprocessable
from shared.events.contracts import Event
from shared.events.outbox import derive_webhook_secret
from shared.events.tables import EventTables

E = TypeVar("E", bound=Event)
#: what an inbox route answers: ``{"status": "applied" | "stale" | "duplicate" | "ignored", ...}``
Outcome = dict[str, str | list[str]]
#: a verified envelope as another service sent it
Envelope = dict[str, JsonValue]


@dataclass(frozen=True)
class Received(Generic[E]):
    """One consumed event: its envelope's organisation and timestamp, and its validated data."""

    org_id: str
    timestamp: str
    data: E

    @property
    def occurred_at(self) -> datetime:
        """When the event happened, from the envelope; a 422 when the envelope's timestamp is not one."""
        try:
            return datetime.fromisoformat(self.timestamp)
        except ValueError as exc:
            raise Unprocessable(f"event without a valid timestamp: {exc}") from exc


#: a registered handler (the registry forgets which event model each takes; :meth:`Inbox.handles` knows)
Handler = Callable[[AsyncSession, Received[Any]], Awaitable[Outcome]]
H = TypeVar("H", bound=Callable[..., Awaitable[Outcome]])


async def remember_inbound(session: AsyncSession, tables: EventTables, webhook_id: str, source: str, type: str) -> bool:
    """Record a consumed event in the caller's transaction; False when it was seen before (a redelivery)."""
    values = {"webhook_id": webhook_id, "source": source, "event_type": type, "received_at": utcnow()}
    return await insert_ignore(session, tables.InboxMessage, values, ["webhook_id"])


async def receive_event(
    request: Request, session: AsyncSession, tables: EventTables, secret: str, source: str
) -> Envelope | None:
    """Verify a Standard Webhooks delivery from another service and record its ``webhook-id`` in the caller's
    transaction. Returns the envelope, or None for a redelivery (already applied)."""
    body = await request.body()
    try:
        envelope = Webhook(secret).verify(body, dict(request.headers))
    except (WebhookVerificationError, ValueError) as exc:
        raise Unauthorized(f"event signature rejected: {exc}") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), dict) or "type" not in envelope:
        raise Unprocessable("event envelope must carry type and data")
    webhook_id = request.headers["webhook-id"][:128]
    if not await remember_inbound(session, tables, webhook_id, source, str(envelope["type"])[:64]):
        return None
    return envelope


class Inbox:
    """The events one service consumes, by publisher and type name, each with its handler."""

    def __init__(self, consumer: str, tables: EventTables) -> None:
        self.consumer = consumer
        self.tables = tables
        self._handlers: dict[str, dict[str, tuple[type[Event], Handler]]] = {}

    def handles(self, *events: type[Event]) -> Callable[[H], H]:
        """Register the decorated ``async (session, Received[Model]) -> Outcome`` for these event models."""

        def register(handler: H) -> H:
            for event in events:
                by_type = self._handlers.setdefault(event.publisher, {})
                if event.type in by_type:
                    raise ValueError(f"{event.type} from {event.publisher} is handled twice")
                by_type[event.type] = (event, handler)
            return handler

        return register

    def event_types(self, publisher: str) -> list[str]:
        """The types this service consumes from ``publisher``, as its subscription there names them."""
        return list(self._handlers.get(publisher, {}))

    async def receive(self, request: Request, session: AsyncSession, publisher: str) -> Outcome:
        """Verify, deduplicate, validate and dispatch one delivery from ``publisher``."""
        secret = derive_webhook_secret(context_of(request.app).service_secret, f"{publisher}->{self.consumer}")
        envelope = await receive_event(request, session, self.tables, secret, source=publisher)
        if envelope is None:
            return {"status": "duplicate"}
        entry = self._handlers.get(publisher, {}).get(str(envelope["type"]))
        if entry is None:
            return {"status": "ignored"}
        model, handler = entry
        try:
            data = model.model_validate(envelope["data"])
        except ValidationError as exc:
            errors = [{"loc": ["data", *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
            raise Unprocessable(f"malformed {model.type}: {exc.error_count()} errors", errors=errors) from exc
        org_id, timestamp = envelope.get("org_id"), envelope.get("timestamp")
        if not isinstance(org_id, str) or not org_id:
            raise Unprocessable(f"{model.type} carries no org_id")
        return await handler(session, Received(org_id, str(timestamp), data))

    def router(self) -> APIRouter:
        """``POST /internal/events/<publisher>`` for every publisher this inbox handles (not in the OpenAPI
        document: only XBM's own services call these)."""
        router = APIRouter(prefix="/internal/events", tags=["internal"], include_in_schema=False)
        for publisher in self._handlers:
            router.add_api_route(f"/{publisher}", self._route(publisher), methods=["POST"], name=f"from_{publisher}")
        return router

    def _route(self, publisher: str) -> Callable[[Request, AsyncSession], Awaitable[Outcome]]:
        async def receive(request: Request, session: DbSession) -> Outcome:
            return await self.receive(request, session, publisher)

        return receive
