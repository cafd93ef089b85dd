"""The metrics body's fast path (a pydantic-core schema generated from the declared models, without Python
validators, then the funnel in one pass) against the declared validators it stands in front of: whatever the fast
path accepts, the declared validators accept with the same values; whatever it leaves to them gets their verdict
and their errors, unchanged. A field added to the row model is in the fast path and reaches its column with no
other change. And the PostgreSQL upsert's columns (one array per column) against the per-row parameter sets."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict, Field, StringConstraints, ValidationError, model_validator
from sqlalchemy import select

from bench.seed import metric_rows
from services.campaigns.campaigns import schemas
from services.campaigns.campaigns.fast_path import NoFastForm, fast_validator, model_schema
from services.campaigns.campaigns.metric_rows import NAMES, array_parameters, array_text, row_parameters
from services.campaigns.campaigns.models import Campaign, MetricRow
from services.campaigns.campaigns.schemas import (
    CHECKED_AFTER,
    FAST,
    FAST_METRICS,
    MAX_METRIC_ROWS,
    Count,
    MetricRowIn,
    MetricsIn,
    RowMoney,
    fast_metrics,
)
from services.campaigns.campaigns.service import record_metrics
from services.plans.client_fake import FakePlans
from shared.schemas import Schema
from tests.campaigns.support import new_campaign, row
from tests.support import Tenant


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    """The errors as the problem+json shows them, and all they carry (a raised ValueError equals only itself)."""
    return [{**e, "ctx": {k: repr(v) for k, v in e.get("ctx", {}).items()}} for e in exc.errors(include_url=False)]


def _declared(value: Any, monkeypatch: pytest.MonkeyPatch) -> MetricsIn | list[dict[str, Any]]:
    """What the declared validators alone make of ``value``: the body, or the errors."""
    with monkeypatch.context() as m:
        m.setattr(schemas, "fast_metrics", lambda *_: None)
        try:
            return MetricsIn.model_validate(value)
        except ValidationError as exc:
            return _errors(exc)


def _full(value: Any) -> MetricsIn | list[dict[str, Any]]:
    try:
        return MetricsIn.model_validate(value)
    except ValidationError as exc:
        return _errors(exc)


# --- varied rows: mostly plausible, with every kind of mistake mixed in ----------------------------------------


def rarely(one_in: int) -> st.SearchStrategy[bool]:
    """True once in ``one_in`` draws (hypothesis favours the ends of an integer range, so no ``integers``)."""
    return st.sampled_from([False] * (one_in - 1) + [True])


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` 24 times in 25: a body is refused as soon as one of its many values is."""
    return rarely(25).flatmap(lambda odd: bad if odd else good)


days = mostly(
    st.dates(date(2000, 1, 1), date(2100, 12, 31)).map(date.isoformat),
    st.one_of(
        st.dates(date(1999, 12, 1), date(2101, 1, 31)).map(date.isoformat),
        st.sampled_from(["2026-02-30", "2026-1-01", "20260101", "2026-01-01T00:00:00", "", " 2026-01-01", "0"]),
        st.integers(-5, 2_000_000_000),
        st.none(),
    ),
)
ODD_AMOUNTS = ["10000000000", "10000000000.0000", "9999999999.9999", "-0", "0", "1.00000", "1.00001", "1e3", " 1",
               "1.", ".5", "0000000000001.5", "00000000001", "1" * 19, "NaN", "Infinity", "25.00"]  # fmt: skip
