"""A minimal service built on the shared base, to prove the event mechanisms end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.plans.context import plans_context
from shared.app import build_app
from shared.app_context import AppContext, RevocationSource
from shared.auth import KeySource, Principal, StaticKeys, require
from shared.context import context_of
from shared.db import DbSession, IdMixin, OrgMixin, TimestampMixin, new_metadata
from shared.events.contracts import Event
from shared.events.inbox import receive_event
from shared.events.outbox import derive_webhook_secret, publish
from shared.events.tables import event_tables
from shared.idempotency import idempotency_table
from shared.migrations import aupgrade_to_head
from shared.schemas import Name, Schema
from shared.settings import ServiceSettings
from tests.conftest import asgi_client

MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    metadata = new_metadata()


class Toy(IdMixin, OrgMixin, TimestampMixin, Base):
    __tablename__ = "toys"
    name: Mapped[str] = mapped_column(String(200))


class ToyCreated(Event):
    type: ClassVar[str] = "toy.created"
    publisher: ClassVar[str] = "toys"

    id: str
    name: str


EVENTS = event_tables(Base, (ToyCreated,))
IdempotencyKey = idempotency_table(Base)


class ToyIn(Schema):
    name: Name


Specialist = Annotated[Principal, Depends(require("specialist"))]


def _router() -> APIRouter:
    r = APIRouter(prefix="/v1")

    @r.post("/toys", status_code=201)
    async def create(body: ToyIn, session: DbSession, response: Response, principal: Specialist) -> dict[str, Any]:
        toy = Toy(org_id=principal.org_id, name=body.name)
        session.add(toy)
        await session.flush()
        await publish(session, EVENTS, ToyCreated(id=toy.id, name=toy.name), org_id=principal.org_id)
        response.headers["Location"] = f"/v1/toys/{toy.id}"
        return {"id": toy.id, "name": toy.name}

    return r


def _inbox() -> APIRouter:
    r = APIRouter()

    @r.post("/internal/events/toys")
    async def inbox(request: Request, session: DbSession) -> dict[str, bool]:
        secret = derive_webhook_secret(context_of(request.app).service_secret, "toys->toys")
        envelope = await receive_event(request, session, EVENTS, secret, source="toys")
        return {"applied": envelope is not None}

    return r


@dataclass(kw_only=True, eq=False)
class ToyContext(AppContext):
    """Tokens verified with the JWKS it is given; nothing revoked (its HTTP client is the webhook subscriber's,
    not plans')."""

    jwks: dict[str, Any]

    def token_keys(self) -> KeySource:
        return StaticKeys(self.jwks)

    def revocation_source(self) -> RevocationSource:
        async def nothing_revoked() -> list[str]:
            return []

        return nothing_revoked


def create_app(settings: ServiceSettings, jwks: dict[str, Any], http_client: httpx.AsyncClient) -> FastAPI:
    context = ToyContext(
        settings=settings, jwks=jwks, events=EVENTS, idempotency_model=IdempotencyKey, given_http=http_client
    )
    return build_app(
        context, title="XBM toy", description="test service", migrations_dir=MIGRATIONS, routers=[_router(), _inbox()]
    )


@asynccontextmanager
async def running(
    databases: Any, plans_app: FastAPI, data_dir: Path, http: httpx.AsyncClient, **settings: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The toy service on a new database, its lifespan running, with an in-process client; ``settings`` add to
    (or replace) the test defaults."""
    url = await databases.new("toy")
    await aupgrade_to_head(MIGRATIONS, url)
    values = {"service_name": "toys", "environment": "test", "data_dir": data_dir, "database_url": url,
              "run_relay": False, "service_secret": "toy-service-secret", **settings}  # fmt: skip
    app = create_app(ServiceSettings(**values), plans_context(plans_app).signing_key.jwks(), http)
    async with app.router.lifespan_context(app), asgi_client(app, "http://toys") as client:
        yield app, client
