"""The app factory every service builds on: errors, middleware, ops routes, engine, HTTP client, auth."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI
from fastapi_offline import FastAPIOffline

from shared.auth import KeySource, RemoteJWKS, RevocationList, RevocationPage, TokenVerifier
from shared.context import AppContext, attach
from shared.cors import ListedOriginsCORS
from shared.db import make_engine, make_sessionmaker
from shared.errors import install_error_handlers
from shared.events.relay import Relay, Task
from shared.events.subscriptions.routes import internal_router, subscriptions_router
from shared.events.tables import EventTables
from shared.health import ops_router
from shared.http import jwks_fetcher, make_http_client, revocations_fetcher
from shared.idempotency import IdempotencyMiddleware
from shared.observability import InputGuardMiddleware, Metrics, ObservabilityMiddleware, configure_logging
from shared.openapi import install_openapi, refuse_unknown_query
from shared.outbound import OutboundPolicy
from shared.settings import ServiceSettings
from shared.tenant_limits import TenantLimitMiddleware

Hook = Callable[[FastAPI], Awaitable[None]]

#: on every POST when the service honours Idempotency-Key
IDEMPOTENCY_CONFLICT = {"description": "A request with this Idempotency-Key is still being processed (problem+json)"}


def declare_idempotency_conflicts(app: FastAPI) -> None:
    """Every POST can answer 409 while a request with the same Idempotency-Key runs: the OpenAPI document says
    so (added when the document is built, since included routers are resolved then)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for item in build()["paths"].values():
                if "post" in item:
                    item["post"]["responses"].setdefault("409", IDEMPOTENCY_CONFLICT)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def build_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    migrations_dir: Path,
    routers: Sequence[APIRouter],
    key_source: Callable[[FastAPI], KeySource] | None = None,
    revocations: Callable[[FastAPI], Callable[[], Awaitable[list[str] | RevocationPage]]] | None = None,
    http_client: httpx.AsyncClient | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    events: EventTables | None = None,
    idempotency_model: Any = None,
    relay_tasks: Callable[[FastAPI], Sequence[Task]] | None = None,
    security_schemes: dict[str, Any] | None = None,
    context: AppContext | None = None,
) -> FastAPI:
    """``key_source`` builds the token keys for this app; by default plans' JWKS fetched over HTTP; likewise
    ``revocations`` fetches the ids of revoked API keys (by default from plans over HTTP).
    With ``events`` the app serves ``/v1/subscriptions`` and runs its outbox relay (unless ``run_relay`` is off;
    ``relay_tasks`` are extra periodic jobs run on each relay pass). ``security_schemes`` are declared in the
    OpenAPI document beside the bearer scheme, for the routes that name them (the bootstrap token).
    ``context`` is the service's own :class:`~shared.context.AppContext` (a subclass with its extras); by default
    a plain one. The factory and the lifespan fill in its common fields."""
    ctx = context if context is not None else AppContext(settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(
            settings.resolved_database_url(), pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        ctx.engine = engine
        ctx.sessionmaker = make_sessionmaker(engine)
        own_client = http_client is None
        ctx.http = http_client or make_http_client(settings.http_connect_timeout, settings.http_read_timeout)
        if key_source is not None:
            keys = key_source(app)
        else:
            keys = RemoteJWKS(jwks_fetcher(ctx.http, settings.plans_url))
        if revocations is not None:
            fetch_revoked = revocations(app)
        else:
            fetch_revoked = revocations_fetcher(ctx.http, settings.plans_url, ctx.service_secret)
        fetch_since = getattr(fetch_revoked, "since", None)  # incremental when the fetcher can be
        ctx.verifier = TokenVerifier(keys, revocations=RevocationList(fetch_revoked, fetch_since=fetch_since))
        relay_task = None
        stop = asyncio.Event()
        if events is not None:
            ctx.relay = Relay(
                ctx.sessionmaker,
                events,
                ctx.http,
                ctx.outbound_policy,
                extra_tasks=relay_tasks(app) if relay_tasks else (),
                lease_seconds=settings.relay_lease_seconds,
                retention=timedelta(days=settings.events_retention_days),
                idempotency_model=idempotency_model,
            )
        try:
            for hook in on_startup:
                await hook(app)
            if ctx.relay is not None and settings.run_relay:
                relay_task = asyncio.create_task(ctx.relay.run_forever(settings.relay_idle_seconds, stop))
            yield
        finally:
            stop.set()
            if relay_task is not None:
                await relay_task
            for hook in on_shutdown:
                await hook(app)
            if own_client:
                await ctx.http.aclose()
            await engine.dispose()

    if settings.environment != "test":
        configure_logging(settings.log_level)
    # /docs and /redoc serve Swagger UI and ReDoc from the package's bundled files: they work offline
    app = FastAPIOffline(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query)],
        static_url="/docs-assets",
        # operationIds are the endpoint names (``create_plan``): what generated clients call their methods
        generate_unique_id_function=lambda route: route.name,
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )
    ctx.events = events
    ctx.metrics = Metrics(settings.service_name)
    ctx.service_secret = settings.resolved_service_secret()
    ctx.outbound_policy = OutboundPolicy.for_environment(
        settings.environment, settings.outbound_allow, ports=settings.outbound_allow_ports
    )
    attach(app, ctx)
    install_error_handlers(app)
    app.include_router(ops_router(migrations_dir))
    for router in routers:
        app.include_router(router)
    if events is not None:
        app.include_router(subscriptions_router(events.event_types))
        app.include_router(internal_router())
    if idempotency_model is not None:
        app.add_middleware(IdempotencyMiddleware, model=idempotency_model)
        declare_idempotency_conflicts(app)
    install_openapi(app, extra_schemes=security_schemes, idempotent_posts=idempotency_model is not None)
    if settings.org_requests:
        app.add_middleware(TenantLimitMiddleware, rate=settings.org_requests, storage=settings.rate_limit_url)
    app.add_middleware(InputGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(ObservabilityMiddleware, metrics=ctx.metrics)
    if settings.cors_origins:
        # outermost, so preflights and error responses (401, 413, 503 …) carry the CORS headers too
        app.add_middleware(ListedOriginsCORS, origins=settings.cors_origins)
    return app
