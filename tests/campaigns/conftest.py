"""Campaigns in-process against plans' test double (services/plans/client_fake.py): the JWKS is the real
in-process plans' (so the ``tenant`` fixture's tokens verify) and SBUs come from a dict the tests control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.campaigns.app import MIGRATIONS, create_app
from services.campaigns.settings import CampaignsSettings
from services.plans.client_fake import FakePlans
from services.plans.context import plans_context
from shared.context import context_of
from shared.migrations import aupgrade_to_head

PLANS_URL = "http://plans"


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


async def _serve(url: str, data_dir: Path, transport: httpx.MockTransport) -> AsyncIterator[Any]:
    http = httpx.AsyncClient(transport=transport)
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
    """Overrides the root fixture: campaigns on its own database, plans answered by its test double."""
    async for app in _serve(campaigns_db, data_dir, fake_plans.transport()):
        yield app


@pytest.fixture
async def campaigns_plans_down(
    campaigns_db: str, data_dir: Path, fake_plans: FakePlans
) -> AsyncIterator[httpx.AsyncClient]:
    """The same campaigns database, served by an app whose calls to plans' SBU route fail to connect."""
    async for app in _serve(campaigns_db, data_dir, fake_plans.transport(sbus_down=True)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://campaigns") as client:
            yield client


@pytest.fixture
async def session(campaigns_app) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    """A session on campaigns' database for calling service functions directly (committed at the end)."""
    async with context_of(campaigns_app).sessionmaker() as s:
        yield s
        await s.commit()
