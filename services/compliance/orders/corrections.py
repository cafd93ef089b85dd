"""The seller's writes to one order: correcting it (``PATCH …/orders/{ebp}/{no}``); for a held B2B export,
recording the broker's declaration or routing it again (broker_router.py); for a customs tax bill that disagrees
with XBM's, accepting customs' figure or computing XBM's again (tax_router.py). Each locks the order number and
reads the order as it is now; those that honour If-Match check the client's copy of it (its ``OrderOut``)
before they change anything."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.order_states import PATCHABLE
from services.compliance.orders import broker, lifecycle, routing, rules, tax, views
from services.compliance.orders.broker_schemas import DeclaredIn
from services.compliance.orders.matching import facts_of
from services.compliance.orders.models import Order
from services.compliance.pii import Pii
from shared.errors import Conflict, NotFound
from shared.etag import Precondition


async def _locked(session: AsyncSession, org_id: str, ebp_code: str, order_no: str) -> Order:
    order = await lifecycle.locked_order(session, org_id, ebp_code, order_no)
    if order is None:
        raise NotFound(f"order {ebp_code}/{order_no} not found")
    return order


async def correct(
    session: AsyncSession,
    pii: Pii,
    org_id: str,
    ebp_code: str,
    order_no: str,
    fields: dict[str, Any],
    precondition: Precondition,
) -> Order:
    """Complete an ``incomplete`` order, or correct one in ``mismatch`` or refused by customs; matching runs."""
    order = await _locked(session, org_id, ebp_code, order_no)
    precondition(await views.order_view(session, order))
    if order.state not in PATCHABLE:
        raise Conflict(f"only an incomplete, mismatched or refused order can be corrected; this one is {order.state}")
    return await lifecycle.complete(session, pii, order, fields)


async def record_declared(
    session: AsyncSession,
    org_id: str,
    ebp_code: str,
    order_no: str,
    body: DeclaredIn,
    precondition: Precondition,
) -> Order:
    """The broker's declaration of a held export recorded (a repeat of the recorded one changes nothing)."""
    order = await _locked(session, org_id, ebp_code, order_no)
    if order.state == routing.HELD:  # a repeat of a recorded declaration is answered, not checked
        precondition(await views.order_view(session, order))
    await routing.record_declared(session, order, body.entry_id, body.declared_on, body.note)
    return order


async def reroute(
    session: AsyncSession, org_id: str, ebp_code: str, order_no: str, precondition: Precondition
) -> Order:
    """A held export routed again on what is stored now."""
    order = await _locked(session, org_id, ebp_code, order_no)
    if order.state == routing.HELD:
        precondition(await views.order_view(session, order))
    await broker.reroute(session, order)
    return order


async def accept_tax(session: AsyncSession, org_id: str, ebp_code: str, order_no: str, note: str, by: str) -> Order:
    """Customs' tax accepted where it disagrees with XBM's, by ``by`` for the reason ``note``."""
    order = await _locked(session, org_id, ebp_code, order_no)
    tax.accept(order, note, by)
    await session.flush()
    return order


async def recompute_tax(session: AsyncSession, org_id: str, ebp_code: str, order_no: str) -> Order:
    """XBM's tax computed again on the item records as they are now, and compared with customs' bill."""
    order = await _locked(session, org_id, ebp_code, order_no)
    facts = await facts_of(session, order)
    if facts is None:
        raise Conflict(f"order {ebp_code}/{order_no} has lost its payment or waybill: XBM cannot compute its tax")
    tax.recompute(order, tax.xbm_lines(order.document, facts), rules.computed_tax(facts))
    await session.flush()
    return order
