"""compliance: the three-in-one comparison — orders, payments and waybills, matching, limits, tax, customs XML."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.compliance.items.router import router as items_router
from services.compliance.settings import ComplianceSettings
from shared.app import build_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: ComplianceSettings | None = None, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    settings = settings or ComplianceSettings()
    return build_app(
        settings,
        title="XBM compliance",
        description="The three-in-one comparison: orders, payments and waybills from their real senders, "
        "matching, limits, tax, official customs messages and receipts.",
        migrations_dir=MIGRATIONS,
        routers=[items_router],
        http_client=http_client,
    )
