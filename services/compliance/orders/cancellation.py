"""Cancelling an order (the seller's or its platform's): before declaration it simply ends; after, the declared
inventory list is withdrawn (CEB605 export, CEB623 import) and customs' answer (CEB606/CEB624) ends it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.context import CustomsContext
from services.compliance.order_states import BEFORE_DECLARATION, WITHDRAWABLE, OrderState
from services.compliance.orders.declaration import prepare_or_wait, queue
from services.compliance.orders.models import Declaration, Order
from services.compliance.orders.state import change_state
from services.compliance.pii import Pii
from shared.errors import Conflict


async def cancel_order(
    session: AsyncSession, pii: Pii, order: Order, reason: str, *, ctx: CustomsContext | None = None
) -> Order:
    """``cancelled`` before declaration (never declared); after it ``cancel_requested`` with the withdrawal
    queued for customs (built, validated and signed at once when ``ctx`` is given and customs has numbered the
    list, otherwise as soon as its receipt gives the number). A repeat changes nothing."""
    if order.state in ("cancelled", "cancel_requested"):
        return order
    if order.state in BEFORE_DECLARATION or order.state == "rejected":
        # a list customs refused is no longer before it: there is nothing to withdraw either
        await change_state(session, order, OrderState.CANCELLED)
        await session.flush()
        return order
    if order.state == "declared_elsewhere":
        raise Conflict("declared by a customs declaration (报关单) outside XBM: the broker withdraws it")
    if order.state not in WITHDRAWABLE:
        raise Conflict(f"a {order.state} order cannot be withdrawn; a released order is returned instead")
    declaration = await session.get(Declaration, order.declaration_id) if order.declaration_id else None
    if declaration is None:
        raise Conflict("the order has no declaration to withdraw")
    declaration.cancel_from = order.state
    kind = "CEB605" if order.trade_direction == "export" else "CEB623"
    message = queue(session, order, kind, declaration_id=declaration.id)
    message.reason = reason[:1000]
    await change_state(session, order, OrderState.CANCEL_REQUESTED)
    await session.flush()
    if ctx is not None and declaration.invt_no:
        await prepare_or_wait(session, ctx, pii, message)
    return order
