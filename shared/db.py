"""Database mechanisms: engine, one session per request, declarative base, mixins, tenant scoping, and the
dialect-neutral insert-if-absent / upsert statements with the answer to lock conflicts.

Over 400 lines on purpose: every service's models and sessions use these pieces together (the mixins name
the base's columns, the statements name the mixins), and each is short; split, each part would import the rest."""

from __future__ import annotations

import json
import os
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from shared.context import context_of
from shared.errors import RETRYABLE_SQLSTATES, NotFound, Unavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps none, so it is restored on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; XBM stores timezone-aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ScaledDecimal(TypeDecorator[Decimal]):
    """Exact decimals stored as integers of 10^-scale units (money uses scale 4, like Google Ads' micros
    but coarser): exact on SQLite as on PostgreSQL, and ``SUM`` in SQL stays exact. Read sums back with
    :meth:`from_units`."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 4):
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        units = Decimal(value).scaleb(self.scale)
        if units != units.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(units)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else self.from_units(value)

    def from_units(self, value: int | Decimal | None) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale)


class exact_sum(FunctionElement[Any]):
    """``SUM`` that cannot overflow. PostgreSQL sums BIGINT into NUMERIC already; SQLite's SUM stops with
    "integer overflow" past 2^63 (ten maximal amounts of money in 10^-4 units do it), so there each value is
    split into its high and low parts (÷ 10^9), the parts are summed separately (each sum stays far inside
    64 bits for any row count SQLite can hold) and recombined into a decimal text, read back exactly.
    The result keeps the column's type (a :class:`ScaledDecimal` sum reads back as Decimal)."""

    name = "exact_sum"
    inherit_cache = True

    def __init__(self, expr: ColumnElement[Any] | Any):
        super().__init__(expr)
        self.type = expr.type


@compiles(exact_sum)
def _exact_sum_default(element: exact_sum, compiler: Any, **kw: Any) -> str:
    return f"sum({compiler.process(element.clauses, **kw)})"


@compiles(exact_sum, "sqlite")
def _exact_sum_sqlite(element: exact_sum, compiler: Any, **kw: Any) -> str:
    x, b = compiler.process(element.clauses, **kw), 1_000_000_000
    # S = H·b + L with H = Σ(x / b), L = Σ(x % b) (SQLite divides integers truncating toward zero)
    h1 = f"(sum(({x}) / {b}) + sum(({x}) % {b}) / {b})"
    l1 = f"(sum(({x}) % {b}) % {b})"
    up, down = f"({h1} > 0 AND {l1} < 0)", f"({h1} < 0 AND {l1} > 0)"  # give both parts one sign
    h2, l2 = f"({h1} - {up} + {down})", f"({l1} + {b} * {up} - {b} * {down})"
    return f"(CASE WHEN {h2} = 0 THEN {l2} ELSE {h2} || printf('%09d', abs({l2})) END)"


def new_metadata() -> MetaData:
    """Each service declares its own ``class Base(DeclarativeBase): metadata = new_metadata()``, so the
    services' tables never share a registry even when tests load all three in one process."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


class VersionedMixin:
    """Compare-and-set for a row that answers an ETag: every ORM UPDATE or DELETE of it names the version it
    read in its WHERE clause and bumps it. Of two requests that read the row (and checked ``If-Match``
    against it) before either wrote, the second matches no row: SQLAlchemy raises ``StaleDataError``, answered
    412 when the request carried ``If-Match`` and 409 otherwise (shared/errors.py). A Core ``update()`` of such a
    table bypasses the check, so it bumps ``version`` itself; a class that sets ``__mapper_args__`` of its own must
    name ``version_id_col`` there too."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class OrgMixin:
    """A tenant-owned row; every query on it goes through :func:`scoped` or :func:`get_scoped`."""

    org_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)


M = TypeVar("M")


def scoped(model: type[M], org_id: str) -> Select[M]:
    """``SELECT model WHERE org_id = :org`` — the only way tenant-owned rows are read."""
    return select(model).where(model.org_id == org_id)  # type: ignore[attr-defined]


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return len(value) == 36


async def get_scoped(session: AsyncSession, model: type[M], object_id: str, org_id: str, what: str = "") -> M:
    """Load one tenant-owned object by id; another organisation's object is indistinguishable from none."""
    label = what or getattr(model, "__label__", model.__name__.lower())
    if not is_uuid(object_id):
        raise NotFound(f"{label} {object_id[:64]!r} not found")
    obj = (await session.execute(scoped(model, org_id).where(model.id == object_id))).scalar_one_or_none()  # type: ignore[attr-defined]
    if obj is None:
        raise NotFound(f"{label} {object_id} not found")
    return obj


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


#: a pooled PostgreSQL connection that has been idle longer than this is pinged before it is used again
PING_AFTER_IDLE_SECONDS = 5.0


