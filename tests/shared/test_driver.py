"""Hot statements on the driver (``shared.driver.DriverStatement``): on PostgreSQL they run on asyncpg itself, and
must still behave as the same statement through SQLAlchemy — values through their declared types both ways, inside
the session's transaction (a lock taken is held until commit; a rollback undoes a write), a refused statement
raising SQLAlchemy's error of its kind, counted by the engine's statement listeners. On SQLite the statement runs
through SQLAlchemy, answering the same."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import JSON, Boolean, Column, MetaData, String, Table, bindparam, event, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import ScaledDecimal, UTCDateTime, insert_for, json_text, make_engine, make_sessionmaker, new_id
from shared.driver import DriverStatement
from tests.conftest import BACKEND

pytestmark = pytest.mark.db

META = MetaData()
ITEMS = Table(
    "driver_items",
    META,
    Column("id", String(36), primary_key=True),
    Column("label", String(40), nullable=False, unique=True),
    Column("amount", ScaledDecimal(), nullable=False),
    Column("document", JSON, nullable=False),
    Column("at", UTCDateTime(timezone=True), nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("note", String(40), nullable=True),  # no default: written only when given
)
RETURNED = (ITEMS.c.id, ITEMS.c.amount, ITEMS.c.document, ITEMS.c.at, ITEMS.c.flagged)
#: the store: insert unless the label is taken, answering the row as stored
STORE = DriverStatement(
    "driver_items_store",
    lambda dialect: insert_for(dialect, ITEMS).on_conflict_do_nothing(index_elements=["label"]).returning(*RETURNED),
)
#: a plain insert: a second one with the same label is refused by the unique constraint
INSERT = DriverStatement("driver_items_insert", ITEMS.insert())
READ = DriverStatement("driver_items_read", select(*RETURNED).where(ITEMS.c.label == bindparam("label")))


@pytest.fixture
async def engine(databases: Any) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(await databases.new("driver"), pool_size=2, max_overflow=0)
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
    yield engine
    await engine.dispose()


def _item(label: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "label": label,
        "amount": Decimal("1234.5678"),
        "document": {"name": "Golf kit", "lines": [{"sku": "KIT-1", "qty": 2}], "note": None},
        "at": datetime(2026, 12, 8, 1, 2, 3, 456000, tzinfo=UTC),
    }


async def test_values_pass_through_their_declared_types_both_ways(engine: AsyncEngine) -> None:
    item = _item("kit")
    async with make_sessionmaker(engine)() as session:
        stored = await STORE.first(session, item)
        again = await STORE.first(session, {**item, "id": new_id()})  # the label is taken: nothing stored
        read = await READ.first(session, {"label": "kit"})
        await session.commit()
    expected = (item["id"], item["amount"], item["document"], item["at"], False)  # the column's default applied
    assert stored == read == expected and again is None
    async with engine.connect() as conn:  # as SQLAlchemy itself reads it back
        assert tuple((await conn.execute(select(*RETURNED))).one()) == expected


async def test_it_runs_in_the_sessions_transaction(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        await STORE.first(session, _item("undone"))
        await session.rollback()
    async with sessions() as session:
        assert await READ.first(session, {"label": "undone"}) is None
    if BACKEND != "postgres":
        return
    # the row written on the driver stays locked until the session ends: another writer of the label waits
    url = engine.url.render_as_string(hide_password=False).replace("postgresql+asyncpg://", "postgresql://", 1)
    other = await asyncpg.connect(url)
    try:
        async with sessions() as session:
            await STORE.first(session, _item("held"))
            await other.execute("SET lock_timeout = '300ms'")
            with pytest.raises(asyncpg.exceptions.LockNotAvailableError):
                await other.execute(
                    "INSERT INTO driver_items (id, label, amount, document, at, flagged) "
                    "VALUES ($1, 'held', 1, '{}', now(), false) ON CONFLICT (label) DO NOTHING",
                    new_id(),
                )
            await session.commit()
        assert await other.fetchval("SELECT count(*) FROM driver_items WHERE label = 'held'") == 1
    finally:
        await other.close()


async def test_a_refused_statement_is_sqlalchemys_error_and_keeps_its_connection(engine: AsyncEngine) -> None:
    invalidated: list[Any] = []
    event.listen(engine.sync_engine, "invalidate", lambda *args: invalidated.append(args))
    async with make_sessionmaker(engine)() as session:
        await INSERT.first(session, _item("twice"))
        await session.commit()
        with pytest.raises(IntegrityError) as refused:
            await INSERT.first(session, _item("twice"))
        await session.rollback()
        assert await READ.first(session, {"label": "twice"}) is not None  # the same pool, still usable
    assert "driver_items" in str(refused.value.statement) and not refused.value.connection_invalidated
    assert invalidated == []


async def test_the_engines_statement_listeners_see_it(engine: AsyncEngine) -> None:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    async with make_sessionmaker(engine)() as session:
        await STORE.first(session, _item("counted"))
        await READ.first(session, {"label": "counted"})
        await session.commit()
    assert [s.split()[0] for s in seen] == ["INSERT", "SELECT"]


async def test_postgresql_prepares_it_once_per_connection(engine: AsyncEngine) -> None:
    if BACKEND != "postgres":
        pytest.skip("the driver path is PostgreSQL's")
    async with make_sessionmaker(engine)() as session:
        await READ.first(session, {"label": "none"})
        raw = await (await session.connection()).get_raw_connection()
        prepared = raw.info[READ.key]
        await READ.first(session, {"label": "none"})
        assert raw.info[READ.key] is prepared


async def test_concurrent_stores_of_one_label_store_it_once(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)

    async def store() -> tuple[Any, ...] | None:
        async with sessions() as session:
            row = await STORE.first(session, _item("raced"))
            await session.commit()
            return row

    rows = await asyncio.gather(store(), store())
    assert sum(row is not None for row in rows) == 1


def test_what_cannot_be_prepared_once_is_refused_when_built() -> None:
    computed = Table("computed", MetaData(), Column("id", String(36), primary_key=True, default=new_id))
    with pytest.raises(TypeError, match="give id"):
        DriverStatement("computed", computed.insert()).compiled(asyncpg_dialect(), frozenset())
    expanding = select(ITEMS.c.id).where(ITEMS.c.label.in_(bindparam("labels", expanding=True)))
    with pytest.raises(TypeError, match="expanding"):
        DriverStatement("expanding", expanding).compiled(asyncpg_dialect(), frozenset({"labels"}))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_a_json_columns_text_reads_back_as_its_value(value: Any) -> None:
    """What a JSON column stores (orjson, or the standard library beyond 64-bit integers) reads back equal."""
    assert json.loads(json_text(value)) == value


async def test_json_beyond_orjson_is_stored_exactly(engine: AsyncEngine) -> None:
    item = {**_item("wide"), "document": {"id": 2**80, "name": "高尔夫", "nested": {"n": -(2**70)}}}
    async with make_sessionmaker(engine)() as session:
        stored = await STORE.first(session, item)
        await session.commit()
    assert stored is not None and stored[2] == item["document"]


async def test_an_insert_given_other_columns_is_prepared_apart(engine: AsyncEngine) -> None:
    """The same INSERT given a column more is another statement: each form is prepared and kept on its own, on
    one connection."""
    async with make_sessionmaker(engine)() as session:
        await STORE.first(session, _item("plain"))
        await STORE.first(session, {**_item("noted"), "note": "fragile"})
        await STORE.first(session, _item("plain again"))
        await session.commit()
    async with engine.connect() as conn:
        notes = {label: note for label, note in (await conn.execute(select(ITEMS.c.label, ITEMS.c.note))).all()}
    assert notes == {"plain": None, "noted": "fragile", "plain again": None}
