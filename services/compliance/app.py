"""compliance: the three-in-one comparison — orders, payments and waybills, matching, limits, tax, customs XML."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.compliance import sealed
from services.compliance.context import ComplianceContext
from services.compliance.customers.router import router as customers_router
from services.compliance.customs.context import CustomsContext
from services.compliance.events import EVENTS, IdempotencyKey
from services.compliance.inbox import router as inbox_router
from services.compliance.inbox import subscribe_on_start
from services.compliance.intake.router import router as intake_router
from services.compliance.items.router import router as items_router
from services.compliance.jobs import Job, relay_jobs
from services.compliance.orders.returns_router import router as returns_router
from services.compliance.orders.router import router as orders_router
from services.compliance.pii import Pii
from services.compliance.settings import ComplianceSettings
from services.compliance.setup.router import router as setup_router
from shared.app import build_app
from shared.events.subscriptions import stop_system_subscriptions

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: ComplianceSettings | None = None, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    settings = settings or ComplianceSettings()
    key = settings.pii_key.get_secret_value() if settings.pii_key else None
    context = ComplianceContext(settings=settings, pii=Pii.from_setting(key, settings.data_dir))
    sealed.use(context.pii)

    async def customs_context(_: FastAPI) -> None:
        context.customs = CustomsContext.build(settings, context.http)

    def customs_jobs(_: FastAPI) -> list[Job]:
        return relay_jobs(
            lambda: context.sessionmaker, lambda: context.customs, context.pii, settings.platform_body_retention_days
        )

    return build_app(
        settings,
        title="XBM compliance",
        description="The three-in-one comparison: orders, payments and waybills from their real senders, "
        "matching, limits, tax, official customs messages and receipts.",
        migrations_dir=MIGRATIONS,
        routers=[
            items_router,
            setup_router,
            intake_router,
            orders_router,
            returns_router,
            customers_router,
            inbox_router,
        ],
        http_client=http_client,
        events=EVENTS,
        idempotency_model=IdempotencyKey,
        on_startup=[customs_context, subscribe_on_start],
        on_shutdown=[stop_system_subscriptions],
        relay_tasks=customs_jobs,
        context=context,
    )
