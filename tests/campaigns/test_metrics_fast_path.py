"""The metrics body's fast path (a pydantic-core schema without Python validators, then the funnel in one pass)
against the declared validators it stands in front of: whatever the fast path accepts, the declared validators
accept with the same values; whatever it leaves to them gets their verdict and their errors, unchanged. And the
PostgreSQL upsert's columns (one array per column) against the per-row parameter sets."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from bench.seed import metric_rows
from services.campaigns.campaigns import schemas
from services.campaigns.campaigns.models import Campaign, MetricRow
from services.campaigns.campaigns.schemas import FAST_METRICS, MetricsIn, fast_metrics
from services.campaigns.campaigns.service import _array_text, _metric_arrays, _metric_values, record_metrics
from services.plans.client_fake import FakePlans
from tests.campaigns.support import new_campaign, row
from tests.support import Tenant


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    """The errors as the problem+json shows them, and all they carry (a raised ValueError equals only itself)."""
    return [{**e, "ctx": {k: repr(v) for k, v in e.get("ctx", {}).items()}} for e in exc.errors(include_url=False)]


def _declared(value: Any, monkeypatch: pytest.MonkeyPatch) -> MetricsIn | list[dict[str, Any]]:
    """What the declared validators alone make of ``value``: the body, or the errors."""
    with monkeypatch.context() as m:
        m.setattr(schemas, "fast_metrics", lambda _: None)
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
    """PostgreSQL's columns of the upsert hold what the per-row parameter sets bind: same days, variants,
    counts, and amounts in the stored units (what ``ScaledDecimal`` binds)."""
    body = MetricsIn.model_validate(
        {
            "rows": [
                row("2026-09-01", cost="0.0001", revenue="9999999999.9999"),
                row("2026-09-02", "b", cost="12", revenue="3.5", sends=4, opens=3, unsubscribes=1),
                row("2026-09-03", cost=7, revenue=0, conversions="2.375"),
            ]
        }
    )
    campaign = Campaign(id="c", org_id="o", currency="USD")
    columns, per_row = _metric_arrays(campaign, body), _metric_values(campaign, body)
    amount_type = MetricRow.__table__.c.cost.type
    for name in ("date", "variant", "impressions", "clicks", "sends", "opens", "unsubscribes"):
        assert columns[name] == [values[name] for values in per_row], name
    for name in ("cost", "revenue"):
        assert columns[name] == [amount_type.process_bind_param(values[name], None) for values in per_row]
    conversions_type = MetricRow.__table__.c.conversions.type  # fractional conversions, in 10^-6 units
    assert columns["conversions"] == [conversions_type.process_bind_param(v["conversions"], None) for v in per_row]
    assert columns["conversions"] == [5_000_000, 5_000_000, 2_375_000]
    # metric money in micros (6 places: an ad platform's cost_micros kept exactly)
    assert columns["cost"] == [100, 12000000, 7000000] and columns["revenue"] == [9999999999999900, 3500000, 0]
    assert columns["org_id"] == "o" and columns["campaign_id"] == "c"


def test_array_texts() -> None:
    assert _array_text([date(2026, 9, 1), date(2026, 9, 2)]) == "{2026-09-01,2026-09-02}"
    assert _array_text([0, 10**12, 99999999999999]) == "{0,1000000000000,99999999999999}"
    assert _array_text([""]) == '{""}' and _array_text(["a", "", "v:1.x-y_z"]) == '{"a","","v:1.x-y_z"}'


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