odd_counts = st.sampled_from([10**12, 10**12 + 1, -1, 2**63, True, False, "7", 5.0, 1.5, None])
amounts = mostly(
    st.one_of(
        st.decimals(0, 10**10, places=2, allow_nan=False).map(str),
        st.decimals(0, 10**6, places=4, allow_nan=False).map(str),
        st.integers(0, 10**10),
    ),
    st.one_of(
        st.decimals(0, 10**6, places=5, allow_nan=False).map(str),
        st.from_regex(r"\A-?[0-9]{1,12}(\.[0-9]{1,6})?\Z"),
        st.sampled_from(ODD_AMOUNTS),
        st.integers(-2, 10**10 + 2),
        st.sampled_from([10**10, 10**10 + 1, 25.5, 0.1, 1e20, True, None]),
    ),
)
currencies = mostly(st.just("USD"), st.sampled_from(["EUR", "usd", "US", "USDX", 1, None]))
variants = mostly(
    st.sampled_from(["a", "b", "v:1", "x.y-z_0", "a" * 64]),
    st.one_of(st.sampled_from(["", "a b", "\x00", "é", "a" * 65]), st.none(), st.integers()),
)


@st.composite
def money(draw: st.DrawFn) -> Any:
    if draw(rarely(51)):
        return draw(st.sampled_from(["25.00", None, [], {"amount": "1"}]))
    value: dict[str, Any] = {"amount": draw(amounts), "currency": draw(currencies)}
    if draw(rarely(51)):
        value["extra"] = 1
    return value


@st.composite
def funnel_count(draw: st.DrawFn, above: Any) -> Any:
    """Mostly at most ``above`` (the step before it), sometimes more, sometimes no count at all."""
    if draw(rarely(41)):
        return draw(odd_counts)
    top = above + 2 if type(above) is int and 0 <= above <= 10**12 else 50
    return draw(st.integers(0, top))


@st.composite
def metric_row(draw: st.DrawFn) -> Any:
    if draw(rarely(61)):
        return draw(st.sampled_from([None, "row", [], 3]))
    impressions = draw(funnel_count(10**6))
    clicks = draw(funnel_count(impressions))
    sends = draw(funnel_count(10**6))
    value: dict[str, Any] = {
        "date": draw(days),
        "impressions": impressions,
        "clicks": clicks,
        "cost": draw(money()),
        "conversions": draw(funnel_count(clicks)),
        "revenue": draw(money()),
    }
    for name, drawn in (
        ("sends", sends),
        ("opens", draw(funnel_count(sends))),
        ("unsubscribes", draw(funnel_count(10**6))),
        ("variant", draw(variants)),
    ):
        if draw(st.booleans()):
            value[name] = drawn
    for name in list(value):
        if draw(rarely(81)):
            del value[name]
    if draw(rarely(81)):
        value["extra"] = "x"
    return value


@st.composite
def bodies(draw: st.DrawFn) -> Any:
    if draw(rarely(41)):
        return draw(st.sampled_from([None, [], "rows", {}, {"rows": None}, {"rows": {}}]))
    rows = draw(st.lists(metric_row(), min_size=0, max_size=6))
    if rows and draw(rarely(7)):
        rows.append(dict(rows[0]) if isinstance(rows[0], dict) else rows[0])  # the same day and variant twice
    body: dict[str, Any] = {"rows": rows}
    if draw(st.booleans()):
        body["backfill"] = draw(st.sampled_from([True, False, "true", 1, 0, None, "no"]))
    if draw(rarely(41)):
        body["extra"] = True
    return body


