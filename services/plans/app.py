"""plans: organisations, keys and tokens, and the 13N1 marketing plan with its SBUs."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.plans.context import PlansContext
from services.plans.events import EVENTS, IdempotencyKey
from services.plans.execution.router import routers as execution_routers
from services.plans.identity.keys import SigningKey
from services.plans.identity.ratelimit import GuessLimiter
from services.plans.identity.router import internal_router as identity_internal_router
from services.plans.identity.router import router as identity_router
from services.plans.inbox import router as inbox_router
from services.plans.planning.router import router as planning_router
from services.plans.report.router import router as report_router
from services.plans.sbus.router import router as sbus_router
from services.plans.settings import PlansSettings
from services.plans.strategy.router import routers as strategy_routers
from services.plans.tactics.router import routers as tactics_routers
from shared.app import build_app
from shared.secrets import load_or_create_secret

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: PlansSettings | None = None, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    settings = settings or PlansSettings()
    signing_key = SigningKey.from_settings(settings)
    if settings.bootstrap_token is not None:
        bootstrap = settings.bootstrap_token.get_secret_value()
    else:
        bootstrap, _ = load_or_create_secret(settings.data_dir / "bootstrap_token")
    context = PlansContext(
        settings=settings,
        events=EVENTS,
        idempotency_model=IdempotencyKey,
        given_http=http_client,
        signing_key=signing_key,
        guess_limiter=GuessLimiter(
            settings.rate_limit_url, settings.auth_failures_per_address, settings.auth_failures_per_key
        ),
        bootstrap_token=bootstrap,
    )

    return build_app(
        context,
        title="XBM plans",
        description="Organisations, API keys and tokens; the 13N1 marketing plan: strategy, tactics, SBUs, "
        "innovation, reviews and the printable report.",
        migrations_dir=MIGRATIONS,
        routers=[
            identity_router,
            planning_router,
            *strategy_routers,
            *tactics_routers,
            sbus_router,
            *execution_routers,
            report_router,
            inbox_router,
            identity_internal_router,
        ],
        security_schemes={
            "bootstrapToken": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Bootstrap-Token",
                "description": "The deployment's bootstrap token (`XBM_BOOTSTRAP_TOKEN`, or the one generated "
                "into `$XBM_DATA_DIR/bootstrap_token`); only creating an organisation needs it.",
            }
        },
    )
