"""Fixtures: the three apps in-process (ASGI), each on its own freshly migrated database.

The database is SQLite by default; with ``XBM_TEST_BACKEND=postgres`` and ``XBM_TEST_DATABASE_URL`` (a server
URL) every service gets a new PostgreSQL database for the session, dropped at the end. Tests isolate
themselves by creating their own organisations, as real tenants are isolated.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest

from services.campaigns.app import MIGRATIONS as CAMPAIGNS_MIGRATIONS
from services.campaigns.app import create_app as create_campaigns
from services.campaigns.settings import CampaignsSettings
from services.compliance.app import MIGRATIONS as COMPLIANCE_MIGRATIONS
from services.compliance.app import create_app as create_compliance
from services.compliance.settings import ComplianceSettings
from services.plans.app import MIGRATIONS as PLANS_MIGRATIONS
from services.plans.app import create_app as create_plans
from services.plans.settings import PlansSettings
from shared.migrations import aupgrade_to_head
from tests.support import BOOTSTRAP_TOKEN, SERVICE_SECRET, Tenant, make_tenant

# Property tests replay a fixed set of cases in `make test` (so CI is reproducible); `make fuzz` explores new
# ones each run (XBM_HYPOTHESIS_PROFILE=explore), and a failure it finds is pinned with @example.
hypothesis.settings.register_profile("replay", derandomize=True, database=None)
hypothesis.settings.register_profile("explore", derandomize=False)
hypothesis.settings.load_profile(os.environ.get("XBM_HYPOTHESIS_PROFILE", "replay"))

BACKEND = os.environ.get("XBM_TEST_BACKEND", "sqlite")
APP_FIXTURES = {"plans_app", "campaigns_app", "compliance_app", "db_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Any test that reaches a service app touches a database: mark it so it runs again on PostgreSQL. Any test
    that needs Chromium (it carries the skip-if-no-Chromium mark) is a ``browser`` test, left out of
    ``make test-fast``."""
    for item in items:
        if APP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if any(
            mark.name == "skipif" and "Chromium" in str(mark.kwargs.get("reason", "")) for mark in item.iter_markers()
        ):
            item.add_marker(pytest.mark.browser)


def _server_url() -> str:
    url = os.environ.get("XBM_TEST_DATABASE_URL")
    if not url:
        pytest.exit("XBM_TEST_BACKEND=postgres needs XBM_TEST_DATABASE_URL (a PostgreSQL server URL)", 2)
    return url


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class Databases:
    """Creates one database per service for the session (and throw-away ones on request)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.created: list[str] = []
        self.run_id = uuid.uuid4().hex[:8]

    async def new(self, name: str) -> str:
        if BACKEND != "postgres":
            return f"sqlite+aiosqlite:///{self.tmp / f'{name}-{uuid.uuid4().hex[:6]}.db'}"
        import asyncpg

        server = _server_url()
        db = f"xbm_test_{self.run_id}_{name}_{uuid.uuid4().hex[:6]}"
        conn = await asyncpg.connect(_plain(server))
        try:
            await conn.execute(f'CREATE DATABASE "{db}"')
        finally:
            await conn.close()
        self.created.append(db)
        base, _, _ = server.rpartition("/")
        return f"{base}/{db}"

    async def drop_all(self) -> None:
        if not self.created:
            return
        import asyncpg

        conn = await asyncpg.connect(_plain(_server_url()))
        try:
            for db in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    await dbs.drop_all()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


async def _migrated(databases: Databases, name: str, migrations: Path) -> str:
    url = await databases.new(name)
    await aupgrade_to_head(migrations, url)
    return url


@pytest.fixture(scope="session")
async def plans_app(databases: Databases, data_dir: Path) -> AsyncIterator:
    url = await _migrated(databases, "plans", PLANS_MIGRATIONS)
    settings = PlansSettings(
        environment="test",
        data_dir=data_dir,
        database_url=url,
        db_pool_size=10,
        db_max_overflow=20,
        bootstrap_token=BOOTSTRAP_TOKEN,
        run_relay=False,
        service_secret=SERVICE_SECRET,
        # every test client comes from one address and the fuzzers guess keys by the thousand; the limits
        # themselves are proven with their defaults in tests/security/test_hardening_limits.py
        auth_failures_per_address="1000000/minute",
        auth_failures_per_key="1000000/minute",
    )
    # the session's three apps share one PostgreSQL server (100 connections) with the tests' own engines and
    # processes: each keeps fewer idle connections than a service's default (db_pool_size)
    app = create_plans(settings)
    async with app.router.lifespan_context(app):
        yield app


def asgi_client(app, base_url: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture(scope="session")
async def plans_over_asgi(plans_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """What the other services use to reach plans in-process (JWKS, SBU look-ups)."""
    async with asgi_client(plans_app, "http://plans") as client:
        yield client


@pytest.fixture(scope="session")
async def campaigns_app(databases: Databases, data_dir: Path, plans_over_asgi: httpx.AsyncClient) -> AsyncIterator:
    url = await _migrated(databases, "campaigns", CAMPAIGNS_MIGRATIONS)
    settings = CampaignsSettings(
        environment="test",
        data_dir=data_dir,
        database_url=url,
        db_pool_size=10,
        db_max_overflow=20,
        plans_url="http://plans",
        run_relay=False,
        service_secret=SERVICE_SECRET,
        subscribe_on_start=False,
    )
    app = create_campaigns(settings, http_client=plans_over_asgi)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def compliance_app(databases: Databases, data_dir: Path, plans_over_asgi: httpx.AsyncClient) -> AsyncIterator:
    url = await _migrated(databases, "compliance", COMPLIANCE_MIGRATIONS)
    settings = ComplianceSettings(
        environment="test",
        data_dir=data_dir,
        database_url=url,
        db_pool_size=10,
        db_max_overflow=20,
        plans_url="http://plans",
        run_relay=False,
        service_secret=SERVICE_SECRET,
    )
    app = create_compliance(settings, http_client=plans_over_asgi)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def plans(plans_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with asgi_client(plans_app, "http://plans") as client:
        yield client


@pytest.fixture
async def campaigns(campaigns_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with asgi_client(campaigns_app, "http://campaigns") as client:
        yield client


@pytest.fixture
async def compliance(compliance_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with asgi_client(compliance_app, "http://compliance") as client:
        yield client


@pytest.fixture
def apps(plans_app: Any, campaigns_app: Any, compliance_app: Any) -> dict[str, Any]:
    """The three in-process apps by service name (for suites that walk every service)."""
    return {"plans": plans_app, "campaigns": campaigns_app, "compliance": compliance_app}


@pytest.fixture
def clients(
    plans: httpx.AsyncClient, campaigns: httpx.AsyncClient, compliance: httpx.AsyncClient
) -> dict[str, httpx.AsyncClient]:
    """A client of each in-process app by service name."""
    return {"plans": plans, "campaigns": campaigns, "compliance": compliance}


@pytest.fixture
async def tenant(plans: httpx.AsyncClient) -> Tenant:
    return await make_tenant(plans)


@pytest.fixture
async def other_tenant(plans: httpx.AsyncClient) -> Tenant:
    return await make_tenant(plans)


@pytest.fixture
async def db_url(databases: Databases) -> str:
    """A fresh, empty database (for migration and readiness tests)."""
    return await databases.new("scratch")
