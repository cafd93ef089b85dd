"""The events compliance publishes, and its Idempotency-Key records (mechanisms in shared/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.base import Base
from shared.events import emit, event_tables
from shared.idempotency import idempotency_table

#: the order states that publish an event when an order enters them, and the event's type
STATE_EVENTS = {
    "matched": "order.matched",
    "mismatch": "order.mismatch",
    "declared": "order.declared",
    "cleared": "order.cleared",
    "released": "order.released",
}

#: besides the order events, the customer register's coalesced summary (services/compliance/customers/announce.py)
EVENTS = event_tables(Base, (*STATE_EVENTS.values(), "customers.summary_changed"))
IdempotencyKey = idempotency_table(Base)


async def publish(
    session: AsyncSession, org_id: str, type: str, data: dict[str, Any], occurred_at: datetime | None = None
) -> None:
    await emit(session, EVENTS, org_id=org_id, type=type, data=data, occurred_at=occurred_at)
