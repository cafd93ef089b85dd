"""Hot statements on the database driver itself.

A request's few hot statements (the SBU read, the ingest's order-number lock and its store) spend more in
SQLAlchemy's execution machinery (execution context, parameter processing, cursor and result objects, the
greenlet hop) than in the database. A :class:`DriverStatement` keeps the statement SQLAlchemy built, compiled
once per dialect and set of parameters, and on PostgreSQL runs it on the asyncpg connection under SQLAlchemy's
pooled connection, prepared once per connection (kept in that connection's ``info``, which goes with it when the
pool replaces it):

- its parameters pass through their declared types' bind processing (a sealed document is sealed, an amount
  scaled, JSON encoded), and the columns it returns through their result processing: the values SQLAlchemy would
  send and give;
- it runs in the session's transaction: when the session has not yet begun one on the connection, it is begun
  first (as SQLAlchemy's own cursor does), so a lock taken here is held until the session commits or rolls back;
  an autocommit session (:data:`shared.db.SingleReadSession`) has none;
- the engine's ``before_cursor_execute`` listeners see the statement (the query budgets count it);
- a failure is the ``DBAPIError`` SQLAlchemy would raise (an ``IntegrityError`` for a constraint), and a lost
  connection is invalidated, so the pool opens another and the client is told to retry.

Elsewhere (SQLite: the tests' default backend) the same statement runs through SQLAlchemy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement

from shared.errors import UNREACHABLE_SQLSTATES

#: the one driver statements are run on directly
DRIVER = "asyncpg"

Processor = Callable[[Any], Any] | None
_ABSENT = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: where a connection keeps this form's prepared statement (the statement's key; a further form's numbered)
    key: str
    #: each positional parameter: its name, the value it takes when the caller gives none (a constant in the
    #: statement, a column's scalar default), and its type's bind processor
    params: tuple[tuple[str, Any, Processor], ...]
    #: each returned column's result processor
    results: tuple[Processor, ...]


class DriverStatement:
    """``statement`` (with named bind parameters; an INSERT takes its columns from the parameters given, as
    ``session.execute(statement, params)`` does), or the function that builds it for a dialect's name (an
    ``INSERT … ON CONFLICT`` is spelled in each dialect's own construct), run on the driver; :meth:`first` gives
    its first row's values."""

    def __init__(self, name: str, statement: ClauseElement | Callable[[str], ClauseElement]) -> None:
        self._build = statement if callable(statement) else lambda _dialect: statement
        self._statements: dict[str, Any] = {}
        #: where a connection keeps its prepared statement
        self.key = f"xbm_prepared_{name}"
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def statement(self, dialect: str) -> Any:
        """The statement in the dialect named, built once."""
        found = self._statements.get(dialect)
        if found is None:
            found = self._statements[dialect] = self._build(dialect)
        return found

    def compiled(self, dialect: Dialect, names: frozenset[str]) -> _Compiled:
        found = self._compiled.get((dialect.name, names))
        if found is None:
            found = self._compiled[(dialect.name, names)] = self._compile(dialect, names)
        return found

    def _compile(self, dialect: Dialect, names: frozenset[str]) -> _Compiled:
        statement = self.statement(dialect.name)
        compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(names))
        defaults = {}
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            if column.key in names:
                continue
            if column.default is None or not column.default.is_scalar:
                raise TypeError(f"{self.key}: give {column.key} (its default is computed in Python)")
            defaults[column.key] = column.default.arg
        params = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.expanding:
                raise TypeError(f"{self.key}: an expanding parameter ({name}) cannot be prepared once")
            value = defaults.get(name, _ABSENT if bind.required else bind.effective_value)
            params.append((name, value, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        columns = getattr(statement, "exported_columns", ())
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        number = len(self._compiled)
        key = self.key if not number else f"{self.key}_{number}"
        return _Compiled(str(compiled), key, tuple(params), results)

    def _args(self, compiled: _Compiled, params: Mapping[str, Any]) -> tuple[Any, ...]:
        args = []
        for name, default, process in compiled.params:
            value = params.get(name, default)
            if value is _ABSENT:
                raise TypeError(f"{self.key}: no value for the parameter {name}")
            args.append(value if process is None or value is None else process(value))
        return tuple(args)

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        conn = await session.connection()
        if conn.dialect.driver != DRIVER:
            result = await conn.execute(self.statement(conn.dialect.name), dict(params))
            row = result.first() if result.returns_rows else None
            return None if row is None else tuple(row)
        compiled = self.compiled(conn.dialect, frozenset(params))
        args = self._args(compiled, params)
        sync = conn.sync_connection
        if sync is not None and sync.dispatch.before_cursor_execute:  # a statement counter, a tracer: no cursor
            sync.dispatch.before_cursor_execute(sync, None, compiled.sql, args, None, False)
        raw = await conn.get_raw_connection()
        adapted: Any = raw.dbapi_connection
        driver = raw.driver_connection
        assert adapted is not None and driver is not None  # a connection checked out of the pool
        try:
            if adapted._transaction is None:  # begun as SQLAlchemy's cursor begins it (none in autocommit)
                await adapted._start_transaction()
            prepared = raw.info.get(compiled.key)
            if prepared is None:
                prepared = raw.info[compiled.key] = await driver.prepare(compiled.sql)
            record = await prepared.fetchrow(*args)
        except Exception as exc:
            raw.info.pop(compiled.key, None)
            raise await _translated(conn, adapted, compiled.sql, args, exc) from exc
        if record is None:
            return None
        return tuple(
            value if p is None or value is None else p(value) for value, p in zip(record, compiled.results, strict=True)
        )


async def _translated(
    conn: AsyncConnection, adapted: Any, sql: str, args: tuple[Any, ...], exc: Exception
) -> DBAPIError:
    """``exc`` as SQLAlchemy raises it from a cursor: the driver's error as the DB-API error of its kind, wrapped
    in the matching ``DBAPIError`` subclass (``adapted``, SQLAlchemy's adapter of the connection, translates it);
    a connection that ended is invalidated first."""
    original: Exception = exc.__cause__ if isinstance(exc.__cause__, asyncpg.PostgresError) else exc
    # the server refused the statement: the connection is sound, unless the refusal is that it ended
    lost = not isinstance(original, asyncpg.PostgresError) or original.sqlstate in UNREACHABLE_SQLSTATES
    dbapi = conn.dialect.loaded_dbapi
    error: Any = exc
    if not isinstance(exc, dbapi.Error):
        try:
            adapted._handle_exception(exc)
        except dbapi.Error as translated:
            error = translated
        except Exception:  # not a driver error: wrapped as it is
            pass
    if lost:
        await conn.invalidate(original)
    if isinstance(error, dbapi.Error):
        wrapped = DBAPIError.instance(sql, args, error, dbapi.Error, connection_invalidated=lost, dialect=conn.dialect)
        if isinstance(wrapped, DBAPIError):
            return wrapped
    return DBAPIError(sql, args, exc, connection_invalidated=lost)
