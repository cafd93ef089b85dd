"""Intake: storing the documents (order, payment, waybill) as they arrive, each once (a second copy is a no-op),
with the buyer's and payer's ID numbers encrypted and masked, then matching the order when it is complete
(``matching.py``). Deliveries of one platform message are recorded once (:func:`record_delivery`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers import register as customers
from services.compliance.order_states import CORRECTABLE
from services.compliance.orders.documents import OrderDoc, PaymentDoc, WaybillDoc
from services.compliance.orders.locks import Kind, lock_order_no, lock_order_nos
from services.compliance.orders.lookup import find_order, order_payment_waybill, payment_id_for, waybill_id_for
from services.compliance.orders.matching import match_documents
from services.compliance.orders.models import Delivery, Order, Payment, Waybill
from services.compliance.orders.quota import CHINA
from services.compliance.pii import Pii, mask
from shared.db import insert_for, insert_ignore, new_id, utcnow
from shared.driver import DriverStatement

#: an order compared and failed, or refused by customs: a document sent again that differs from the one stored
#: is its correction (applied, then the order is compared again), never dropped as a duplicate


@dataclass(frozen=True)
class Ingested:
    status: str  # stored | duplicate | corrected
    kind: str
    ebp_code: str | None
    order_no: str
    state: str | None
    #: what was done with a platform's delivery (stored, updated, refund kept until its order arrives…)
    outcome: str | None = None


async def record_delivery(session: AsyncSession, org_id: str, source_id: str, dedupe_key: str) -> bool:
    """True for a first delivery; False for a redelivery (the unique constraint decides)."""
    values = {"id": new_id(), "org_id": org_id, "source_id": source_id, "dedupe_key": dedupe_key[:200]}
    return await insert_ignore(session, Delivery, values, ["source_id", "dedupe_key"])


async def ingest_all(
    session: AsyncSession, pii: Pii, org_id: str, docs: Sequence[OrderDoc | PaymentDoc | WaybillDoc]
) -> list[Ingested]:
    """Several documents in one transaction (a customs message): their order numbers are locked up front."""
    await lock_order_nos(session, org_id, (doc.order_no for doc in docs))
    return [await ingest(session, pii, org_id, doc) for doc in docs]


def order_values(pii: Pii, org_id: str, doc: OrderDoc) -> dict[str, Any]:
    now = utcnow()
    # a buyer abroad (export) has no Chinese ID number: an empty one is stored, and no quota is kept for it
    id_number = doc.buyer.id_number or ""
    document = doc.model_dump(mode="json")
    document["buyer"]["id_number"] = mask(id_number) if doc.buyer.id_number else None
    return {
        "id": new_id(),
        "org_id": org_id,
        "ebp_code": doc.ebp_code,
        "order_no": doc.order_no,
        "trade_direction": doc.trade_direction,
        "state": "awaiting_documents",
        "currency": doc.currency,
        "actual_paid": doc.actual_paid,
        "utm_campaign": doc.utm_campaign,
        "document": document,
        "buyer_id_encrypted": pii.encrypt(id_number, f"buyer:{org_id}"),
        "buyer_id_hash": pii.lookup_hash(id_number),
        "buyer_verified": doc.buyer.verified,
        "quota_year": now.astimezone(CHINA).year,
        "receipts": [],
        "created_at": now,
        "updated_at": now,
        "state_changed_at": now,
    }


def _payment_values(pii: Pii, org_id: str, doc: PaymentDoc) -> dict[str, Any]:
    now = utcnow()
    id_number = doc.payer.id_number or ""
    document = doc.model_dump(mode="json")
    document["payer"]["id_number"] = mask(id_number) if doc.payer.id_number else None
    return {
        "id": new_id(),
        "org_id": org_id,
        "pay_code": doc.pay_code,
        "pay_transaction_id": doc.pay_transaction_id,
        "ebp_code": doc.ebp_code,
        "order_no": doc.order_no,
        "document": document,
        "payer_id_encrypted": pii.encrypt(id_number, f"payer:{org_id}"),
        "payer_id_hash": pii.lookup_hash(id_number),
        "created_at": now,
        "updated_at": now,
    }


def _waybill_values(org_id: str, doc: WaybillDoc) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": new_id(),
        "org_id": org_id,
        "logistics_code": doc.logistics_code,
        "logistics_no": doc.logistics_no,
        "order_no": doc.order_no,
        "ebp_code": doc.ebp_code,
        "document": doc.model_dump(mode="json"),
        "created_at": now,
        "updated_at": now,
    }


def _store_order(dialect: str) -> Any:
    """Insert the order unless one with its keys is here, returning its id and the ids of the payment and the
    waybill already here for it (``payment_for`` and ``waybill_for`` as columns): read after the order-number lock
    was taken (the statement before), they see every document stored before it."""
    keys: tuple[Any, ...] = (bindparam("key_org_id"), bindparam("key_ebp_code"), bindparam("key_order_no"))
    stmt = insert_for(dialect, Order).on_conflict_do_nothing(index_elements=["org_id", "ebp_code", "order_no"])
    return stmt.returning(
        Order.__table__.c.id, payment_id_for(*keys).label("payment_id"), waybill_id_for(*keys).label("waybill_id")
    )


_STORE_ORDER = DriverStatement("store_order", _store_order)


async def _ingest_order(session: AsyncSession, pii: Pii, org_id: str, doc: OrderDoc) -> Ingested:
    """An order: stored, its payment and waybill looked for, in one statement; the entities are read only when
    there is something to do with them (an export buyer to note, a triple to compare)."""
    values = order_values(pii, org_id, doc)
    keys = {"key_org_id": org_id, "key_ebp_code": doc.ebp_code, "key_order_no": doc.order_no}
    row = await _STORE_ORDER.first(session, {**values, **keys})
    if row is None:  # a copy of an order already here, or its correction
        order = await find_order(session, org_id, doc.order_no, doc.ebp_code)
        if order is not None and order.state in CORRECTABLE and not order.test:
            corrected = await _correct_order(session, pii, order, doc)
            return Ingested("corrected" if corrected else "duplicate", "order", order.ebp_code, doc.order_no,
                            order.state)  # fmt: skip
        return Ingested("duplicate", "order", order.ebp_code if order else doc.ebp_code, doc.order_no,
                        order.state if order else None)  # fmt: skip
    order_id, payment_id, waybill_id = row
    complete = payment_id is not None and waybill_id is not None
    if not complete and doc.trade_direction != "export":
        return Ingested("stored", "order", doc.ebp_code, doc.order_no, values["state"])
    if complete:
        order, payment, waybill = await order_payment_waybill(session, order_id, payment_id, waybill_id)
    else:
        order = await session.get_one(Order, order_id)
    await customers.note_order(session, pii, order, doc)
    if complete:
        await match_documents(session, order, (payment, waybill))
    return Ingested("stored", "order", order.ebp_code, doc.order_no, order.state)


async def ingest(session: AsyncSession, pii: Pii, org_id: str, doc: OrderDoc | PaymentDoc | WaybillDoc) -> Ingested:
    """Store one document (a second copy of it is a no-op) and match it against what is already here."""
    kind: Kind = "order" if isinstance(doc, OrderDoc) else "payment" if isinstance(doc, PaymentDoc) else "waybill"
    await lock_order_no(session, org_id, doc.order_no, storing=kind, ebp_code=doc.ebp_code)
    if isinstance(doc, OrderDoc):
        return await _ingest_order(session, pii, org_id, doc)
    ebp_code: str | None = doc.ebp_code
    if isinstance(doc, PaymentDoc):
        stored = await insert_ignore(
            session, Payment, _payment_values(pii, org_id, doc), ["org_id", "pay_code", "pay_transaction_id"]
        )
    else:
        stored = await insert_ignore(
            session, Waybill, _waybill_values(org_id, doc), ["org_id", "logistics_code", "logistics_no"]
        )
    order = await find_order(session, org_id, doc.order_no, ebp_code)
    if stored and order is not None and order.state == "awaiting_documents":
        await match_documents(session, order)
    elif not stored and order is not None and order.state in CORRECTABLE and not order.test:
        if await _correct_document(session, pii, org_id, doc):
            await match_documents(session, order)
            return Ingested("corrected", kind, order.ebp_code, doc.order_no, order.state)
    return Ingested(
        "stored" if stored else "duplicate",
        kind,
        order.ebp_code if order else ebp_code,
        doc.order_no,
        order.state if order else None,
    )


# --- corrections ------------------------------------------------------------------------------------------


async def _correct_order(session: AsyncSession, pii: Pii, order: Order, doc: OrderDoc) -> bool:
    """The order sent again after it failed a check or customs refused it: when it differs from the one
    stored it replaces it and the order is compared again (declared again, for a refused one). An identical
    copy changes nothing (a retried request is not a correction)."""
    values = order_values(pii, order.org_id, doc)
    same_buyer = values["buyer_id_hash"] == order.buyer_id_hash
    if values["document"] == order.document and same_buyer:
        return False
    for name in ("trade_direction", "currency", "actual_paid", "utm_campaign", "document", "buyer_id_encrypted",
                 "buyer_id_hash", "buyer_verified"):  # fmt: skip
        setattr(order, name, values[name])
    order.checks, order.failing_rules, order.dutiable_value, order.tax = None, None, None, None
    await match_documents(session, order)
    return True


async def _correct_document(session: AsyncSession, pii: Pii, org_id: str, doc: PaymentDoc | WaybillDoc) -> bool:
    """A payment or waybill sent again under its key for an order that failed a check or was refused: when it
    differs from the one stored (and names the same order) it replaces it."""
    if isinstance(doc, PaymentDoc):
        stmt: Any = select(Payment).where(
            Payment.org_id == org_id, Payment.pay_code == doc.pay_code,
            Payment.pay_transaction_id == doc.pay_transaction_id,
        )  # fmt: skip
        values = _payment_values(pii, org_id, doc)
        names: tuple[str, ...] = ("document", "payer_id_encrypted", "payer_id_hash")
    else:
        stmt = select(Waybill).where(
            Waybill.org_id == org_id, Waybill.logistics_code == doc.logistics_code,
            Waybill.logistics_no == doc.logistics_no,
        )  # fmt: skip
        values = _waybill_values(org_id, doc)
        names = ("document",)
    stored = (await session.execute(stmt)).scalar_one_or_none()
    if stored is None or stored.order_no != doc.order_no:
        return False
    if isinstance(stored, Payment) and stored.ebp_code != doc.ebp_code:
        return False
    same_payer = not isinstance(stored, Payment) or stored.payer_id_hash == values["payer_id_hash"]
    if stored.document == values["document"] and same_payer:
        return False
    for name in names:
        setattr(stored, name, values[name])
    stored.updated_at = utcnow()
    return True
