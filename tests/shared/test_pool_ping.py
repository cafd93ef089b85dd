"""PostgreSQL connections are pinged before use only after sitting idle (``shared.db.ping_when_idle``): one whose
server side was closed while idle is replaced unseen, and one in steady use costs no extra round trip."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import shared.db
from shared.db import make_engine
from tests.conftest import BACKEND

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(BACKEND != "postgres", reason="the pool's ping is PostgreSQL's; SQLite has no server"),
]


async def _backend_pid(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _kill(url: str, pid: int) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = shared.db.ping

    def counted(dbapi_conn: Any) -> None:
        seen.append(1)
        real(dbapi_conn)

    monkeypatch.setattr(shared.db, "ping", counted)
    return seen


async def test_an_idle_connection_closed_by_the_server_is_replaced(databases: Any, pings: list[int]) -> None:
    url = await databases.new("ping_idle")
    engine = make_engine(url, ping_after_idle=0, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        await _kill(url, first)  # a restart, or a proxy's idle timeout, while the connection sat in the pool
        second = await _backend_pid(engine)
    finally:
        await engine.dispose()
    assert second != first and len(pings) == 1


async def test_without_the_ping_that_connection_would_fail_its_request(databases: Any, pings: list[int]) -> None:
    url = await databases.new("ping_busy")
    engine = make_engine(url, ping_after_idle=3600, pool_size=1, max_overflow=0)
    try:
        pids = [await _backend_pid(engine) for _ in range(5)]
        assert len(set(pids)) == 1 and pings == []  # in steady use: one connection, never pinged
        await _kill(url, pids[0])
        with pytest.raises(DBAPIError):
            await _backend_pid(engine)
        assert await _backend_pid(engine) != pids[0]  # the failure makes the pool replace it
    finally:
        await engine.dispose()
