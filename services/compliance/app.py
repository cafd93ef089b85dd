"""compliance: the three-in-one comparison — orders, payments and waybills, matching, limits, tax, customs XML."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.compliance.events import EVENTS, IdempotencyKey
from services.compliance.intake.router import router as intake_router
from services.compliance.items.router import router as items_router
from services.compliance.orders.router import router as orders_router
from services.compliance.pii import Pii
from services.compliance.settings import ComplianceSettings
from services.compliance.setup.router import router as setup_router
from services.compliance.subscribe import announce_orders_to_plans
from shared.app import build_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: ComplianceSettings | None = None, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    settings = settings or ComplianceSettings()
    app = build_app(
        settings,
        title="XBM compliance",
        description="The three-in-one comparison: orders, payments and waybills from their real senders, "
        "matching, limits, tax, official customs messages and receipts.",
        migrations_dir=MIGRATIONS,
        routers=[items_router, setup_router, intake_router, orders_router],
        http_client=http_client,
        events=EVENTS,
        idempotency_model=IdempotencyKey,
        on_startup=[announce_orders_to_plans],
    )
    key = settings.pii_key.get_secret_value() if settings.pii_key else None
    app.state.pii = Pii.from_setting(key, settings.data_dir)
    return app
