"""Events plans consumes: campaigns' ``sbu.performance_changed`` feeds the SBU grid's read model; compliance's
``customers.summary_changed`` the computed customer status. Plans calls no one: each publisher points its own
subscription here, and plans points its ``membership_tier.*`` at compliance (:func:`subscribe_on_start`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, FastAPI, Request
from pydantic import ValidationError

from services.plans.customer_status.schemas import SummaryChangedIn
from services.plans.customer_status.service import apply_summary
from services.plans.events import EVENTS
from services.plans.execution.tier_events import TIER_EVENTS
from services.plans.sbus.service import apply_sbu_performance
from shared.db import DbSession
from shared.errors import Unprocessable
from shared.events import derive_webhook_secret
from shared.subscriptions import ensure_system_subscription, receive_event

router = APIRouter(prefix="/internal/events", tags=["internal"], include_in_schema=False)


@router.post("/campaigns")
async def from_campaigns(request: Request, session: DbSession) -> dict[str, str]:
    secret = derive_webhook_secret(request.app.state.service_secret, "campaigns->plans")
    envelope = await receive_event(request, session, EVENTS, secret, source="campaigns")
    if envelope is None:
        return {"status": "duplicate"}
    if envelope["type"] != "sbu.performance_changed":
        return {"status": "ignored"}
    data = envelope["data"]
    try:
        stored = await apply_sbu_performance(
            session,
            envelope["org_id"],
            data["sbu_id"],
            Decimal(data["spend"]),
            Decimal(data["revenue"]),
            data["currency"],
            datetime.fromisoformat(data["as_of"]),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise Unprocessable(f"malformed sbu.performance_changed: {exc}") from exc
    return {"status": "applied" if stored else "stale"}


@router.post("/compliance")
async def from_compliance(request: Request, session: DbSession) -> dict[str, str]:
    secret = derive_webhook_secret(request.app.state.service_secret, "compliance->plans")
    envelope = await receive_event(request, session, EVENTS, secret, source="compliance")
    if envelope is None:
        return {"status": "duplicate"}
    if envelope["type"] != "customers.summary_changed":
        return {"status": "ignored"}
    try:
        summary = SummaryChangedIn.model_validate(envelope["data"])
    except ValidationError as exc:
        raise Unprocessable(f"malformed customers.summary_changed: {exc.error_count()} errors") from exc
    stored = await apply_summary(session, str(envelope["org_id"]), summary)
    return {"status": "applied" if stored else "stale"}


async def subscribe_on_start(app: FastAPI) -> None:
    """Point ``membership_tier.*`` at compliance (idempotent, every start)."""
    settings = app.state.settings
    await ensure_system_subscription(
        app,
        EVENTS,
        "compliance",
        f"{settings.compliance_url.rstrip('/')}/internal/events/plans",
        list(TIER_EVENTS),
        derive_webhook_secret(app.state.service_secret, "plans->compliance"),
    )
