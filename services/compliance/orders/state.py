"""The one place an order changes state (:func:`change_state`): only along the moves of the transition table
(``services/compliance/order_states.py``, any other is :class:`IllegalMove`, a 409); entering matched, mismatch,
declared, cleared or released publishes ``order.<state>`` (``order.matched``, ``order.mismatch``,
``order.declared``, ``order.cleared``, ``order.released``) in the same transaction, and the customer register
follows."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.contracts import STATE_EVENTS, OrderChanged, OrderReturned
from services.compliance.customers import register as customers
from services.compliance.customs.codes import iso_currency as _iso_currency
from services.compliance.events import publish
from services.compliance.order_states import RETURNED, OrderState, may_move
from services.compliance.orders.models import Order
from shared.db import utcnow
from shared.errors import Conflict


class IllegalMove(Conflict):
    """A move the transition table does not list: the order stays where it is (409, never a 500)."""

    def __init__(self, order: Order, new: str) -> None:
        super().__init__(
            f"order {order.order_no} cannot move from {order.state} to {new}", state=order.state, to=str(new)
        )


def iso_currency(code: str) -> str:
    """ISO 4217 for a currency as customs may write it (its own code 142 for CNY)."""
    return _iso_currency(code)


def order_event(event: type[OrderChanged], order: Order, previous: str) -> OrderChanged:
    """What subscribers learn of an order's change: its keys, states, campaign and amount — never the buyer's or
    payer's name or ID number (``failing_rules`` reach them with ``order.mismatch`` only)."""
    return event(
        ebp_code=order.ebp_code,
        order_no=order.order_no,
        state=order.state,
        previous_state=previous,
        utm_campaign=order.utm_campaign,
        amount=order.actual_paid,
        currency=iso_currency(order.currency),
        declaration_id=order.declaration_id,
        failing_rules=order.failing_rules.split(",") if order.failing_rules else [],
    )


async def change_state(session: AsyncSession, order: Order, new: OrderState) -> None:
    """The one place an order changes state, along the table's moves only (:class:`IllegalMove` otherwise);
    entering matched, mismatch, declared, cleared or released publishes ``order.<state>`` in the same
    transaction."""
    if not may_move(order.state, new):
        raise IllegalMove(order, new)
    now = utcnow()
    previous = order.state
    order.state = new
    order.state_changed_at = now
    if new == OrderState.RELEASED:
        order.released_at = now
    await customers.order_state_changed(session, order)
    event = STATE_EVENTS.get(new)
    if event is not None:
        await publish(session, order.org_id, order_event(event, order, previous), now)
    if new in RETURNED and previous not in RETURNED and order.released_at is not None:
        await order_returned(session, order, order.actual_paid)


async def order_returned(session: AsyncSession, order: Order, returned_amount: Decimal | None) -> None:
    """``order.returned``: how much of a released order's amount came back so far (campaigns deducts it from
    the revenue it attributed to the order's campaign)."""
    event = order_event(OrderReturned, order, order.state)
    assert isinstance(event, OrderReturned)
    event.returned_amount = returned_amount
    await publish(session, order.org_id, event, utcnow())
