"""Plans' application context: the common one plus the token signing key, the guess limiter and the
bootstrap token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from services.plans.identity.keys import SigningKey
from services.plans.identity.ratelimit import GuessLimiter
from services.plans.settings import PlansSettings
from shared.context import AppContext, context_of


@dataclass(kw_only=True, eq=False)
class PlansContext(AppContext):
    settings: PlansSettings
    signing_key: SigningKey
    guess_limiter: GuessLimiter
    bootstrap_token: str
    #: the engine the revocation list is read on (its own, once the app has started)
    revocation_engine: AsyncEngine | None = None


def plans_context(app: FastAPI) -> PlansContext:
    return context_of(app, PlansContext)


def _context(request: Request) -> PlansContext:
    return plans_context(request.app)


#: the dependency plans' routes reach their context through
PlansCtx = Annotated[PlansContext, Depends(_context)]
