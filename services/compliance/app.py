"""compliance: the three-in-one comparison — orders, payments and waybills, matching, limits, tax, customs XML."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.compliance import sealed
from services.compliance.context import ComplianceContext
from services.compliance.customers.router import router as customers_router
from services.compliance.events import EVENTS, IdempotencyKey
from services.compliance.inbox import router as inbox_router
from services.compliance.inbox import subscribe_on_start
from services.compliance.intake.router import router as intake_router
from services.compliance.items.router import router as items_router
from services.compliance.jobs import relay_jobs
from services.compliance.orders.broker_router import router as broker_router
from services.compliance.orders.returns_router import router as returns_router
from services.compliance.orders.router import router as orders_router
from services.compliance.orders.tax_router import router as tax_router
from services.compliance.pii import Pii
from services.compliance.rates.router import router as rates_router
from services.compliance.settings import ComplianceSettings
from services.compliance.setup.router import router as setup_router
from shared.app import build_app
from shared.events.relay import Task

MIGRATIONS = Path(__file__).parent / "migrations"


class ServiceContext(ComplianceContext):
    """The context the service runs with: the relay's jobs (``jobs.py``) and the plans' events subscription
    (``inbox.py``) wired on here, at the top, where every package may be imported."""

    def relay_jobs(self) -> Sequence[Task]:
        # read when each job runs: the customs context is built after the relay
        return relay_jobs(
            lambda: self.sessionmaker, lambda: self.customs, self.pii, self.settings.platform_body_retention_days
        )

    async def on_started(self) -> None:
        await super().on_started()
        await subscribe_on_start(self)


def create_app(settings: ComplianceSettings | None = None, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    settings = settings or ComplianceSettings()
    key = settings.pii_key.get_secret_value() if settings.pii_key else None
    context = ServiceContext(
        settings=settings,
        pii=Pii.from_setting(key, settings.data_dir),
        events=EVENTS,
        idempotency_model=IdempotencyKey,
        given_http=http_client,
    )
    sealed.use(context.pii)
    return build_app(
        context,
        title="XBM compliance",
        description="The three-in-one comparison: orders, payments and waybills from their real senders, "
        "matching, limits, tax, official customs messages and receipts.",
        migrations_dir=MIGRATIONS,
        routers=[
            items_router,
            setup_router,
            intake_router,
            orders_router,
            tax_router,
            broker_router,
            rates_router,
            returns_router,
            customers_router,
            inbox_router,
        ],
    )
