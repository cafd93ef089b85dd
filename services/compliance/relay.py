"""``python -m services.compliance.relay``: compliance's outbox relay as a process of its own, with the customs
jobs the embedded relay runs (the e-port outbox and inbox, the customer summaries). Several may run on one
PostgreSQL database: customs messages are leased ``FOR UPDATE SKIP LOCKED`` like the event deliveries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance import sealed
from services.compliance.customs.context import CustomsContext
from services.compliance.events import EVENTS, IdempotencyKey
from services.compliance.jobs import relay_jobs
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
        return relay_jobs(lambda: sessions, lambda: customs, pii, settings.platform_body_retention_days)

    return jobs


if __name__ == "__main__":
    settings = ComplianceSettings()
    relay_main(settings, EVENTS, customs_jobs(settings), idempotency_model=IdempotencyKey)
