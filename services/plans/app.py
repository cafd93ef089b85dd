"""plans: organisations, keys and tokens, and the 13N1 marketing plan with its SBUs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.plans.context import PlansContext
from services.plans.events import EVENTS, IdempotencyKey
from services.plans.execution.router import routers as execution_routers
from services.plans.identity.keys import SigningKey
from services.plans.identity.ratelimit import GuessLimiter
from services.plans.identity.router import internal_router as identity_internal_router
from services.plans.identity.router import router as identity_router
from services.plans.identity.service import revoked_since
from services.plans.inbox import router as inbox_router
from services.plans.inbox import subscribe_on_start
from services.plans.planning.router import router as planning_router
from services.plans.report.router import router as report_router
from services.plans.sbus.router import router as sbus_router
from services.plans.settings import PlansSettings
from services.plans.strategy.router import routers as strategy_routers
from services.plans.tactics.router import routers as tactics_routers
from shared.app import build_app
from shared.auth import KeySource, RevocationPage, StaticKeys
from shared.db import make_engine, make_sessionmaker
from shared.events.subscriptions.system import stop_system_subscriptions
from shared.secrets import load_or_create_secret

MIGRATIONS = Path(__file__).parent / "migrations"


class OwnRevocations:
    """Plans' own revocation list, read from its table like the other services read it over HTTP: whole, or
    what changed since a cursor."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    async def __call__(self) -> RevocationPage:
        async with self._sessions() as session:
            ids, now = await revoked_since(session, None)
        return RevocationPage(ids, now.isoformat(), True)

    async def since(self, cursor: str) -> RevocationPage:
        async with self._sessions() as session:
            ids, now = await revoked_since(session, datetime.fromisoformat(cursor))
        return RevocationPage(ids, now.isoformat(), False)


def create_app(settings: PlansSettings | None = None, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    settings = settings or PlansSettings()
    signing_key = SigningKey.from_settings(settings)
    if settings.bootstrap_token is not None:
        bootstrap = settings.bootstrap_token.get_secret_value()
    else:
        bootstrap, _ = load_or_create_secret(settings.data_dir / "bootstrap_token")
    context = PlansContext(
        settings=settings,
        signing_key=signing_key,
        guess_limiter=GuessLimiter(
            settings.rate_limit_url, settings.auth_failures_per_address, settings.auth_failures_per_key
        ),
        bootstrap_token=bootstrap,
    )

    def keys(_: FastAPI) -> KeySource:
        return StaticKeys(signing_key.jwks())

    def revocations(_: FastAPI) -> Callable[[], Awaitable[RevocationPage]]:
        # plans reads its own table, on an engine of its own: the refresh never queues behind (or is counted
        # among) the statements of the request that happened to trigger it
        engine = make_engine(settings.resolved_database_url(), pool_size=1, max_overflow=0)
        context.revocation_engine = engine
        sessions = make_sessionmaker(engine)

        return OwnRevocations(sessions)

    async def dispose_revocation_engine(_: FastAPI) -> None:
        if context.revocation_engine is not None:
            await context.revocation_engine.dispose()

    return build_app(
        settings,
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
        key_source=keys,
        revocations=revocations,
        on_shutdown=[dispose_revocation_engine, stop_system_subscriptions],
        http_client=http_client,
        events=EVENTS,
        idempotency_model=IdempotencyKey,
        on_startup=[subscribe_on_start],
        security_schemes={
            "bootstrapToken": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Bootstrap-Token",
                "description": "The deployment's bootstrap token (`XBM_BOOTSTRAP_TOKEN`, or the one generated "
                "into `$XBM_DATA_DIR/bootstrap_token`); only creating an organisation needs it.",
            }
        },
        context=context,
    )
