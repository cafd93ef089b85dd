"""Cancelling an order: before its declaration it simply ends (``cancelled``, never declared); once declared,
customs must be asked to withdraw it (``cancel_requested``).

minimal version; the customs withdrawal replaces it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.orders.models import Order
from services.compliance.orders.rules import STATE_RANK
from services.compliance.orders.service import change_state
from services.compliance.pii import Pii

ENDED = ("cancel_requested", "cancelled")


async def cancel_order(session: AsyncSession, pii: Pii, order: Order, reason: str) -> Order:
    """Cancel ``order`` (its match key locked by the caller); a second cancellation changes nothing."""
    if order.state in ENDED:
        return order
    declared = STATE_RANK[order.state] >= STATE_RANK["declared"]
    await change_state(session, order, "cancel_requested" if declared else "cancelled")
    await session.flush()
    return order
