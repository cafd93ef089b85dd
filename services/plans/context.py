"""Plans' application context: the common one plus the token signing key, the guess limiter and the
bootstrap token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.plans.identity.keys import SigningKey
from services.plans.identity.ratelimit import GuessLimiter
from services.plans.identity.service import revoked_since
from services.plans.inbox import subscribe_on_start
from services.plans.settings import PlansSettings
from shared.app_context import AppContext, RevocationSource
from shared.auth import KeySource, RevocationPage, StaticKeys
from shared.context import context_of
from shared.db import make_engine, make_sessionmaker


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


@dataclass(kw_only=True, eq=False)
class PlansContext(AppContext):
    settings: PlansSettings
    signing_key: SigningKey
    guess_limiter: GuessLimiter
    bootstrap_token: str
    #: the engine the revocation list is read on (its own, once the app has started)
    revocation_engine: AsyncEngine | None = None

    def token_keys(self) -> KeySource:
        return StaticKeys(self.signing_key.jwks())

    def revocation_source(self) -> RevocationSource:
        # plans reads its own table, on an engine of its own: the refresh never queues behind (or is counted
        # among) the statements of the request that happened to trigger it
        self.revocation_engine = make_engine(self.settings.resolved_database_url(), pool_size=1, max_overflow=0)
        return OwnRevocations(make_sessionmaker(self.revocation_engine))

    async def on_started(self) -> None:
        await subscribe_on_start(self)

    async def on_closing(self) -> None:
        if self.revocation_engine is not None:
            await self.revocation_engine.dispose()


def plans_context(app: FastAPI) -> PlansContext:
    return context_of(app, PlansContext)


async def _context(request: Request) -> PlansContext:
    return plans_context(request.app)


#: the dependency plans' routes reach their context through
PlansCtx = Annotated[PlansContext, Depends(_context)]
