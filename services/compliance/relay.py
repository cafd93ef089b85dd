"""``python -m services.compliance.relay``: compliance's outbox relay as a process of its own, with the customs
jobs the embedded relay runs (the e-port outbox and inbox, the customer summaries). Several may run on one
PostgreSQL database: customs messages are leased ``FOR UPDATE SKIP LOCKED`` like the event deliveries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance import sealed
from services.compliance.customers.announce import announce_summaries
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.exchange import send_pending, take_inbox
from services.compliance.events import EVENTS, IdempotencyKey
from services.compliance.intake.retention import retention_job, sealing_job
from services.compliance.pii import Pii
from services.compliance.settings import ComplianceSettings
from shared.events.relay import relay_main


def customs_jobs(
    settings: ComplianceSettings,
) -> Callable[[async_sessionmaker[AsyncSession], httpx.AsyncClient], Sequence[Callable[[], Awaitable[Any]]]]:
    def jobs(
        sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient
    ) -> Sequence[Callable[[], Awaitable[Any]]]:
        key = settings.pii_key.get_secret_value() if settings.pii_key else None
        pii = Pii.from_setting(key, settings.data_dir)
        sealed.use(pii)
        customs = CustomsContext.build(settings, http)

        async def outbox() -> int:
            return await send_pending(sessions, customs, pii)

        async def inbox() -> int:
            return await take_inbox(sessions, customs, pii)

        async def summaries() -> int:
            return await announce_summaries(sessions)

        bodies = retention_job(lambda: sessions, settings.platform_body_retention_days)
        legacy = sealing_job(lambda: sessions, pii)
        return [outbox, inbox, summaries, bodies, legacy]

    return jobs


if __name__ == "__main__":
    settings = ComplianceSettings()
    relay_main(settings, EVENTS, customs_jobs(settings), idempotency_model=IdempotencyKey)
