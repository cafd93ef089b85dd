"""Insert-if-absent and upsert on both backends (the unique constraint decides, never a read-then-write), and
PostgreSQL's transient lock failures answered as "retry" rather than a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Unavailable

#: deadlock_detected, serialization_failure, lock_not_available
TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}


def _insert(session: AsyncSession, model: Any) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    return insert(model)


async def insert_new(session: AsyncSession, model: Any, values: dict[str, Any], keys: list[str]) -> bool:
    """Insert one row unless one with the same ``keys`` exists; True when this call inserted it."""
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=keys)
    result = await session.execute(stmt.returning(model.id))
    return result.scalar_one_or_none() is not None


async def touch(session: AsyncSession, model: Any, values: dict[str, Any], keys: list[str], touched: str) -> None:
    """Upsert that always writes the row, so it is locked until this transaction ends (serialises arrivals)."""
    stmt = _insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={touched: stmt.excluded[touched]})
    await session.execute(stmt)


def is_transient(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


@asynccontextmanager
async def retry_on_lock_conflict() -> AsyncIterator[None]:
    """A deadlock or serialization failure rolls the whole request back: 503 with Retry-After, which the client
    (and an Idempotency-Key) may simply retry."""
    try:
        yield
    except DBAPIError as exc:
        if not is_transient(exc):
            raise
        raise Unavailable("another request was changing the same orders; retry", retry_after=1) from exc
