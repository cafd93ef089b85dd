"""The jobs compliance's relay runs beside its event deliveries, the same whether the relay runs inside the service
or as ``python -m services.compliance.relay``: the e-port outbox and inbox, the customer summaries, the raw
bodies' retention and the sealing of what an older XBM stored in clear."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance.customers.announce import announce_summaries
from services.compliance.customs.context import CustomsContext
from services.compliance.intake.customs_inbox import take_inbox
from services.compliance.intake.retention import retention_job, sealing_job
from services.compliance.orders.outbox import send_pending
from services.compliance.pii import Pii

Job = Callable[[], Awaitable[Any]]


def relay_jobs(
    sessions: Callable[[], async_sessionmaker[AsyncSession]],
    customs: Callable[[], CustomsContext],
    pii: Pii,
    retention_days: float,
) -> list[Job]:
    """``sessions`` and ``customs`` are read when a job runs (inside the service they are made at start-up, after
    the relay)."""

    async def outbox() -> int:
        return await send_pending(sessions(), customs(), pii)

    async def inbox() -> int:
        return await take_inbox(sessions(), customs(), pii)

    async def summaries() -> int:
        return await announce_summaries(sessions())

    return [outbox, inbox, summaries, retention_job(sessions, retention_days), sealing_job(sessions, pii)]
