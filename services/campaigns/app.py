"""campaigns: the combat layer — campaigns on SBUs, metrics and KPIs, budgets, event nodes, A/B experiments."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.campaigns.campaigns.router import router as campaigns_router
from services.campaigns.context import CampaignsContext
from services.campaigns.event_nodes.router import router as event_nodes_router
from services.campaigns.events import EVENTS
from services.campaigns.experiments.router import router as experiments_router
from services.campaigns.idempotency import IdempotencyKey
from services.campaigns.inbox import router as inbox_router
from services.campaigns.kinds.router import router as kinds_router
from services.campaigns.platforms.router import router as platforms_router
from services.campaigns.reviews.router import router as reviews_router
from services.campaigns.settings import CampaignsSettings
from shared.app import build_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: CampaignsSettings | None = None, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    settings = settings or CampaignsSettings()
    context = CampaignsContext(
        settings=settings, events=EVENTS, idempotency_model=IdempotencyKey, given_http=http_client
    )
    return build_app(
        context,
        title="XBM campaigns",
        description="The combat layer: campaign kinds, campaigns bound to SBUs, metrics and KPIs, budgets and "
        "pacing, platform event nodes, A/B experiments with their statistics, reviews.",
        migrations_dir=MIGRATIONS,
        routers=[
            kinds_router,
            platforms_router,
            campaigns_router,
            experiments_router,
            event_nodes_router,
            reviews_router,
            inbox_router,
        ],
    )
