"""The SBU grid's route writes its JSON in one pass (services/plans/sbus/grid_json.py); the report reads the same
grid as a ``GridOut`` (services/plans/sbus/grid.py). Pinned to each other: for many varied plans — several
currencies, rates present and missing, retired SBUs, zero costs, prices and budgets, figures known or not,
names in any script — the one-pass JSON is what ``GridOut`` validation and its serialisation (as FastAPI answers
a ``response_model``) make of the same rows, byte for byte."""

from __future__ import annotations

import json
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from services.plans.customer_status.schemas import CustomerStatusOut
from services.plans.planning.fx import Rates
from services.plans.sbus.grid import sbu_grid
from services.plans.sbus.grid_json import COLUMNS, grid_json
from services.plans.sbus.schemas import GridOut
from shared.auth import Principal
from shared.context import context_of
from tests.plans.grid_reference import grid_of
from tests.plans.test_currency import CNY_RATE, EUR_RATE, _spend, _two_currency_plan
from tests.support import Tenant

#: a row as sbu_grid reads it (named columns, amounts as Decimal); the one-pass path reads the same positions
Row = namedtuple(
    "Row",
    "id status need demand budget_amount budget_currency revenue_target_amount revenue_target_currency "
    "customer_id customer_name channel_id channel_name platform business_model product_id product_name sku "
    "unit_cost_amount unit_cost_currency price_amount price_currency spend_amount revenue_amount perf_currency as_of "
    "released_revenue_amount",
)
AMOUNTS = (4, 6, 17, 19, 21, 22, 25)
GRID = TypeAdapter(GridOut)
CURRENCIES = ("USD", "CNY", "EUR", "JPY")

units = st.one_of(
    st.sampled_from([0, 1, 9_999, 10_000, 19_990_000, 10**12]), st.integers(0, 10**13), st.integers(0, 10**17)
)
text = st.text(max_size=12)
rate_text = st.one_of(
    st.sampled_from(["1", "0.1387", "7.25", "0.0001", "150.5"]),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=6).map(str),
)


@st.composite
def plans(draw: Any) -> tuple[str, Rates, list[tuple[Any, ...]], CustomerStatusOut | None]:
    base = draw(st.sampled_from(CURRENCIES))
    with_rates = draw(st.lists(st.sampled_from([c for c in CURRENCIES if c != base]), unique=True))
    fx = [{"currency": c, "rate": draw(rate_text), "as_of": "2027-01-02", "source": draw(text)} for c in with_rates]
    currency = st.sampled_from(CURRENCIES)
    ids = st.uuids().map(str)
    customers = draw(st.lists(st.tuples(ids, text), min_size=1, max_size=4, unique_by=lambda c: c[0]))
    channels = draw(
        st.lists(
            st.tuples(ids, text, text, st.sampled_from(["B2B", "B2C"])),
            min_size=1,
            max_size=3,
            unique_by=lambda c: c[0],
        )
    )
    products = draw(
        st.lists(
            st.tuples(ids, text, text, units, currency, units, currency),
            min_size=1,
            max_size=4,
            unique_by=lambda p: p[0],
        )
    )
    t0 = datetime(2027, 3, 1, 12, tzinfo=UTC)
    perf = st.one_of(
        st.none(),
        st.tuples(
            units,
            units,
            currency,
            st.integers(0, 10**12).map(lambda us: t0 + timedelta(microseconds=us)),
            st.one_of(st.none(), units),  # released revenue: not announced yet (older campaigns), or known
        ),
    )
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        p = draw(perf) or (None, None, None, None, None)
        rows.append(
            (
                draw(ids),
                draw(st.sampled_from(["draft", "active", "retired"])),
                draw(text),
                draw(st.sampled_from(["strong", "weak", "pseudo"])),
                draw(units),
                draw(currency),
                draw(units),
                draw(currency),
                *draw(st.sampled_from(customers)),
                *draw(st.sampled_from(channels)),
                *draw(st.sampled_from(products)),
                *p,
            )
        )
    status = draw(
        st.one_of(
            st.none(),
            st.builds(
                CustomerStatusOut,
                computed_at=st.just(t0),
                window_from=st.just(t0 - timedelta(days=365)),
                window_to=st.just(t0),
                customers=st.integers(0, 10**6),
                new_customers=st.integers(0, 10**6),
                returning_customers=st.integers(0, 10**6),
                repurchase_rate=st.one_of(st.none(), st.decimals(0, 1, places=4)),
                member_activity_rate=st.one_of(st.none(), st.decimals(0, 1, places=4)),
                orders=st.integers(0, 10**6),
                stages=st.dictionaries(st.sampled_from(["new", "active", "lapsed"]), st.integers(0, 1000)),
                min_repurchase_rate=st.one_of(st.none(), st.decimals(0, 1, places=4)),
            ),
        )
    )
    return base, Rates.of(base, fx), rows, status


