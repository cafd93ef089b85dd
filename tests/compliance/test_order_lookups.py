"""The order's INSERT … RETURNING finds its payment and waybill with the scalar subqueries of ``lookup.py``
(``payment_id_for``, ``waybill_id_for``): they must find the very rows ``payment_for`` and ``waybill_for`` find,
whatever is stored — several candidates of different ages, other platforms' and other tenants' documents, a
waybill naming no platform."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from services.compliance.orders.lookup import payment_for, payment_id_for, waybill_for, waybill_id_for
from services.compliance.orders.models import Order, Payment, Waybill
from shared.context import context_of

EBPS = ("EBP-A", "EBP-B")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _payment(org_id: str, ebp: str, order_no: str, age: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "org_id": org_id, "pay_code": "PAY", "pay_transaction_id": uuid.uuid4().hex,
            "ebp_code": ebp, "order_no": order_no, "document": {}, "payer_id_encrypted": "x", "payer_id_hash": "h",
            "created_at": T0 + timedelta(seconds=age), "updated_at": T0}  # fmt: skip


def _waybill(org_id: str, ebp: str | None, order_no: str, age: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "org_id": org_id, "logistics_code": "LOG", "logistics_no": uuid.uuid4().hex,
            "order_no": order_no, "ebp_code": ebp, "document": {},
            "created_at": T0 + timedelta(seconds=age), "updated_at": T0}  # fmt: skip


async def test_the_returning_look_ups_find_what_payment_for_and_waybill_for_find(compliance_app: Any) -> None:
    org_id, other_org = str(uuid.uuid4()), str(uuid.uuid4())
    order_no = "LOOKUP-" + uuid.uuid4().hex[:8]
    # every stored combination: per (org, platform) up to two payments and per (org, platform or none) up to two
    # waybills, of different ages, for this order number and for another
    payments, waybills = [], []
    age = itertools.count()
    for org, no in itertools.product((org_id, other_org), (order_no, order_no + "-X")):
        for ebp in EBPS:
            payments += [_payment(org, ebp, no, 100 - next(age)) for _ in range(2)]
        for ebp in (*EBPS, None):
            waybills += [_waybill(org, ebp, no, 100 - next(age)) for _ in range(2)]
    async with context_of(compliance_app).sessionmaker() as session:
        # cases: the stored rows added one at a time, so each prefix of them is a case of its own
        for i in range(max(len(payments), len(waybills))):
            if i < len(payments):
                await session.execute(insert(Payment.__table__).values(payments[i]))
            if i < len(waybills):
                await session.execute(insert(Waybill.__table__).values(waybills[i]))
            for ebp in (*EBPS, "EBP-NONE"):
                order = Order(org_id=org_id, ebp_code=ebp, order_no=order_no)
                payment, waybill = await payment_for(session, order), await waybill_for(session, order)
                found = (
                    await session.execute(
                        select(payment_id_for(org_id, ebp, order_no), waybill_id_for(org_id, ebp, order_no))
                    )
                ).one()
                assert tuple(found) == (payment.id if payment else None, waybill.id if waybill else None), (i, ebp)
        await session.rollback()
