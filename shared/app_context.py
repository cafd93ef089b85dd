"""The application context: one typed object holding what an app runs on, instead of loose ``app.state``
attributes, and building and closing it itself: :meth:`AppContext.start` opens the engine, the HTTP client, the
token verifier and the relay once the event loop runs; :meth:`AppContext.aclose` stops and closes them.

Each service subclasses it for its extras (plans' signing key, compliance's customs context …) and overrides the
seams it needs: :meth:`~AppContext.token_keys`, :meth:`~AppContext.revocation_source`,
:meth:`~AppContext.relay_jobs`, :meth:`~AppContext.on_started` and :meth:`~AppContext.on_closing`. Routes reach
it through their service's typed dependency; code holding the app uses :func:`shared.context.context_of`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import KeySource, RemoteJWKS, RevocationList, RevocationPage, TokenVerifier
from shared.db import make_engine, make_sessionmaker
from shared.events.relay import Relay, Task
from shared.events.tables import EventTables
from shared.http import jwks_fetcher, make_http_client, revocations_fetcher
from shared.observability import Metrics
from shared.outbound import OutboundPolicy
from shared.settings import ServiceSettings

#: what the token verifier asks for the revoked API keys (whole, or with ``since`` an incremental page)
RevocationSource = Callable[[], Awaitable[list[str] | RevocationPage]]


@dataclass(kw_only=True, eq=False)
class AppContext:
    """What every service runs on. The fields marked "started" exist once :meth:`start` has run."""

    settings: ServiceSettings
    #: the event tables when the service publishes events (it then serves subscriptions and runs a relay)
    events: EventTables | None = None
    #: the idempotency table when the service honours Idempotency-Key
    idempotency_model: Any = None
    #: an HTTP client the caller owns (tests route it in process); else the context opens and closes its own
    given_http: httpx.AsyncClient | None = None
    # from the settings
    metrics: Metrics = field(init=False)
    service_secret: str = field(init=False)
    outbound_policy: OutboundPolicy = field(init=False)
    # started
    engine: AsyncEngine = field(init=False)
    sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)
    http: httpx.AsyncClient = field(init=False)
    verifier: TokenVerifier = field(init=False)
    relay: Relay | None = None
    #: background attempts to register a system subscription the database could not take yet
    system_subscription_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: the query parameter names each operation declares, by id of its dependant (see shared.openapi)
    query_names: dict[int, frozenset[str]] = field(default_factory=dict)
    _relay_task: asyncio.Task[None] | None = field(default=None, init=False)
    _stop: asyncio.Event | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.metrics = Metrics(settings.service_name)
        self.service_secret = settings.resolved_service_secret()
        self.outbound_policy = OutboundPolicy.for_environment(
            settings.environment, settings.outbound_allow, ports=settings.outbound_allow_ports
        )

    # --- the seams a service overrides ------------------------------------------------------------------------

    def token_keys(self) -> KeySource:
        """The keys access tokens verify with: by default plans' JWKS, fetched over HTTP."""
        return RemoteJWKS(jwks_fetcher(self.http, self.settings.plans_url))

    def revocation_source(self) -> RevocationSource:
        """Where the revoked API keys are read: by default from plans over HTTP."""
        return revocations_fetcher(self.http, self.settings.plans_url, self.service_secret)

    def relay_jobs(self) -> Sequence[Task]:
        """Periodic jobs the relay runs beside delivering events (customs exchange, summaries …)."""
        return ()

    async def on_started(self) -> None:
        """Run once everything is open, before the relay starts (subscriptions, a service's own parts)."""

    async def on_closing(self) -> None:
        """Run once the relay has stopped, before the engine and the HTTP client close."""

    # --- the lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(
            settings.resolved_database_url(), pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        self.sessionmaker = make_sessionmaker(self.engine)
        self.http = self.given_http or make_http_client(settings.http_connect_timeout, settings.http_read_timeout)
        fetch_revoked = self.revocation_source()
        fetch_since = getattr(fetch_revoked, "since", None)  # incremental when the fetcher can be
        self.verifier = TokenVerifier(
            self.token_keys(), revocations=RevocationList(fetch_revoked, fetch_since=fetch_since)
        )
        if self.events is not None:
            self.relay = Relay(
                self.sessionmaker,
                self.events,
                self.http,
                self.outbound_policy,
                extra_tasks=self.relay_jobs(),
                lease_seconds=settings.relay_lease_seconds,
                retention=timedelta(days=settings.events_retention_days),
                idempotency_model=self.idempotency_model,
            )
        await self.on_started()
        settle_heap()
        if self.relay is not None and settings.run_relay:
            self._stop = asyncio.Event()
            self._relay_task = asyncio.create_task(self.relay.run_forever(settings.relay_idle_seconds, self._stop))

    async def aclose(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._relay_task is not None:
            await self._relay_task
            self._relay_task = None
        try:
            await self.on_closing()
        finally:
            for task in list(self.system_subscription_tasks):
                task.cancel()
            if self.given_http is None:
                await self.http.aclose()
            await self.engine.dispose()

    def require_relay(self) -> Relay:
        if self.relay is None:
            raise RuntimeError(f"{self.settings.service_name} publishes no events, so it runs no relay")
        return self.relay


def settle_heap() -> None:
    """What is alive once a service has started (modules, routes, validators, pools: ~300,000 objects) lives as
    long as the process: it is moved out of the garbage collector's generations, so the full collections a
    request's short-lived objects set off (a 1,000-row metrics body makes ~15,000) no longer walk all of it —
    about a third of that request's CPU, and a share of every request's. Garbage is collected first, so nothing
    unreachable is kept.

    What a process keeps building while it serves (caches, pooled connections' statements) is not frozen, and a
    collection is set off every 700 allocations by default: a 1,000-row body then sets off dozens of young
    collections and, now and then, a full one over the grown heap (27 ms for a request that otherwise costs 15).
    The young generation is collected every :data:`GC_THRESHOLDS` allocations instead: a request's short-lived
    objects are freed by reference counting anyway; the collector is there for cycles, which these thresholds
    still collect within a few thousand requests."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


#: allocations before a young collection; young collections before a middle one; middle before a full one
GC_THRESHOLDS = (50_000, 20, 100)
