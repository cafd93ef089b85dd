"""What the event kit keeps, and for how long: delivered (or given up) deliveries with their attempts, events no
delivery waits for, consumed-event records and expired Idempotency-Keys are deleted after their retention, in
small batches, by the relay's job loop (every ``PRUNE_EVERY`` seconds).

Retention (``XBM_<SERVICE>_EVENTS_RETENTION_DAYS``, 30 by default) is far longer than a delivery's retries
(about three days), so an inbox still recognises every redelivery it can receive; a pending delivery and its
event are never deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import utcnow
from shared.events.tables import EventTables

#: rows deleted per statement, so no pass holds locks for long
BATCH = 2000
#: seconds between two prunes of one relay
PRUNE_EVERY = 600.0


@dataclass
class Pruned:
    deliveries: int = 0
    attempts: int = 0
    events: int = 0
    inbox: int = 0
    idempotency_keys: int = 0


async def _batched(session: AsyncSession, model: Any, condition: Any) -> int:
    ids = select(model.__mapper__.primary_key[0]).where(condition).limit(BATCH).scalar_subquery()
    result = await session.execute(delete(model).where(model.__mapper__.primary_key[0].in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession],
    tables: EventTables,
    *,
    retention: timedelta,
    idempotency_model: Any = None,
    now: datetime | None = None,
) -> Pruned:
    now = now or utcnow()
    before = now - retention
    D, A, E, I = tables.Delivery, tables.Attempt, tables.OutboxEvent, tables.InboxMessage  # noqa: E741
    pruned = Pruned()
    async with sessionmaker() as session, session.begin():
        finished = select(D.id).where(D.status != "pending", D.updated_at < before)
        pruned.attempts = await _batched(session, A, A.delivery_id.in_(finished.limit(BATCH).scalar_subquery()))
        pruned.deliveries = await _batched(
            session, D, (D.status != "pending") & (D.updated_at < before) & ~exists().where(A.delivery_id == D.id)
        )
        pruned.events = await _batched(session, E, (E.created_at < before) & ~exists().where(D.event_id == E.id))
        pruned.inbox = await _batched(session, I, I.received_at < before)
        if idempotency_model is not None:
            pruned.idempotency_keys = await _batched(session, idempotency_model, idempotency_model.expires_at < now)
    return pruned
