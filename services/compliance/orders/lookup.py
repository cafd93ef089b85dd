"""An order and its payment and waybill found by their join keys (all through indexes)."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.orders.models import Order, Payment, Waybill
from shared.db import scoped
from shared.errors import NotFound


async def find_order(session: AsyncSession, org_id: str, order_no: str, ebp_code: str | None) -> Order | None:
    stmt = scoped(Order, org_id).where(Order.order_no == order_no)
    if ebp_code is not None:
        stmt = stmt.where(Order.ebp_code == ebp_code)
    return (await session.execute(stmt.order_by(Order.created_at).limit(1))).scalar_one_or_none()


async def get_order(session: AsyncSession, org_id: str, ebp_code: str, order_no: str) -> Order:
    order = await find_order(session, org_id, order_no, ebp_code)
    if order is None:
        raise NotFound(f"order {ebp_code}/{order_no} not found")
    return order


async def payment_for(session: AsyncSession, order: Order) -> Payment | None:
    stmt = scoped(Payment, order.org_id).where(Payment.ebp_code == order.ebp_code, Payment.order_no == order.order_no)
    return (await session.execute(stmt.order_by(Payment.created_at).limit(1))).scalar_one_or_none()


async def waybill_for(session: AsyncSession, order: Order) -> Waybill | None:
    stmt = scoped(Waybill, order.org_id).where(
        Waybill.order_no == order.order_no, or_(Waybill.ebp_code.is_(None), Waybill.ebp_code == order.ebp_code)
    )
    return (await session.execute(stmt.order_by(Waybill.created_at).limit(1))).scalar_one_or_none()
