"""The events plans publishes and consumes, and its Idempotency-Key records (mechanisms in shared/events/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans import contracts
from services.plans.base import Base
from shared.events import outbox
from shared.events.tables import event_tables
from shared.idempotency import idempotency_table

#: membership_tier.* reach compliance, which applies the tiers to the buyers it knows
EVENTS = event_tables(Base, contracts.EVENTS)
IdempotencyKey = idempotency_table(Base)


async def publish(
    session: AsyncSession, org_id: str, event: contracts.PlansEvent, occurred_at: datetime | None = None
) -> None:
    await outbox.publish(session, EVENTS, event, org_id=org_id, occurred_at=occurred_at)
