"""The app factory every service builds on: errors, middleware, ops routes, engine, HTTP client, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi_offline import FastAPIOffline

from shared import route_index
from shared.app_context import AppContext
from shared.context import attach
from shared.cors import ListedOriginsCORS
from shared.errors import install_error_handlers
from shared.events.subscriptions.routes import internal_router, subscriptions_router
from shared.health import ops_router
from shared.idempotency import IdempotencyMiddleware
from shared.observability import InputGuardMiddleware, ObservabilityMiddleware, configure_logging
from shared.openapi import install_openapi, refuse_unknown_query
from shared.tenant_limits import TenantLimitMiddleware

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
    context: AppContext,
    *,
    title: str,
    description: str,
    migrations_dir: Path,
    routers: Sequence[APIRouter],
    security_schemes: dict[str, Any] | None = None,
) -> FastAPI:
    """The service's app on its ``context`` (a :class:`~shared.app_context.AppContext`, or the service's
    subclass with its extras and seams), which the lifespan starts and closes. With ``context.events`` the app
    serves ``/v1/subscriptions`` and runs its outbox relay (unless ``run_relay`` is off); with
    ``context.idempotency_model`` it honours Idempotency-Key. ``security_schemes`` are declared in the OpenAPI
    document beside the bearer scheme, for the routes that name them (the bootstrap token)."""
    settings, events, idempotency_model = context.settings, context.events, context.idempotency_model

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await context.start()
        try:
            yield
        finally:
            await context.aclose()

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
    attach(app, context)
    install_error_handlers(app)
    app.include_router(ops_router(migrations_dir))
    for router in routers:
        app.include_router(router)
    if events is not None:
        app.include_router(subscriptions_router(events.event_types))
        app.include_router(internal_router())
    route_index.install(app.router)
    if idempotency_model is not None:
        app.add_middleware(IdempotencyMiddleware, model=idempotency_model)
        declare_idempotency_conflicts(app)
    install_openapi(app, extra_schemes=security_schemes, idempotent_posts=idempotency_model is not None)
    if settings.org_requests:
        app.add_middleware(TenantLimitMiddleware, rate=settings.org_requests, storage=settings.rate_limit_url)
    app.add_middleware(InputGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(ObservabilityMiddleware, metrics=context.metrics)
    if settings.cors_origins:
        # outermost, so preflights and error responses (401, 413, 503 …) carry the CORS headers too
        app.add_middleware(ListedOriginsCORS, origins=settings.cors_origins)
    return app
