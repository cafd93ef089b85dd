"""Insert-if-absent on both backends: the unique constraint decides, never a read-then-write."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


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
