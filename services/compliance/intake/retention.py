"""The platforms' raw deliveries have a lifetime: past the retention (``XBM_COMPLIANCE_PLATFORM_BODY_RETENTION_DAYS``,
90 days unless set) a delivery's body is emptied. The row stays — its de-duplication key keeps a late redelivery
from being taken again, and its outcome stays listed — but the buyer's data it carried is gone. A refund or delete
still ``waiting`` for its order keeps its body: it is applied from it when the order arrives."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance.intake.models import PlatformDelivery
from services.compliance.intake.platforms import WAITING
from shared.db import utcnow

#: how often a process looks (the relay passes every second or so)
EVERY_SECONDS = 300.0
BATCH = 500


async def empty_expired(sessions: async_sessionmaker[AsyncSession], retention: timedelta, *, batch: int = BATCH,
                        limit_batches: int = 20) -> int:  # fmt: skip
    """Empty the bodies of the deliveries received before ``now - retention`` (not waiting); how many."""
    cutoff = utcnow() - retention
    emptied = 0
    for _ in range(limit_batches):
        async with sessions() as session, session.begin():
            ids = (
                (
                    await session.execute(
                        select(PlatformDelivery.id)
                        .where(
                            PlatformDelivery.received_at < cutoff,
                            PlatformDelivery.outcome != WAITING,
                            func.length(PlatformDelivery.body) > 0,
                        )
                        .limit(batch)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return emptied
            await session.execute(
                update(PlatformDelivery)
                .where(PlatformDelivery.id.in_(ids), PlatformDelivery.outcome != WAITING)
                .values(body=b"")
                .execution_options(synchronize_session=False)
            )
            emptied += len(ids)
        if len(ids) < batch:
            break
    return emptied


def retention_job(
    sessions: Callable[[], async_sessionmaker[AsyncSession]], retention_days: float
) -> Callable[[], Awaitable[int]]:
    """A relay job that empties expired bodies at most every :data:`EVERY_SECONDS` in this process."""
    last = [float("-inf")]

    async def platform_bodies() -> int:
        now = time.monotonic()
        if now - last[0] < EVERY_SECONDS:
            return 0
        last[0] = now
        return await empty_expired(sessions(), timedelta(days=retention_days))

    return platform_bodies
