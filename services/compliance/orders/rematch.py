"""The way back from an exception: comparing an order again once its cause is fixed (docs/flows.md, ways back).

On demand (``POST …/orders/{ebp_code}/{order_no}/rematch``) for an order held ``incomplete``, in ``mismatch``,
``matched`` (waiting for the customs profile), waiting for a document, or ``rejected`` by customs (then, once
its checks pass, it is declared again: docs/redeclaration.md). By itself (:func:`rematch_waiting`) for the orders
in mismatch for want of the setup that has just appeared: an item record, a payment institution."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.order_states import REMATCHABLE
from services.compliance.orders.declaration import declare
from services.compliance.orders.lifecycle import complete
from services.compliance.orders.locks import lock_order_nos
from services.compliance.orders.matching import match_documents
from services.compliance.orders.models import NEEDS_ATTENTION, Order, Payment
from services.compliance.pii import Pii
from shared.db import scoped
from shared.errors import Conflict

#: what a platform's later version must carry to be declared in place of the refused one
COMPLETE = ("goods_value", "freight", "tax_total", "actual_paid", "currency", "consignee", "buyer", "items")
#: mismatched orders compared again at once when the setup they lacked appears; page after page up to the cap
AUTO_BATCH = 200
AUTO_PAGES = 10


async def rematch(session: AsyncSession, pii: Pii, order: Order) -> Order:
    """Compare the order again on what is stored now (its documents, the item records, the institutions, the
    code tables); it ends declared, or where the comparison leaves it, with the checks that say why. The order
    number is locked by the caller."""
    if order.state not in REMATCHABLE:
        raise Conflict(f"a {order.state} order is not compared again; only one that is {', '.join(REMATCHABLE)} can be")
    if order.state == "incomplete":
        return await complete(session, pii, order, {})  # validated again; matched once nothing is missing
    if order.state == "rejected":
        _take_later_version(order)
    if order.state == "matched":
        await declare(session, order)  # it waited for the customs profile
    else:
        await match_documents(session, order)
    await session.flush()
    return order


def _take_later_version(order: Order) -> None:
    """A refused order the platform changed after its declaration: the version kept beside it is the one to
    declare again (its buyer's ID number, masked in the kept version, stays the one encrypted at rest)."""
    later = order.later_version or {}
    document = later.get("document")
    if not order.changed_after_declaration or not isinstance(document, dict):
        return
    if any(document.get(name) in (None, "", [], {}) for name in COMPLETE):
        return  # the platform's later version lacks what XBM needs: the seller corrects by PATCH instead
    order.document = document
    order.currency, order.actual_paid = str(document["currency"]), Decimal(str(document["actual_paid"]))
    order.platform_version = later.get("version") or order.platform_version
    order.changed_after_declaration, order.later_version = False, None
    order.checks, order.failing_rules, order.dutiable_value, order.tax = None, None, None, None


def _has_item(order: Order, item_no: str) -> bool:
    items: list[Any] = order.document.get("items") or []
    return any(isinstance(item, dict) and item.get("item_no") == item_no for item in items)


async def _waiting(session: AsyncSession, org_id: str, rule: str) -> list[Order]:
    """Mismatched orders failing ``rule``, oldest first, read page by page through the exceptions' index."""
    listed = "," + Order.failing_rules + ","
    stmt = scoped(Order, org_id).where(NEEDS_ATTENTION, Order.state == "mismatch", listed.like(f"%,{rule},%"))
    stmt = stmt.order_by(Order.created_at, Order.id)
    found: list[Order] = []
    for page in range(AUTO_PAGES):
        rows = list((await session.execute(stmt.offset(page * AUTO_BATCH).limit(AUTO_BATCH))).scalars())
        found += rows
        if len(rows) < AUTO_BATCH:
            break
    return found


async def rematch_waiting(
    session: AsyncSession, org_id: str, *, item_no: str | None = None, pay_code: str | None = None
) -> int:
    """Compare again the organisation's orders in mismatch for want of the item record ``item_no`` or of the
    payment institution ``pay_code`` (just added or changed); returns how many left mismatch."""
    if item_no is not None:
        orders = [o for o in await _waiting(session, org_id, "item_records") if _has_item(o, item_no)]
    elif pay_code is not None:
        orders = await _waiting(session, org_id, "payment_institution")
        if orders:
            numbers = {o.order_no for o in orders}
            stmt = select(Payment.ebp_code, Payment.order_no).where(
                Payment.org_id == org_id, Payment.pay_code == pay_code, Payment.order_no.in_(numbers)
            )
            paid_with = {(e, n) for e, n in await session.execute(stmt)}
            orders = [o for o in orders if (o.ebp_code, o.order_no) in paid_with]
    else:
        return 0
    if not orders:
        return 0
    await lock_order_nos(session, org_id, (o.order_no for o in orders))
    still = scoped(Order, org_id).where(Order.id.in_([o.id for o in orders]), Order.state == "mismatch")
    fresh = (await session.execute(still.execution_options(populate_existing=True))).scalars().all()
    moved = 0
    for order in fresh:
        await match_documents(session, order)
        moved += order.state != "mismatch"
    await session.flush()
    return moved
