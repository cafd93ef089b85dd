"""Events plans consumes: campaigns' ``sbu.performance_changed`` feeds the SBU grid's read model."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request

from services.plans.events import EVENTS
from services.plans.sbus.service import apply_sbu_performance
from shared.db import DbSession
from shared.errors import Unprocessable
from shared.events import derive_webhook_secret
from shared.subscriptions import receive_event

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
