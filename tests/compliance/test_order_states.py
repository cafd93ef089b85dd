"""The order states and their one transition table (``services/compliance/order_states.py``): ``change_state``
lets exactly the table's moves through and refuses every other with a 409 naming both states; the table and the
named groups beside it agree with each other; the events and the list filter speak the same vocabulary."""

from __future__ import annotations

import uuid
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from services.compliance import order_states as states
from services.compliance.contracts import OrderChanged, OrderReleased
from services.compliance.order_states import MOVES, OrderState
from services.compliance.orders.models import Order
from services.compliance.orders.state import IllegalMove, change_state
from shared.context import context_of
from tests.support import Tenant, assert_problem

S = OrderState
ALL = frozenset(OrderState)
#: the states every stored order starts in (orders/lifecycle.py, orders/intake.py)
FIRST = (S.INCOMPLETE, S.AWAITING_DOCUMENTS)


def _order(org_id: str, state: OrderState, n: int) -> Order:
    now = datetime.now(UTC)
    return Order(
        id=str(uuid.uuid4()), org_id=org_id, ebp_code="EBP", order_no=f"STATES-{n}", trade_direction="import",
        state=state, currency="USD", actual_paid=Decimal("10.00"), document={}, buyer_id_encrypted="x",
        buyer_id_hash=f"h{n}", quota_year=now.year, receipts=[], created_at=now, updated_at=now,
        state_changed_at=now,
    )  # fmt: skip


async def test_change_state_allows_exactly_the_moves_of_the_table(compliance_app: Any) -> None:
    org_id = str(uuid.uuid4())
    allowed, refused = set(), set()
    async with context_of(compliance_app).sessionmaker() as session:
        for n, (current, new) in enumerate((a, b) for a in OrderState for b in OrderState):
            order = _order(org_id, current, n)
            session.add(order)
            await session.flush()
            try:
                await change_state(session, order, new)
            except IllegalMove as exc:
                refused.add((current, new))
                assert exc.status == 409
                assert exc.detail == f"order STATES-{n} cannot move from {current} to {new}"
                assert order.state == current  # the order stays where it was
            else:
                allowed.add((current, new))
                assert order.state == new
            await session.flush()
        await session.rollback()
    assert allowed == {(a, b) for a, moves in MOVES.items() for b in moves}
    assert len(allowed) + len(refused) == len(ALL) ** 2
    assert (S.CANCELLED, S.DECLARED) in refused and (S.MATCHED, S.RELEASED) in refused


def test_the_table_names_every_state_and_only_states() -> None:
    assert set(MOVES) == ALL
    assert all(moves <= ALL for moves in MOVES.values())
    assert set(states.STATE_RANK) == ALL and len(set(states.STATE_RANK.values())) == len(ALL)


def test_every_state_is_reachable_from_where_orders_start() -> None:
    seen, todo = set(FIRST), deque(FIRST)
    while todo:
        for new in MOVES[todo.popleft()] - seen:
            seen.add(new)
            todo.append(new)
    assert seen == ALL


def test_only_the_ends_are_left_by_no_move_and_each_is_reached() -> None:
    assert set(states.TERMINAL) == {S.CANCELLED, S.RETURNED_BY_BUYER}
    # the ends that still have a move say why in the table: a buyer's approved return after customs returned
    # the goods, and the erasure of a broker-declared order's buyer
    assert MOVES[S.RETURNED] == {S.RETURNED_BY_BUYER}
    assert MOVES[S.DECLARED_ELSEWHERE] == {S.CANCELLED}
    for end in (*states.TERMINAL, *states.RETURNED):
        assert any(end in moves for moves in MOVES.values())


