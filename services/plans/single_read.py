"""A hot read of one row on the database driver itself. On PostgreSQL the statement SQLAlchemy built is compiled
once, prepared on the asyncpg connection under SQLAlchemy's pooled connection once per connection (kept in that
connection's ``info``, which goes with it when the pool replaces it), and its values pass through the declared
column types' own result processing: the values SQLAlchemy would give, without its execution and result machinery
around one short statement. Elsewhere (SQLite: the tests' default backend) the same statement runs through
SQLAlchemy. On both, the engine's ``before_cursor_execute`` listeners see the statement (the query budgets count
it), and a failure is SQLAlchemy's ``DBAPIError`` (a lost connection is invalidated and answered 503)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from shared.errors import UNREACHABLE_SQLSTATES

#: the one driver the statement is run on directly
DRIVER = "asyncpg"

Processor = Callable[[Any], Any] | None


class SingleRead:
    """``statement`` (a SELECT of at most one row, with named bind parameters) read as a tuple of its columns'
    values, as SQLAlchemy would process them."""

    def __init__(self, name: str, statement: Select[Any]) -> None:
        self.statement = statement
        #: where a connection keeps its prepared statement
        self.key = f"xbm_prepared_{name}"
        self._compiled: dict[str, tuple[str, tuple[str, ...], tuple[Processor, ...]]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], tuple[Processor, ...]]:
        """The SQL text for ``dialect``, its parameters' names in order, and each column's result processor
        (from its declared type: a stored amount's units become a decimal, a time its UTC datetime)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            processors = tuple(c.type.result_processor(dialect, None) for c in self.statement.selected_columns)
            found = self._compiled[dialect.name] = (str(compiled), tuple(compiled.positiontup or ()), processors)
        return found

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        conn = await session.connection()
        if conn.dialect.driver != DRIVER:
            row = (await conn.execute(self.statement, dict(params))).first()
            return None if row is None else tuple(row)
        sql, names, processors = self.compiled(conn.dialect)
        args = tuple(params[name] for name in names)
        sync = conn.sync_connection
        if sync is not None and sync.dispatch.before_cursor_execute:  # a statement counter, a tracer: no cursor
            sync.dispatch.before_cursor_execute(sync, None, sql, args, None, False)
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None  # a connection checked out of the pool
        try:
            prepared = raw.info.get(self.key)
            if prepared is None:
                prepared = raw.info[self.key] = await driver.prepare(sql)
            record = await prepared.fetchrow(*args)
        except Exception as exc:
            raw.info.pop(self.key, None)
            # the server refused the statement: the connection is sound, unless the refusal is that it ended
            lost = not isinstance(exc, asyncpg.PostgresError) or exc.sqlstate in UNREACHABLE_SQLSTATES
            if lost:
                await conn.invalidate(exc)
            raise DBAPIError(sql, args, exc, connection_invalidated=lost) from exc
        if record is None:
            return None
        return tuple(
            value if p is None or value is None else p(value) for value, p in zip(record, processors, strict=True)
        )
