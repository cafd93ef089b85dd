"""Campaigns in-process against a plans answered by respx: the JWKS is the real in-process plans' (so the
``tenant`` fixture's tokens verify) and SBUs come from a dict the tests control."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import respx

from services.campaigns.app import MIGRATIONS, create_app
from services.campaigns.settings import CampaignsSettings
from services.plans.context import plans_context
from shared.context import context_of
from shared.migrations import aupgrade_to_head

PLANS_URL = "http://plans"


class FakePlans:
    """Plans as campaigns sees it: the JWKS and ``GET /v1/sbus/{id}`` (404 for another org's SBU)."""

    def __init__(self, jwks: dict[str, Any]):
        self.jwks = jwks
        self.sbus: dict[str, dict[str, Any]] = {}
        self.sbu_calls = 0

    def add_sbu(self, org_id: str, status: str = "active") -> str:
        sbu_id = str(uuid.uuid4())
        self.sbus[sbu_id] = {"id": sbu_id, "org_id": org_id, "plan_id": str(uuid.uuid4()), "status": status}
        return sbu_id

    def _sbu(self, request: httpx.Request, sbu_id: str) -> httpx.Response:
        self.sbu_calls += 1
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        org = jwt.decode(token, options={"verify_signature": False}).get("org")
        sbu = self.sbus.get(sbu_id)
        if sbu is None or sbu["org_id"] != org:
            return httpx.Response(404, json={"status": 404, "title": "Not Found", "detail": "no such sbu"})
        return httpx.Response(200, json=sbu)

    def router(self, *, sbus_down: bool = False) -> respx.MockRouter:
        router = respx.MockRouter(base_url=PLANS_URL, assert_all_called=False)
        router.get("/v1/auth/jwks").mock(return_value=httpx.Response(200, json=self.jwks))
        router.get("/internal/revocations").mock(return_value=httpx.Response(200, json={"revoked": []}))
        sbus = router.get(path__regex=r"^/v1/sbus/(?P<sbu_id>[^/]+)$")
        if sbus_down:
            sbus.mock(side_effect=httpx.ConnectError("plans is down"))
        else:
            sbus.mock(side_effect=self._sbu)
        return router


#: signs the internal events this app consumes (tests/campaigns/test_events.py)
SERVICE_SECRET = "campaigns-test-secret"


@pytest.fixture(scope="session")
def fake_plans(plans_app) -> FakePlans:  # type: ignore[no-untyped-def]
    return FakePlans(plans_context(plans_app).signing_key.jwks())


@pytest.fixture(scope="session")
async def campaigns_db(databases) -> str:  # type: ignore[no-untyped-def]
    url: str = await databases.new("campaigns")
    await aupgrade_to_head(MIGRATIONS, url)
    return url


async def _serve(url: str, data_dir: Path, router: respx.MockRouter) -> AsyncIterator[Any]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    settings = CampaignsSettings(
        environment="test",
        data_dir=data_dir,
        database_url=url,
        plans_url=PLANS_URL,
        run_relay=False,
        subscribe_on_start=False,
        service_secret=SERVICE_SECRET,
    )
    app = create_app(settings, http_client=http)
    async with app.router.lifespan_context(app):
        yield app
    await http.aclose()


@pytest.fixture(scope="session")
async def campaigns_app(campaigns_db: str, data_dir: Path, fake_plans: FakePlans) -> AsyncIterator[Any]:
    """Overrides the root fixture: campaigns on its own database, plans answered by respx."""
    async for app in _serve(campaigns_db, data_dir, fake_plans.router()):
        yield app


@pytest.fixture
async def campaigns_plans_down(
    campaigns_db: str, data_dir: Path, fake_plans: FakePlans
) -> AsyncIterator[httpx.AsyncClient]:
    """The same campaigns database, served by an app whose calls to plans' SBU route fail to connect."""
    async for app in _serve(campaigns_db, data_dir, fake_plans.router(sbus_down=True)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://campaigns") as client:
            yield client


@pytest.fixture
async def session(campaigns_app) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    """A session on campaigns' database for calling service functions directly (committed at the end)."""
    async with context_of(campaigns_app).sessionmaker() as s:
        yield s
        await s.commit()
