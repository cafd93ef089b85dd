"""Events plans consumes: campaigns' ``sbu.performance_changed`` feeds the SBU grid's read model and, with
``campaign.status_changed`` and ``experiment.decided``, the report's campaign and experiment sections;
compliance's ``order.*`` events feed the report's customs picture and ``customers.summary_changed`` the computed
customer status. Plans calls no one: each publisher points its own subscription here, and plans points its
``membership_tier.*`` at compliance (:func:`subscribe_on_start`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, FastAPI, Request
from pydantic import ValidationError

from services.plans.customer_status.schemas import SummaryChangedIn
from services.plans.customer_status.service import apply_summary
from services.plans.events import EVENTS
from services.plans.execution.tier_events import TIER_EVENTS
from services.plans.outcomes.schemas import (
    CampaignStatusChanged,
    ExperimentDecided,
    OrderChanged,
    SbuPerformanceChanged,
)
from services.plans.outcomes.service import apply_campaign_status, apply_campaigns, apply_experiment, apply_order
from services.plans.sbus.service import apply_sbu_performance
from shared.context import context_of
from shared.db import DbSession
from shared.errors import Unprocessable
from shared.events import derive_webhook_secret
from shared.subscriptions import ensure_system_subscription, receive_event

router = APIRouter(prefix="/internal/events", tags=["internal"], include_in_schema=False)
ORDER_EVENTS = ("order.matched", "order.mismatch", "order.declared", "order.cleared", "order.released")


def _occurred(envelope: dict) -> datetime:  # type: ignore[type-arg]
    try:
        return datetime.fromisoformat(str(envelope["timestamp"]))
    except (KeyError, ValueError) as exc:
        raise Unprocessable(f"event without a valid timestamp: {exc}") from exc


@router.post("/campaigns")
async def from_campaigns(request: Request, session: DbSession) -> dict[str, str]:
    secret = derive_webhook_secret(context_of(request.app).service_secret, "campaigns->plans")
    envelope = await receive_event(request, session, EVENTS, secret, source="campaigns")
    if envelope is None:
        return {"status": "duplicate"}
    org_id = envelope["org_id"]
    try:
        if envelope["type"] == "sbu.performance_changed":
            data = SbuPerformanceChanged.model_validate(envelope["data"])
            as_of = datetime.fromisoformat(data.as_of)
            stored = await apply_sbu_performance(
                session, org_id, data.sbu_id, Decimal(data.spend), Decimal(data.revenue), data.currency, as_of
            )
            if stored:
                await apply_campaigns(session, org_id, data.sbu_id, data.campaigns, as_of)
            return {"status": "applied" if stored else "stale"}
        if envelope["type"] == "campaign.status_changed":
            status = CampaignStatusChanged.model_validate(envelope["data"])
            await apply_campaign_status(session, org_id, status.campaign_id, status.to)
            return {"status": "applied"}
        if envelope["type"] == "experiment.decided":
            decided = ExperimentDecided.model_validate(envelope["data"])
            stored = await apply_experiment(session, org_id, decided, _occurred(envelope))
            return {"status": "applied" if stored else "stale"}
    except (ValidationError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise Unprocessable(f"malformed {envelope['type']}: {exc}") from exc
    return {"status": "ignored"}


@router.post("/compliance")
async def from_compliance(request: Request, session: DbSession) -> dict[str, str]:
    """Compliance's order events (the report's customs picture) and its customer summaries (the computed
    customer status)."""
    secret = derive_webhook_secret(context_of(request.app).service_secret, "compliance->plans")
    envelope = await receive_event(request, session, EVENTS, secret, source="compliance")
    if envelope is None:
        return {"status": "duplicate"}
    if envelope["type"] == "customers.summary_changed":
        try:
            summary = SummaryChangedIn.model_validate(envelope["data"])
        except ValidationError as exc:
            raise Unprocessable(f"malformed customers.summary_changed: {exc.error_count()} errors") from exc
        stored = await apply_summary(session, str(envelope["org_id"]), summary)
        return {"status": "applied" if stored else "stale"}
    if envelope["type"] not in ORDER_EVENTS:
        return {"status": "ignored"}
    try:
        order = OrderChanged.model_validate(envelope["data"])
    except ValidationError as exc:
        raise Unprocessable(f"malformed {envelope['type']}: {exc}") from exc
    stored = await apply_order(session, envelope["org_id"], order, _occurred(envelope))
    return {"status": "applied" if stored else "stale"}


async def subscribe_on_start(app: FastAPI) -> None:
    """Point ``membership_tier.*`` at compliance (idempotent, every start)."""
    settings = context_of(app).settings
    await ensure_system_subscription(
        app,
        EVENTS,
        "compliance",
        f"{settings.compliance_url.rstrip('/')}/internal/events/plans",
        list(TIER_EVENTS),
        derive_webhook_secret(context_of(app).service_secret, "plans->compliance"),
    )
