"""The one place an order changes state (:func:`change_state`): entering matched, mismatch, declared, cleared or
released publishes ``order.<state>`` (``order.matched``, ``order.mismatch``, ``order.declared``,
``order.cleared``, ``order.released``) in the same transaction, and the customer register follows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers import register as customers
from services.compliance.customs.codes import iso_currency as _iso_currency
from services.compliance.events import STATE_EVENTS, publish
from services.compliance.orders.models import Order
from shared.db import utcnow
from shared.schemas import format_decimal


def iso_currency(code: str) -> str:
    """ISO 4217 for a currency as customs may write it (its own code 142 for CNY)."""
    return _iso_currency(code)


def order_event(order: Order, previous: str) -> dict[str, Any]:
    """What subscribers learn of an order's change: its keys, states, campaign and amount — never the buyer's or
    payer's name or ID number."""
    data: dict[str, Any] = {
        "ebp_code": order.ebp_code,
        "order_no": order.order_no,
        "state": order.state,
        "previous_state": previous,
        "utm_campaign": order.utm_campaign,
        "amount": format_decimal(order.actual_paid),
        "currency": iso_currency(order.currency),
        "declaration_id": order.declaration_id,
    }
    if order.state == "mismatch":
        data["failing_rules"] = order.failing_rules.split(",") if order.failing_rules else []
    return data


async def change_state(session: AsyncSession, order: Order, new: str) -> None:
    """The one place an order changes state; entering matched, mismatch, declared, cleared or released publishes
    ``order.<state>`` in the same transaction."""
    now = utcnow()
    previous = order.state
    order.state = new
    order.state_changed_at = now
    if new == "released":
        order.released_at = now
    await customers.order_state_changed(session, order)
    event_type = STATE_EVENTS.get(new)
    if event_type is not None:
        await publish(session, order.org_id, event_type, order_event(order, previous), now)
