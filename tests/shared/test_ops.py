"""Ops endpoints, request ids, metrics, error bodies and input guards, on every service."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
from sqlalchemy import text

from services.compliance.pii import KEY_FILE, Pii
from services.plans.app import MIGRATIONS as PLANS_MIGRATIONS
from services.plans.app import create_app as create_plans
from services.plans.settings import PlansSettings
from shared.db import make_engine
from shared.migrations import aupgrade_to_head
from tests.conftest import asgi_client
from tests.support import assert_problem


async def test_ops_endpoints_answer(clients: dict[str, httpx.AsyncClient]) -> None:
    for name, client in clients.items():
        health = (await client.get("/healthz")).json()
        assert health["status"] == "ok" and len(health["instance"]) >= 16, name
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready", name
        spec = (await client.get("/openapi.json")).json()
        assert spec["info"]["title"] == f"XBM {name}"
        await client.get("/healthz")
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        sample = f'xbm_http_requests_total{{method="GET",route="/healthz",service="{name}",status="200"}}'
        assert sample in metrics.text
        assert "xbm_http_request_duration_seconds_bucket" in metrics.text


async def test_request_id_is_kept_or_made(clients: dict[str, httpx.AsyncClient]) -> None:
    for client in clients.values():
        given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert given.headers["x-request-id"] == "abc-123"
        made = await client.get("/healthz")
        assert len(made.headers["x-request-id"]) == 32
        hostile = await client.get("/healthz", headers={"X-Request-ID": "a b\tc" * 100})
        assert hostile.headers["x-request-id"] != "a b\tc" * 100


async def test_client_errors_are_problem_json(clients: dict[str, httpx.AsyncClient]) -> None:
    for client in clients.values():
        assert_problem(await client.get("/v1/no-such-route"), 404)
        assert_problem(await client.delete("/healthz"), 405)
        assert_problem(await client.get("/v1/x%00y"), 400)
        big = await client.post("/v1/anything", content=b"x" * 1_100_000, headers={"content-type": "application/json"})
        assert_problem(big, 413)


async def test_malformed_json_is_422(plans: httpx.AsyncClient) -> None:
    response = await plans.post("/v1/auth/token", content=b"{not json", headers={"content-type": "application/json"})
    assert_problem(response, 422)


async def test_readyz_refuses_until_the_schema_is_at_head(db_url: str, tmp_path: Path) -> None:
    settings = PlansSettings(environment="test", data_dir=tmp_path, database_url=db_url, bootstrap_token="t")
    app = create_plans(settings)
    async with app.router.lifespan_context(app), asgi_client(app, "http://plans") as client:
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["schema_revision"] is None
        await aupgrade_to_head(PLANS_MIGRATIONS, db_url)
        assert (await client.get("/readyz")).status_code == 200
        engine = make_engine(db_url)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'stale'"))
        await engine.dispose()
        assert (await client.get("/readyz")).status_code == 503


async def test_the_embedded_database_and_the_pii_key_are_readable_by_their_owner_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data").mkdir()
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'compliance.db'}")
    async with engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    await engine.dispose()
    Pii.from_setting(None, tmp_path / "data")
    for name in ("compliance.db", KEY_FILE):
        mode = stat.S_IMODE((tmp_path / "data" / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
