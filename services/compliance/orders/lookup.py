"""An order and its payment and waybill found by their join keys (all through indexes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select
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


_P, _W = Payment.__table__.c, Waybill.__table__.c  # type: ignore[attr-defined]


def _payment_match(org_id: Any, ebp_code: Any, order_no: Any) -> tuple[ColumnElement[bool], ...]:
    """An order's payment: the same platform and order number."""
    return _P.org_id == org_id, _P.ebp_code == ebp_code, _P.order_no == order_no


def _waybill_match(org_id: Any, ebp_code: Any, order_no: Any) -> tuple[ColumnElement[bool], ...]:
    """An order's waybill: the same order number, and the same platform when the waybill names one."""
    return _W.org_id == org_id, _W.order_no == order_no, or_(_W.ebp_code.is_(None), _W.ebp_code == ebp_code)


async def payment_for(session: AsyncSession, order: Order) -> Payment | None:
    stmt = select(Payment).where(*_payment_match(order.org_id, order.ebp_code, order.order_no))
    return (await session.execute(stmt.order_by(_P.created_at).limit(1))).scalar_one_or_none()


async def waybill_for(session: AsyncSession, order: Order) -> Waybill | None:
    stmt = select(Waybill).where(*_waybill_match(order.org_id, order.ebp_code, order.order_no))
    return (await session.execute(stmt.order_by(_W.created_at).limit(1))).scalar_one_or_none()


# the same look-ups as columns of another statement (the order's INSERT … RETURNING in ``intake.py``), over the
# tables, for parameters ``org_id``, ``ebp_code`` and ``order_no`` of that statement


def payment_id_for(org_id: Any, ebp_code: Any, order_no: Any) -> ColumnElement[Any]:
    """The id :func:`payment_for` finds, as a scalar subquery."""
    stmt = select(_P.id).where(*_payment_match(org_id, ebp_code, order_no))
    return stmt.order_by(_P.created_at).limit(1).scalar_subquery()


def waybill_id_for(org_id: Any, ebp_code: Any, order_no: Any) -> ColumnElement[Any]:
    """The id :func:`waybill_for` finds, as a scalar subquery."""
    stmt = select(_W.id).where(*_waybill_match(org_id, ebp_code, order_no))
    return stmt.order_by(_W.created_at).limit(1).scalar_subquery()


async def order_payment_waybill(
    session: AsyncSession, order_id: str, payment_id: str, waybill_id: str
) -> tuple[Order, Payment, Waybill]:
    """The three documents by id, in one statement."""
    stmt = (
        select(Order, Payment, Waybill)
        .select_from(Order)
        .join(Payment, Payment.id == payment_id)
        .join(Waybill, Waybill.id == waybill_id)
        .where(Order.id == order_id)
    )
    order, payment, waybill = (await session.execute(stmt)).one()
    return order, payment, waybill