def _sensible(rows: int) -> dict[str, Any]:
    return {"rows": [row(f"2026-09-{d:02d}", f"v{i}") for i in range(rows // 25 + 1) for d in range(1, 26)][:rows]}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies())
@example(body=_sensible(3))
@example(body={"rows": [row("2026-09-01", cost="10000000000")]})
@example(body={"rows": [row("2026-09-01", cost=25.5)]})
@example(body={"rows": [row("2026-09-01", clicks=2000)]})
def test_the_fast_path_gives_the_declared_verdicts_values_and_errors(
    body: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.loads(json.dumps(body))  # what the route is given: the JSON as Python decodes it
    declared = _declared(body, monkeypatch)
    fast = fast_metrics(body)
    if fast is not None:
        assert isinstance(declared, MetricsIn), declared  # the fast path accepts nothing the validators refuse
        assert fast == declared and repr(fast) == repr(declared)  # same values (and decimals' exponents)
        assert [r.model_fields_set for r in fast.rows] == [r.model_fields_set for r in declared.rows]
    assert _full(body) == declared  # the model with its fast path: the same body, or the very same errors


def test_plausible_bodies_take_the_fast_path() -> None:
    """The bodies clients send (the benchmark's, the tests') are accepted there, not left to the validators."""
    for body in (
        {"rows": metric_rows(1000)},
        _sensible(1000),
        {"rows": [row("2026-09-01", "b", cost="0", revenue="9999999999.9999", sends=9, opens=9, unsubscribes=3)]},
        {"rows": [row("2026-09-01", cost=7, revenue=0)], "backfill": True},
    ):
        fast = fast_metrics(json.loads(json.dumps(body)))
        assert fast is not None and fast == MetricsIn.model_validate(body)


def test_the_fast_schema_runs_no_python_validator() -> None:
    """pydantic-core would use a finished model's own validator for a model schema naming it; the fast one is
    built without them: a row breaking the funnel passes it (the funnel is checked after it, in one pass) and a
    JSON float amount does not (the declared validators take it)."""
    funnel = {"rows": [row("2026-09-01", impressions=1, clicks=2)]}
    assert FAST_METRICS.validate_python(funnel).rows[0].clicks == 2
    assert fast_metrics(funnel) is None
    with pytest.raises(ValidationError):
        FAST_METRICS.validate_python({"rows": [row("2026-09-01", cost=25.5)]})
    assert MetricsIn.model_validate({"rows": [row("2026-09-01", cost=25.5)]}).rows[0].cost.amount == Decimal("25.5")


def test_the_row_columns_hold_the_per_row_parameters() -> None:
    """PostgreSQL's columns of the upsert hold what the per-row parameter sets bind: same days, variants (a
    left-out one is ''), counts, and amounts as the decimals sent (the server scales them into stored units)."""
    body = MetricsIn.model_validate(
        {
            "rows": [
                row("2026-09-01", cost="0.0001", revenue="9999999999.9999"),
                row("2026-09-02", "b", cost="12", revenue="3.5", sends=4, opens=3, unsubscribes=1),
                row("2026-09-03", cost=7, revenue=0, conversions="2.375"),
            ]
        }
    )
    arrays, per_row = array_parameters("o", "c", body.rows), row_parameters("o", "c", body.rows)
    for name in NAMES:
        assert arrays[name] == array_text([values[name] for values in per_row], name == "variant"), name
    assert arrays["date"] == "{2026-09-01,2026-09-02,2026-09-03}" and arrays["variant"] == '{"","b",""}'
    assert arrays["cost"] == "{0.0001,12,7}" and arrays["revenue"] == "{9999999999.9999,3.5,0}"
    assert arrays["conversions"] == "{5,5,2.375}" and arrays["sends"] == "{0,4,0}"
    assert arrays["org_id"] == "o" and arrays["campaign_id"] == "c"
    assert all(values["org_id"] == "o" and values["campaign_id"] == "c" for values in per_row)


def test_the_performance_totals_are_the_tables_figures() -> None:
    """The read side sums what the table declares: every figure column of ``metric_rows`` (a count as a whole
    number, an amount as a scaled decimal), into the KPI inputs of the same names; money figures answered in
    the campaign's currency. A figure added to the table is totalled with no list to update."""
    from dataclasses import fields

    from services.campaigns.performance import kpis, service
    from shared.db import ScaledDecimal

    figures = [c.name for c in MetricRow.__table__.columns if c.name in NAMES and c.name not in ("date", "variant")]
    assert list(service.FIGURES) == figures and {f.name for f in fields(kpis.Totals)} == set(figures)
    assert all(isinstance(MetricRow.__table__.c[f].type, ScaledDecimal) for f in service.AMOUNTS)
    assert set(service.COUNTS) | set(service.AMOUNTS) == set(figures) and not set(service.COUNTS) & set(service.AMOUNTS)
    assert [c.key for c in service._sum_columns()] == figures
    totals = service._totals(type("Row", (), {f: None for f in figures})())
    assert totals == kpis.Totals()
    answered = service._totals_fields(totals, "USD")
    assert set(answered) == set(figures) and answered["cost"] == {"amount": Decimal(0), "currency": "USD"}


def test_array_texts() -> None:
    assert array_text([date(2026, 9, 1), date(2026, 9, 2)]) == "{2026-09-01,2026-09-02}"
    assert array_text([0, 10**12, 99999999999999]) == "{0,1000000000000,99999999999999}"
    assert array_text([Decimal("0.000001"), Decimal("25.00"), Decimal("1E+3")]) == "{0.000001,25.00,1E+3}"
    assert array_text([""], True) == '{""}' and array_text(["a", "", "v:1.x-y_z"], True) == '{"a","","v:1.x-y_z"}'
    assert array_text(['a"b', "c\\d", "e,f}"], True) == '{"a\\"b","c\\\\d","e,f}"}'


# --- one declaration per field: the fast path and the table follow the row model --------------------------------


def _models(schema: Any) -> dict[type, set[str]]:
    """The models of a generated schema, each with the fields it checks."""
    found: dict[type, set[str]] = {}
    if isinstance(schema, dict):
        if schema.get("type") == "model":
            found[schema["cls"]] = set(schema["schema"]["fields"])
        for value in schema.values():
            found.update(_models(value))
    elif isinstance(schema, list):
        for value in schema:
            found.update(_models(value))
    return found


class RowWithCarts(MetricRowIn):
    add_to_carts: Count = 0
    """A count added to the row model in one place."""


class MetricsWithCarts(MetricsIn):
    rows: Annotated[list[RowWithCarts], Field(min_length=1, max_length=MAX_METRIC_ROWS)]


def test_the_fast_schema_is_generated_from_the_declared_models() -> None:
    """Every model of the body is in the fast schema with exactly its declared fields; a row model given a new
    count has it in its fast path at once, with its declared bounds and default."""
    from_schema = _models(model_schema(MetricsIn, CHECKED_AFTER, []))
    assert from_schema == {cls: set(cls.model_fields) for cls in (MetricsIn, MetricRowIn, RowMoney)}
    assert _models(model_schema(MetricsWithCarts, CHECKED_AFTER, []))[RowWithCarts] == set(MetricRowIn.model_fields) | {
        "add_to_carts"
    }
    body = {"rows": [{**row("2026-09-01"), "add_to_carts": 7}, row("2026-09-02")]}
    fast = fast_metrics(body, MetricsWithCarts)
    assert fast is not None and [r.add_to_carts for r in fast.rows] == [7, 0]  # type: ignore[attr-defined]
    assert MetricsWithCarts.model_validate(body) == fast and MetricsWithCarts in FAST
    for bad in (-1, "7", True, 10**12 + 1, 1.5):
        refused = {"rows": [{**row("2026-09-01"), "add_to_carts": bad}]}
        assert fast_metrics(refused, MetricsWithCarts) is None
        with pytest.raises(ValidationError) as caught:
            MetricsWithCarts.model_validate(refused)
        assert caught.value.errors()[0]["loc"] == ("rows", 0, "add_to_carts")
    assert fast_metrics(body) is None  # the declared MetricsIn knows no add_to_carts
    with pytest.raises(ValidationError):
        MetricsIn.model_validate(body)


def test_what_has_no_fast_form_stops_the_import() -> None:
    """A field type or a Python validator the fast path cannot check natively is refused when the fast path is
    built, never skipped."""

    class Floating(Schema):
        x: float

    class Checked(Schema):
        x: Count

        @model_validator(mode="after")
        def _odd(self) -> Checked:
            return self

    class Stripped(Schema):
        model_config = ConfigDict(str_strip_whitespace=True)
        x: Annotated[str, StringConstraints(pattern=r"^[a-z]+$")]

    for model in (Floating, Checked, Stripped):
        with pytest.raises(NoFastForm):
            fast_validator(model, CHECKED_AFTER)


async def test_every_field_of_a_row_reaches_its_column(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, session: Any
) -> None:
    """A row with every field of the row model set (none left at 0), written and then replaced through the API:
    every column holds what was sent, on either backend."""
    created = await new_campaign(campaigns, fake_plans, tenant)
    url, headers = f"/v1/campaigns/{created['id']}/metrics", tenant.auth("integration")
    counts = [name for name, f in MetricRowIn.model_fields.items() if f.annotation is int]
    for step in (0, 1):
        sent = row("2026-09-07", "v1", cost=f"12.{345678 + step}", revenue=f"{98 + step}.5", conversions="3.25")
        sent.update({name: 1000 - 7 * i + step for i, name in enumerate(counts)})  # a funnel's steps narrow
        assert set(sent) == set(MetricRowIn.model_fields)
        response = await campaigns.put(url, json={"rows": [sent]}, headers=headers)
        assert response.status_code == 200, response.text
        session.expire_all()
        stmt = select(MetricRow).where(MetricRow.campaign_id == created["id"])
        (stored,) = (await session.execute(stmt)).scalars()
        for name, value in sent.items():
            if isinstance(value, dict):
                assert getattr(stored, name) == Decimal(value["amount"]), name
            elif name == "date":
                assert stored.date.isoformat() == value
            else:
                assert getattr(stored, name) == (Decimal(value) if name == "conversions" else value), name
    perf = await campaigns.get(f"/v1/campaigns/{created['id']}/performance", headers=tenant.auth("analyst"))
    totals = perf.json()["totals"]
    assert [totals[name] for name in counts] == [1000 - 7 * i + 1 for i in range(len(counts))]


async def test_stored_rows_are_the_rows_sent_and_updates_keep_their_id(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, session: Any
) -> None:
    """On either backend (one statement of arrays on PostgreSQL, a parameter set per row elsewhere)."""
    created = await new_campaign(campaigns, fake_plans, tenant)
    campaign = await session.get(Campaign, created["id"])
    only = MetricsIn.model_validate({"rows": [row("2026-09-05", cost="0", revenue="9999999999.9999")]})
    assert await record_metrics(session, campaign, only) == 1  # one row, no variant: '{""}' is one empty key
    first = MetricsIn.model_validate({"rows": [row("2026-09-01"), row("2026-09-02", "b", cost="1.5", sends=3)]})
    assert await record_metrics(session, campaign, first) == 2
    stmt = select(MetricRow).where(MetricRow.campaign_id == campaign.id).order_by(MetricRow.date)
    before = {(r.date, r.variant): r.id for r in (await session.execute(stmt)).scalars()}
    second = MetricsIn.model_validate({"rows": [row("2026-09-02", "b", clicks=7, revenue="0.0001"), row("2026-09-03")]})
    assert await record_metrics(session, campaign, second) == 2
    session.expire_all()
    stored = list((await session.execute(stmt)).scalars())
    assert [(r.date.isoformat(), r.variant, r.clicks, r.cost, r.revenue, r.sends) for r in stored] == [
        ("2026-09-01", "", 50, Decimal("25.00"), Decimal("100.00"), 0),
        ("2026-09-02", "b", 7, Decimal("25.00"), Decimal("0.0001"), 0),
        ("2026-09-03", "", 50, Decimal("25.00"), Decimal("100.00"), 0),
        ("2026-09-05", "", 50, Decimal("0"), Decimal("9999999999.9999"), 0),
    ]
    assert all(r.org_id == tenant.org_id and len(r.id) == 36 for r in stored)
    assert stored[1].id == before[(date(2026, 9, 2), "b")]  # an updated row keeps its id
    assert stored[1].updated_at > stored[1].created_at and stored[0].created_at == stored[0].updated_at
    assert len({r.id for r in stored}) == 4