def _reference(plan_id: str, base: str, rates: Rates, rows: list[tuple[Any, ...]], status: Any) -> bytes:
    """What the route answered before: the rows' amounts read as Decimal, the grid validated into GridOut, then
    FastAPI's response_model serialisation (validate, dump JSON)."""
    named = [
        Row(*(Decimal(v).scaleb(-4) if i in AMOUNTS and v is not None else v for i, v in enumerate(r))) for r in rows
    ]
    grid = grid_of(plan_id, base, rates, named, status)
    return GRID.dump_json(GRID.validate_python(grid))


def _one_pass(plan_id: str, base: str, rates: Rates, rows: list[tuple[Any, ...]], status: Any) -> bytes:
    return grid_json(plan_id, base, rates, rows, None if status is None else status.model_dump_json().encode())


def test_the_rows_read_the_columns_the_reference_names() -> None:
    assert len(COLUMNS) == len(Row._fields)


@settings(max_examples=150, deadline=None)
@given(plans())
@example(("USD", Rates.of("USD", []), [], None))
def test_the_one_pass_json_is_gridout_serialised(plan: tuple[str, Rates, list[tuple[Any, ...]], Any]) -> None:
    base, rates, rows, status = plan
    try:
        reference = _reference("plan-1", base, rates, rows, status)
    except ValidationError:
        # an amount past what an answer may carry (a converted figure beyond 10^14) fails both ways alike
        with pytest.raises(ValidationError):
            _one_pass("plan-1", base, rates, rows, status)
        return
    fast = _one_pass("plan-1", base, rates, rows, status)
    assert json.loads(fast) == json.loads(reference)
    assert fast == reference


@settings(max_examples=100, deadline=None)
@given(plans())
def test_the_report_reads_the_answer_back_as_it_is(plan: tuple[str, Rates, list[tuple[Any, ...]], Any]) -> None:
    """The report's grid is the route's answer read back into ``GridOut``: written again it is the same bytes, so
    nothing the route answers is dropped, rounded or defaulted on the report's way."""
    base, rates, rows, status = plan
    try:
        answer = _one_pass("plan-1", base, rates, rows, status)
    except ValidationError:
        return
    assert GRID.dump_json(GridOut.model_validate_json(answer)) == answer


async def test_the_route_answers_what_the_report_reads(
    plans: httpx.AsyncClient,
    tenant: Tenant,
    plans_app,  # type: ignore[no-untyped-def]
) -> None:
    made = await _two_currency_plan(plans, tenant, [CNY_RATE, EUR_RATE])
    plan_id = made["plan"]["id"]
    us, cn = made["sbus"]
    await _spend(plans_app, tenant.org_id, us["id"], "700", "2100", "USD")
    await _spend(plans_app, tenant.org_id, cn["id"], "2000", "9000", "CNY")
    retired = await plans.post(f"/v1/sbus/{us['id']}/retire", json={"reason": "r"}, headers=tenant.auth("supervisor"))
    assert retired.status_code == 200, retired.text
    for fx in ([CNY_RATE, EUR_RATE], []):
        patched = await plans.patch(f"/v1/plans/{plan_id}", json={"fx_rates": fx}, headers=tenant.auth("executive"))
        assert patched.status_code == 200, patched.text
        answer = await plans.get(f"/v1/plans/{plan_id}/sbu-grid", headers=tenant.auth("analyst"))
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        principal = Principal(subject="test", org_id=tenant.org_id, role="analyst", token="")
        async with context_of(plans_app).sessionmaker() as session:
            grid = await sbu_grid(session, principal, plan_id)
        assert answer.content == GRID.dump_json(GRID.validate_python(grid))
        assert len(answer.json()["cells"]) == 2
