"""The events plans publishes and consumes, and its Idempotency-Key records (mechanisms in shared/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.base import Base
from shared.events import emit, event_tables
from shared.idempotency import idempotency_table

#: membership_tier.* reach compliance, which applies the tiers to the buyers it knows
EVENTS = event_tables(
    Base,
    (
        "plan.activated",
        "sbu.created",
        "sbu.retired",
        "membership_tier.created",
        "membership_tier.updated",
        "membership_tier.deleted",
    ),
)
IdempotencyKey = idempotency_table(Base)


async def publish(
    session: AsyncSession, org_id: str, type: str, data: dict[str, Any], occurred_at: datetime | None = None
) -> None:
    await emit(session, EVENTS, org_id=org_id, type=type, data=data, occurred_at=occurred_at)
