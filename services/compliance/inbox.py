"""Events compliance consumes: plans' ``membership_tier.*`` keep the register's copy of each plan's tiers.
Compliance calls no one: plans points its own subscription here, and compliance points its
``customers.summary_changed`` at plans, each in its own database (:func:`subscribe_on_start`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request

from services.compliance.customers.tiers import apply_tier
from services.compliance.events import EVENTS, STATE_EVENTS
from shared.context import context_of
from shared.db import DbSession
from shared.errors import Unprocessable
from shared.events import derive_webhook_secret
from shared.subscriptions import ensure_system_subscription, receive_event

router = APIRouter(prefix="/internal/events", tags=["internal"], include_in_schema=False)
TIER_EVENTS = {"membership_tier.created": False, "membership_tier.updated": False, "membership_tier.deleted": True}


@router.post("/plans")
async def from_plans(request: Request, session: DbSession) -> dict[str, Any]:
    secret = derive_webhook_secret(context_of(request.app).service_secret, "plans->compliance")
    envelope = await receive_event(request, session, EVENTS, secret, source="plans")
    if envelope is None:
        return {"status": "duplicate"}
    if envelope["type"] not in TIER_EVENTS:
        return {"status": "ignored"}
    try:
        applied = await apply_tier(session, str(envelope["org_id"]), envelope["data"], TIER_EVENTS[envelope["type"]])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise Unprocessable(f"malformed {envelope['type']}: {exc}") from exc
    return {"status": "applied" if applied else "stale"}


async def subscribe_on_start(app: FastAPI) -> None:
    """Point the order events (the report's customs picture) and ``customers.summary_changed`` (the computed
    customer status) at plans (idempotent, every start). Compliance calls no one: this only writes its own
    subscription row, and the relay delivers as it does to every subscriber; the secret is derived from the
    service secret, so plans verifies the deliveries without storing anything."""
    settings = context_of(app).settings
    await ensure_system_subscription(
        app,
        EVENTS,
        "plans",
        f"{settings.plans_url.rstrip('/')}/internal/events/compliance",
        [*STATE_EVENTS.values(), "customers.summary_changed"],
        derive_webhook_secret(context_of(app).service_secret, "compliance->plans"),
    )
