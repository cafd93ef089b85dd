"""The application context: one typed object holding what an app runs on, instead of loose ``app.state``
attributes. The app factory (:func:`shared.app.build_app`) creates it and the lifespan fills in what needs the
running event loop (engine, sessionmaker, HTTP client, verifier, relay). Routes reach it through ONE dependency,
:data:`Context` (or a service's own typed one, for its extras); code holding the app
(lifespan hooks, tests) uses :func:`context_of`.

Each service subclasses :class:`AppContext` for its extras (plans' signing key, compliance's customs context …).
This module is the only place that touches ``app.state``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, TypeVar, overload

from fastapi import Depends, FastAPI, Request

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from shared.auth import TokenVerifier
    from shared.events.relay import Relay
    from shared.events.tables import EventTables
    from shared.observability import Metrics
    from shared.outbound import OutboundPolicy
    from shared.settings import ServiceSettings

C = TypeVar("C", bound="AppContext")


@dataclass(kw_only=True, eq=False)
class AppContext:
    """What every service runs on. The fields marked "lifespan" exist once the app has started."""

    settings: ServiceSettings
    #: the event tables when the service publishes events (it then serves subscriptions and runs a relay)
    events: EventTables | None = None
    # set by the app factory
    metrics: Metrics = field(init=False)
    service_secret: str = field(init=False)
    outbound_policy: OutboundPolicy = field(init=False)
    # lifespan
    engine: AsyncEngine = field(init=False)
    sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)
    http: httpx.AsyncClient = field(init=False)
    verifier: TokenVerifier = field(init=False)
    relay: Relay | None = None
    #: background attempts to register a system subscription the database could not take yet
    system_subscription_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: the query parameter names each operation declares, by id of its dependant (see shared.openapi)
    query_names: dict[int, frozenset[str]] = field(default_factory=dict)

    def require_relay(self) -> Relay:
        if self.relay is None:
            raise RuntimeError(f"{self.settings.service_name} publishes no events, so it runs no relay")
        return self.relay


def attach(app: FastAPI, context: AppContext) -> None:
    """Make ``context`` the app's context (the app factory does this once)."""
    app.state.context = context


@overload
def context_of(app: FastAPI) -> AppContext: ...
@overload
def context_of(app: FastAPI, kind: type[C]) -> C: ...
def context_of(app: FastAPI, kind: type[AppContext] = AppContext) -> AppContext:
    """The app's context, as ``kind`` (a service's subclass of :class:`AppContext`) when given."""
    context = app.state.context
    if not isinstance(context, kind):
        raise TypeError(f"the app's context is a {type(context).__name__}, not a {kind.__name__}")
    return context


def get_context(request: Request) -> AppContext:
    """The dependency: the context of the app serving this request. A service's routes use its own typed
    dependency, ``context_of(request.app, TheServiceContext)``, when they need its extras."""
    return context_of(request.app)


Context = Annotated[AppContext, Depends(get_context)]
