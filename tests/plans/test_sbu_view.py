"""An SBU's view is read in one form (services/plans/sbus/labels.py): its columns and its shape derived from
``SbuView`` and the SBU's table, the single read run on the driver itself on PostgreSQL (one prepared statement
per connection) and through SQLAlchemy on SQLite. Pinned here: the derivation covers every field of the view and
refuses a field it cannot read; for many varied SBUs — names in any script, quotes and control characters,
amounts from nothing to the largest, times to the microsecond, retired or derived — `GET /v1/sbus/{id}` answers
exactly ``SbuView`` of the stored objects, dumped as the declared model dumps it, with the ETag of its ``SbuOut``;
and a list of them answers the same views."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import event, select, update

from services.plans.sbus import labels
from services.plans.sbus.labels import ONE, PLACES, get_view, shape
from services.plans.sbus.models import Sbu
from services.plans.sbus.schemas import ChannelRef, ProductRef, Ref, SbuOut, SbuView
from services.plans.tactics.models import Channel, Customer, Product
from shared.context import context_of
from shared.etag import etag_of
from tests.conftest import BACKEND
from tests.plans.support import new_plan
from tests.support import Tenant, assert_problem

SBU_TABLE = Sbu.__table__  # type: ignore[attr-defined]


def test_every_field_of_the_view_is_read() -> None:
    assert [name for name, _ in PLACES] == list(SbuView.model_fields)
    for name, place in PLACES:
        nested = SbuView.model_fields[name].annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            assert isinstance(place, tuple) and [sub for sub, _ in place] == list(nested.model_fields), name
        else:
            assert isinstance(place, int) and labels.COLUMNS[place] is SBU_TABLE.c[name], name


def test_a_new_field_is_read_from_its_declaration_alone() -> None:
    """A field named after a column of the SBU (or of what it refers to) is read without more code; one that is
    neither refuses to load rather than answering without it."""

    class WithVersion(SbuView):
        version: int
        plan: Ref

    columns, joins, places = shape(WithVersion, SBU_TABLE)
    where = dict(places)
    assert columns[where["version"]] is SBU_TABLE.c.version  # type: ignore[index]
    assert [c.name for c in (columns[i] for _, i in where["plan"])] == ["plan_id", "plan_name"]  # type: ignore[union-attr]
    assert [table.name for table, _ in joins] == ["customers", "channels", "products", "plans"]

    class WithUnknown(SbuView):
        colour: str

    with pytest.raises(TypeError, match="colour"):
        shape(WithUnknown, SBU_TABLE)


SCRIPTS = ['Käufer "Nord" 北', "天猫 \\ store", "Shop\ttwo", "ø'; DROP TABLE sbus; --", "😀 emoji", "a", "\u202eRTL"]
AMOUNTS = ["0", "0.0001", "0.5", "1", "1999.9", "1234567.8912", "99999999999999.9999"]


def _text(rng: random.Random, size: int = 30) -> str:
    alphabet = "abcXYZ 0123\"'\\\n\t\r/<>&é北京😀\u00a0\u2028"
    return rng.choice(SCRIPTS) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, size)))


async def _store_varied(app: Any, org_id: str, plan_id: str, count: int) -> list[str]:
    """``count`` SBUs with varied names, figures, times and states, written straight into the tables."""
    rng = random.Random(20270301)
    t0 = datetime(2027, 3, 1, 12, tzinfo=UTC)
    ids: list[str] = []
    async with context_of(app).sessionmaker() as session:
        for i in range(count):
            parts = (
                Customer(org_id=org_id, plan_id=plan_id, name=_text(rng)[:200], needs=[]),
                Channel(
                    org_id=org_id,
                    plan_id=plan_id,
                    name=_text(rng)[:200],
                    platform=rng.choice(["amazon", "tmall_global", "shopify"]),
                    mode="platform",
                    business_model=rng.choice(["B2B", "B2C", "C2C"]),
                    countries=["US"],
                ),
                Product(
                    org_id=org_id,
                    plan_id=plan_id,
                    sku=f"SKU-{i}-{_text(rng, 8)}"[:64],
                    name=_text(rng)[:200],
                    unit_cost_amount=Decimal(1),
                    unit_cost_currency="USD",
                    price_amount=Decimal(2),
                    price_currency="USD",
                ),
            )
            session.add_all(parts)
            await session.flush()
            retired = rng.random() < 0.4
            sbu = Sbu(
                org_id=org_id,
                plan_id=plan_id,
                customer_id=parts[0].id,
                channel_id=parts[1].id,
                product_id=parts[2].id,
                need=_text(rng, 400),
                demand=rng.choice(["strong", "weak", "pseudo"]),
                budget_amount=Decimal(rng.choice(AMOUNTS)),
                budget_currency=rng.choice(["USD", "CNY", "EUR"]),
                revenue_target_amount=Decimal(rng.choice(AMOUNTS)),
                revenue_target_currency=rng.choice(["USD", "JPY"]),
                owner=_text(rng)[:200],
                status="retired" if retired else rng.choice(["draft", "active"]),
                derived_from=ids[-1] if ids and rng.random() < 0.5 else None,
                retired_reason=_text(rng) if retired else None,
                retired_at=t0 + timedelta(microseconds=rng.randint(0, 10**12)) if retired else None,
                created_at=t0 - timedelta(microseconds=rng.randint(0, 10**12)),
            )
            session.add(sbu)
            await session.flush()
            ids.append(sbu.id)
        await session.commit()
    return ids


async def _declared(app: Any, sbu_id: str) -> SbuView:
    """The view as the declared models make it of the stored objects, loaded as entities one by one."""
    async with context_of(app).sessionmaker() as session:
        sbu = await session.get(Sbu, sbu_id)
        assert sbu is not None
        customer = await session.get(Customer, sbu.customer_id)
        channel = await session.get(Channel, sbu.channel_id)
        product = await session.get(Product, sbu.product_id)
        assert customer is not None and channel is not None and product is not None
        return SbuView(
            **SbuOut.model_validate(sbu).model_dump(),
            customer=Ref(id=customer.id, name=customer.name),
            channel=ChannelRef(
                id=channel.id, name=channel.name, platform=channel.platform, business_model=channel.business_model
            ),
            product=ProductRef(id=product.id, name=product.name, sku=product.sku),
        )


async def test_the_read_answers_the_declared_view_of_varied_sbus(
    plans: httpx.AsyncClient, plans_app: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant)
    ids = await _store_varied(plans_app, tenant.org_id, plan["id"], 30)
    async with context_of(plans_app).sessionmaker() as session:  # one changed after it was written
        await session.execute(
            update(Sbu).where(Sbu.id == ids[0]).values(need="changed", updated_at=datetime.now(UTC), version=2)
        )
        await session.commit()
    views = {}
    for sbu_id in ids:
        declared = await _declared(plans_app, sbu_id)
        read = await plans.get(f"/v1/sbus/{sbu_id}", headers=tenant.auth("analyst"))
        assert read.status_code == 200, read.text
        assert read.json() == declared.model_dump(mode="json")
        assert read.content == declared.model_dump_json().encode()
        assert read.headers["etag"] == etag_of(SbuOut.model_validate(declared.model_dump()))
        views[sbu_id] = read.json()
        other = await plans.get(f"/v1/sbus/{sbu_id}", headers=other_tenant.auth("analyst"))
        assert assert_problem(other, 404)["detail"] == f"sbu {sbu_id} not found"
    assert {v["status"] for v in views.values()} == {"draft", "active", "retired"}
    assert any(v["derived_from"] for v in views.values()) and any(not v["derived_from"] for v in views.values())
    listed: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = await plans.get(f"/v1/plans/{plan['id']}/sbus", params=params, headers=tenant.auth("analyst"))
        assert page.status_code == 200, page.text
        listed += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert {item["id"]: item for item in listed} == views


async def test_postgresql_reads_it_on_the_driver_prepared_once(
    plans: httpx.AsyncClient, plans_app: Any, tenant: Tenant
) -> None:
    """On PostgreSQL the read runs the statement prepared on the connection, kept for its next reads; on SQLite
    it runs through SQLAlchemy, answering the same."""
    plan = await new_plan(plans, tenant)
    (sbu_id,) = await _store_varied(plans_app, tenant.org_id, plan["id"], 1)
    async with context_of(plans_app).sessionmaker() as session:
        first = await get_view(session, tenant.org_id, sbu_id)
        raw = await (await session.connection()).get_raw_connection()
        prepared = raw.info.get(ONE.key)
        again = await get_view(session, tenant.org_id, sbu_id)
        assert raw.info.get(ONE.key) is prepared
        stored = (await session.execute(select(Sbu.need).where(Sbu.id == sbu_id))).scalar_one()
    assert first == again == await _declared(plans_app, sbu_id) and first.need == stored
    if BACKEND == "postgres":
        assert prepared is not None
    else:
        assert prepared is None


async def test_a_connection_lost_on_the_driver_is_a_503_and_replaced(
    plans: httpx.AsyncClient, plans_app: Any, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure on the driver is SQLAlchemy's: a lost connection is invalidated (the pool opens another) and the
    client is told to retry (503 problem+json); a statement the server refuses keeps its connection."""
    if BACKEND != "postgres":
        pytest.skip("the driver path is PostgreSQL's")
    plan = await new_plan(plans, tenant)
    (sbu_id,) = await _store_varied(plans_app, tenant.org_id, plan["id"], 1)
    url, reader = f"/v1/sbus/{sbu_id}", tenant.auth("analyst")
    assert (await plans.get(url, headers=reader)).status_code == 200
    failure: list[Exception] = []

    async def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise failure[0]

    invalidated: list[BaseException | None] = []
    engine = context_of(plans_app).engine.sync_engine

    def record(conn: Any, entry: Any, exc: BaseException | None) -> None:
        invalidated.append(exc)

    monkeypatch.setattr(asyncpg.prepared_stmt.PreparedStatement, "fetchrow", failing)
    event.listen(engine, "invalidate", record)
    try:
        failure.append(
            asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        )
        lost = await plans.get(url, headers=reader)
        assert assert_problem(lost, 503)["detail"] == "the database cannot be reached; retry later"
        assert invalidated == failure
        failure[0] = asyncpg.exceptions.SerializationError("could not serialize access")
        busy = await plans.get(url, headers=reader)
        assert assert_problem(busy, 503)["detail"] == "the database was busy; retry the request"
        assert len(invalidated) == 1
        failure[0] = ConnectionResetError("reset by peer")
        reset = await plans.get(url, headers=reader)
        assert assert_problem(reset, 503)["detail"] == "the database cannot be reached; retry later"
        assert len(invalidated) == 2
    finally:
        event.remove(engine, "invalidate", record)
        monkeypatch.undo()
    again = await plans.get(url, headers=reader)
    assert again.status_code == 200 and again.json() == (await _declared(plans_app, sbu_id)).model_dump(mode="json")
