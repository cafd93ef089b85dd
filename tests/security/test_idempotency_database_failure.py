"""A database failure at the end of a POST with an Idempotency-Key never runs the request twice: the route's
writes and the answer it records commit together. Killed before that commit, nothing was stored and the retry runs
it once; killed right after it, the retry answers the first result. Either way one record exists.

On PostgreSQL the request's own database connection is terminated (``pg_terminate_backend``) at that point; on
SQLite, which has no server to lose, the commit fails as a lost connection does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import context_of
from tests.conftest import BACKEND, _plain, _server_url
from tests.shared.test_events import toy  # noqa: F401 - the toy service
from tests.shared.toy.service import Toy
from tests.support import Tenant, assert_problem


class Killer:
    """Kills the idempotent request's connection once, before or after its commit."""

    def __init__(self) -> None:
        self.when: str | None = None
        self.killed = 0

    async def kill(self, session: AsyncSession, pid: int | None) -> None:
        self.killed += 1
        if BACKEND != "postgres":
            raise ConnectionResetError("the database connection was lost")
        admin = await asyncpg.connect(_plain(_server_url()))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()


async def _pid(session: AsyncSession) -> int | None:
    if BACKEND != "postgres":
        return None
    return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@pytest.fixture
def killer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Killer]:
    killer = Killer()
    real = AsyncSession.commit

    async def commit(self: AsyncSession) -> None:
        if killer.when is None or "idempotency_key" not in self.info:  # not the request's own transaction
            await real(self)
            return
        when, killer.when = killer.when, None
        pid = await _pid(self)  # the connection the request's transaction runs on
        if when == "before":
            await killer.kill(self, pid)
            await real(self)
        else:
            await real(self)
            if BACKEND == "postgres":
                await killer.kill(self, pid)

    monkeypatch.setattr(AsyncSession, "commit", commit)
    yield killer


async def _toys(app: Any, org_id: str) -> int:
    async with context_of(app).sessionmaker() as session:
        return int((await session.execute(select(func.count()).where(Toy.org_id == org_id))).scalar_one())


async def test_killed_before_the_commit_nothing_is_stored_and_the_retry_runs_once(toy, tenant: Tenant, killer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    app, client, _ = toy
    headers = {**tenant.auth("specialist"), "Idempotency-Key": "kill-before"}
    killer.when = "before"
    r = await client.post("/v1/toys", json={"name": "putter"}, headers=headers)
    assert killer.killed == 1
    assert_problem(r, 503)
    assert r.headers["retry-after"]
    assert await _toys(app, tenant.org_id) == 0
    first = await client.post("/v1/toys", json={"name": "putter"}, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/v1/toys", json={"name": "putter"}, headers=headers)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await _toys(app, tenant.org_id) == 1


async def test_killed_after_the_commit_the_retry_answers_the_first_result(toy, tenant: Tenant, killer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    app, client, _ = toy
    headers = {**tenant.auth("specialist"), "Idempotency-Key": "kill-after"}
    killer.when = "after"
    first = await client.post("/v1/toys", json={"name": "putter"}, headers=headers)
    assert first.status_code == 201, first.text
    # the client never saw that answer: it retries (as told, while the service answers 503: the pool may hand
    # the retry the dead connection first), and gets the first result
    for _ in range(3):
        retry = await client.post("/v1/toys", json={"name": "putter"}, headers=headers)
        if retry.status_code != 503:
            break
        assert retry.headers["retry-after"]
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert await _toys(app, tenant.org_id) == 1