def _private_file(url: str) -> None:
    """An embedded database is created readable by its owner alone (0600): it holds what the services keep, and
    SQLite gives its journal files the database file's mode."""
    path = make_url(url).database
    if (
        not path
        or path == ":memory:"
        or os.path.exists(path)
        or not os.path.isdir(os.path.dirname(os.path.abspath(path)))
    ):
        return  # a folder that is not there stays an unreachable database (503), as SQLite itself would have it
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def json_text(value: Any) -> str:
    """A JSON column's value as the text stored: through orjson (the documents stored on every ingest are its
    hottest parameters); what orjson does not take (an integer beyond 64 bits) as the standard library writes it.
    Reading stays with the standard library, which keeps such an integer exact."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, ValueError):
        return json.dumps(value)


def make_engine(url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any) -> AsyncEngine:
    kwargs.setdefault("json_serializer", json_text)
    if is_sqlite(url):
        for name in ("pool_size", "max_overflow"):  # one file, one writer: the PostgreSQL pool settings do not apply
            kwargs.pop(name, None)
        _private_file(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA secure_delete=ON")  # what is erased or emptied is overwritten, not left in free pages
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 25)
    kwargs.setdefault("max_overflow", 5)
    engine = create_async_engine(url, **kwargs)
    ping_when_idle(engine, ping_after_idle)
    return engine


def ping(dbapi_conn: Any) -> None:
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()


def ping_when_idle(engine: AsyncEngine, after: float) -> None:
    """Ping a pooled connection before use only when it has sat idle for ``after`` seconds: a restart of the
    database or a proxy's idle timeout may have closed it then, and the pool replaces it unseen. A connection in
    steady use is not pinged, which saves a round trip on every request (``pool_pre_ping`` pings each time). A
    connection that breaks while in use fails its request, and the pool then replaces every connection opened
    before the failure."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < after:
            return
        try:
            ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("the pooled connection was closed while idle") from exc


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


#: where the idempotency middleware hands a request its transaction (``scope["state"]``)
IDEMPOTENT_SESSION = "xbm_idempotent_session"


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request. The request owns the transaction: it commits here, after the endpoint
    returned and before the response is sent; services only flush. Any error rolls everything back. A POST with
    an Idempotency-Key runs in the idempotency middleware's transaction, which commits the route's writes together
    with the answer it records (shared/idempotency.py)."""
    shared = request.scope.get("state", {}).get(IDEMPOTENT_SESSION)
    if shared is not None:
        try:
            yield shared
        except BaseException:
            await shared.rollback()
            raise
        else:
            await shared.flush()
        return
    async with context_of(request.app).sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _single_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """For a route that answers with one SELECT: the statement runs without a transaction around it (one
    statement sees one snapshot anyway), which spares the BEGIN and COMMIT round trips. Nothing is written
    through it; a route that writes, or reads twice, takes :data:`DbSession`."""
    context = context_of(request.app)
    async with context.sessionmaker(bind=single_statement(context.engine)) as session:
        yield session


_AUTOCOMMIT: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def single_statement(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` in autocommit: each statement is its own transaction (made once per engine, sharing its pool)."""
    autocommit = _AUTOCOMMIT.get(engine)
    if autocommit is None:
        autocommit = _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return autocommit


SingleReadSession = Annotated[AsyncSession, Depends(_single_read_session, scope="function")]


# --- insert-if-absent, upsert, lock conflicts ------------------------------------------------------------------
# The unique constraint decides, never a read-then-write; the same statements on PostgreSQL and SQLite.


def _insert_in(dialect: str) -> Any:
    """The ``INSERT`` construct with ``ON CONFLICT`` of the dialect named (PostgreSQL's or SQLite's, spelled alike)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_for(dialect: str, model: Any) -> Any:
    """``INSERT`` on ``model``'s table (Core, no ORM bookkeeping) in the dialect named, with its ``ON CONFLICT``."""
    return _insert_in(dialect)(getattr(model, "__table__", model))


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """``INSERT`` for ``model`` in the session's dialect, with its ``ON CONFLICT`` clauses."""
    return _insert_in(session.get_bind().dialect.name)(model)


async def insert_ignore(session: AsyncSession, model: Any, values: dict[str, Any], keys: list[str]) -> bool:
    """Insert one row unless one with the same ``keys`` exists; True when this call inserted it."""
    stmt = dialect_insert(session, model).values(**values).on_conflict_do_nothing(index_elements=keys)
    primary = sa_inspect(model).primary_key[0]
    result = await session.execute(stmt.returning(primary))
    return result.scalar_one_or_none() is not None


async def upsert(
    session: AsyncSession,
    model: Any,
    values: dict[str, Any],
    keys: list[Any],
    update: Iterable[str],
    *,
    where: Callable[[Any], ColumnElement[bool]] | None = None,
) -> bool:
    """Insert the row, or update the ``update`` columns of the one with the same ``keys`` (only when
    ``where(excluded)`` holds, if given); True when a row was written."""
    stmt = dialect_insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={k: stmt.excluded[k] for k in update},
        where=where(stmt.excluded) if where is not None else None,
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def upsert_and_lock(
    session: AsyncSession, model: Any, values: dict[str, Any], keys: list[str], touched: str
) -> None:
    """Upsert that always writes the row, so it is locked until this transaction ends (serialises arrivals)."""
    stmt = dialect_insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={touched: stmt.excluded[touched]})
    await session.execute(stmt)


def is_lock_conflict(exc: DBAPIError) -> bool:
    """A deadlock, serialization failure or lock timeout on PostgreSQL: the transaction may simply be retried."""
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


@asynccontextmanager
async def lock_conflict_as_unavailable() -> AsyncIterator[None]:
    """A deadlock or serialization failure is not retried here: it rolls the whole request back and answers 503
    with Retry-After, which the client (and an Idempotency-Key) may simply retry."""
    try:
        yield
    except DBAPIError as exc:
        if not is_lock_conflict(exc):
            raise
        raise Unavailable("another request was changing the same orders; retry", retry_after=1) from exc
