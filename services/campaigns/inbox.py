"""Events campaigns consumes: plans' ``sbu.retired`` pauses the SBU's campaigns; compliance's
``order.released`` attributes the order to the campaign its ``utm_campaign`` names."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.service import attribute_order, pause_campaigns_of_sbu
from services.campaigns.events import EVENTS
from shared.context import context_of
from shared.db import DbSession
from shared.errors import Unprocessable
from shared.events import derive_webhook_secret
from shared.subscriptions import receive_event

router = APIRouter(prefix="/internal/events", tags=["internal"], include_in_schema=False)


async def _receive(request: Request, session: AsyncSession, source: str) -> dict[str, Any] | None:
    secret = derive_webhook_secret(context_of(request.app).service_secret, f"{source}->campaigns")
    return await receive_event(request, session, EVENTS, secret, source=source)


@router.post("/plans")
async def from_plans(request: Request, session: DbSession) -> dict[str, Any]:
    envelope = await _receive(request, session, "plans")
    if envelope is None:
        return {"status": "duplicate"}
    if envelope["type"] != "sbu.retired":
        return {"status": "ignored"}
    sbu_id = envelope["data"].get("sbu_id")
    if not isinstance(sbu_id, str):
        raise Unprocessable("sbu.retired carries no sbu_id")
    paused = await pause_campaigns_of_sbu(session, envelope["org_id"], sbu_id)
    return {"status": "applied", "paused": [c.id for c in paused]}


@router.post("/compliance")
async def from_compliance(request: Request, session: DbSession) -> dict[str, Any]:
    envelope = await _receive(request, session, "compliance")
    if envelope is None:
        return {"status": "duplicate"}
    data = envelope["data"]
    if envelope["type"] != "order.released" or not data.get("utm_campaign"):
        return {"status": "ignored"}
    try:
        outcome = await attribute_order(
            session,
            envelope["org_id"],
            str(data["utm_campaign"]),
            f"{data['ebp_code']}/{data['order_no']}",
            Decimal(str(data["amount"])),
            str(data["currency"]),
            datetime.fromisoformat(envelope["timestamp"]),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise Unprocessable(f"malformed order.released: {exc}") from exc
    return {"status": outcome}