def test_the_groups_agree_with_the_table() -> None:
    # before the declaration a cancellation simply ends the order; after it the list is withdrawn first
    assert all(S.CANCELLED in MOVES[s] and S.CANCEL_REQUESTED not in MOVES[s] for s in states.BEFORE_DECLARATION)
    assert all(S.CANCEL_REQUESTED in MOVES[s] for s in states.WITHDRAWABLE)
    assert {s for s in ALL if S.CANCEL_REQUESTED in MOVES[s]} == set(states.WITHDRAWABLE)
    # a refused withdrawal leaves the order where it was
    assert set(states.WITHDRAWABLE) <= MOVES[S.CANCEL_REQUESTED]
    # nothing comes back to the comparison from customs' hands but a refused declaration
    comparing = {*FIRST, S.MISMATCH, S.MATCHED}
    assert {s for s in ALL if MOVES[s] & comparing} == {*states.BEFORE_DECLARATION, S.REJECTED}
    # customs' answers to the list move only the orders in its hands, none it settled
    assert not set(states.IN_CUSTOMS) & set(states.LIST_SETTLED)
    answers = {S.ACCEPTED, S.REJECTED, S.INSPECTION, S.DETAINED, S.CLEARED, S.RELEASED, S.CLOSED, S.RETURNED}
    assert {s for s in ALL if MOVES[s] & answers - {S.RETURNED}} == set(states.IN_CUSTOMS)
    # released: concluded or returned, nothing else
    assert all(MOVES[s] <= {S.CLOSED, *states.RETURNED} for s in states.RELEASED)
    assert {s for s in ALL if MOVES[s] & set(states.RETURNED)} >= set(states.RELEASED)
    # compared again: each rematchable state is one the comparison (or the declaration it leads to) moves
    assert all(MOVES[s] & {S.AWAITING_DOCUMENTS, S.MISMATCH, S.MATCHED, S.DECLARED} for s in states.REMATCHABLE)
    assert set(states.CORRECTABLE) <= set(states.REMATCHABLE)
    # the quota counts the declared imports not returned; a returned or cancelled order leaves it for good
    assert not set(states.COUNTED_IN_QUOTA) & {*states.RETURNED, S.CANCELLED, S.NEEDS_CUSTOMS_DECLARATION}
    assert set(states.TAKEN_OUT) == {*states.RETURNED, S.CANCELLED}
    assert set(states.WITHDRAWN_OR_OUTSIDE) == {S.CANCEL_REQUESTED, S.CANCELLED, S.DECLARED_ELSEWHERE}


def test_events_carry_the_states_and_a_release_its_amount() -> None:
    keys: dict[str, Any] = {"ebp_code": "E", "order_no": "1", "previous_state": "cleared"}
    released = OrderReleased(**keys, state="released", amount=Decimal("19.99"), currency="USD").payload()
    assert (released["state"], released["previous_state"], released["amount"]) == ("released", "cleared", "19.99")
    with pytest.raises(pydantic.ValidationError):
        OrderReleased(**keys, state="released")  # a release always says how much, in which currency
    with pytest.raises(pydantic.ValidationError):
        OrderChanged(**{**keys, "previous_state": "received"}, state="matched")  # not a state of XBM's
    with pytest.raises(pydantic.ValidationError):
        OrderChanged(**keys, state="shipped")


async def test_the_list_filter_takes_exactly_the_states(compliance: Any, tenant: Tenant) -> None:
    for state in OrderState:
        r = await compliance.get("/v1/compliance/orders", params={"state": state.value}, headers=tenant.auth())
        assert r.status_code == 200, state
    assert_problem(
        await compliance.get("/v1/compliance/orders", params={"state": "shipped"}, headers=tenant.auth()), 422
    )
    spec = (await compliance.get("/openapi.json")).json()
    params = spec["paths"]["/v1/compliance/orders"]["get"]["parameters"]
    schema = next(p["schema"] for p in params if p["name"] == "state")
    options = next(o for o in schema.get("anyOf", [schema]) if o.get("type") != "null")
    if "$ref" in options:
        options = spec["components"]["schemas"][options["$ref"].rsplit("/", 1)[1]]
    assert sorted(options["enum"]) == sorted(s.value for s in OrderState)
