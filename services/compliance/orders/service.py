"""Ingest, incremental matching and quota; declaring lives in ``declaration.py``, customs' answers in
``receipts.py``, withdrawals in ``cancellation.py`` and returns in ``returns.py``.

Every order state change goes through :func:`change_state`: that is where ``order.matched``,
``order.mismatch``, ``order.declared``, ``order.cleared`` and ``order.released`` are published."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.contracts import STATE_EVENTS, OrderChanged
from services.compliance.customers import register as customers
from services.compliance.customs.codes import countries
from services.compliance.customs.codes import iso_currency as _iso_currency
from services.compliance.customs.declarations import destination
from services.compliance.dbutil import insert_new, touch
from services.compliance.events import publish
from services.compliance.items.models import ItemRecord
from services.compliance.orders import rules
from services.compliance.orders.declaration import new_declaration, profile_of
from services.compliance.orders.models import Declaration, Delivery, MatchKey, Order, Payment, Waybill
from services.compliance.orders.quota import lock_buyer
from services.compliance.orders.schemas import OrderDoc, PaymentDoc, WaybillDoc
from services.compliance.pii import Pii, mask
from services.compliance.setup.models import PaymentInstitution
from shared.db import ScaledDecimal, new_id, scoped, utcnow
from shared.errors import NotFound

CHINA = ZoneInfo("Asia/Shanghai")
MAX_RECEIPTS = 50
#: matched orders declared at once when the customs profile is set
DECLARE_BATCH = 200
_UNITS = ScaledDecimal(4)


@dataclass(frozen=True)
class Ingested:
    status: str  # stored | duplicate
    kind: str
    ebp_code: str | None
    order_no: str
    state: str | None


# --- state --------------------------------------------------------------------------------------------------


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
    event = STATE_EVENTS.get(new)
    if event is not None:
        await publish(session, order.org_id, order_event(event, order, previous), now)


# --- ingest -------------------------------------------------------------------------------------------------


async def record_delivery(session: AsyncSession, org_id: str, source_id: str, dedupe_key: str) -> bool:
    """True for a first delivery; False for a redelivery (the unique constraint decides)."""
    values = {"id": new_id(), "org_id": org_id, "source_id": source_id, "dedupe_key": dedupe_key[:200]}
    return await insert_new(session, Delivery, values, ["source_id", "dedupe_key"])


async def _lock_order_no(session: AsyncSession, org_id: str, order_no: str) -> None:
    values = {"id": new_id(), "org_id": org_id, "order_no": order_no, "touched_at": utcnow()}
    await touch(session, MatchKey, values, ["org_id", "order_no"], "touched_at")


async def lock_order_nos(session: AsyncSession, org_id: str, order_nos: Iterable[str]) -> None:
    """Lock several order numbers' match keys in sorted order. Every request that changes orders takes these
    locks before touching an order, always in this order, so two requests never wait on each other in a cycle."""
    for order_no in sorted(set(order_nos)):
        await _lock_order_no(session, org_id, order_no)


async def ingest_all(
    session: AsyncSession, pii: Pii, org_id: str, docs: Sequence[OrderDoc | PaymentDoc | WaybillDoc]
) -> list[Ingested]:
    """Several documents in one transaction (a customs message): their order numbers are locked up front."""
    await lock_order_nos(session, org_id, (doc.order_no for doc in docs))
    return [await ingest(session, pii, org_id, doc) for doc in docs]


def _order_values(pii: Pii, org_id: str, doc: OrderDoc) -> dict[str, Any]:
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


async def ingest(session: AsyncSession, pii: Pii, org_id: str, doc: OrderDoc | PaymentDoc | WaybillDoc) -> Ingested:
    """Store one document (a second copy of it is a no-op) and match it against what is already here."""
    await _lock_order_no(session, org_id, doc.order_no)
    ebp_code: str | None
    if isinstance(doc, OrderDoc):
        kind, ebp_code = "order", doc.ebp_code
        stored = await insert_new(session, Order, _order_values(pii, org_id, doc), ["org_id", "ebp_code", "order_no"])
    elif isinstance(doc, PaymentDoc):
        kind, ebp_code = "payment", doc.ebp_code
        stored = await insert_new(
            session, Payment, _payment_values(pii, org_id, doc), ["org_id", "pay_code", "pay_transaction_id"]
        )
    else:
        kind, ebp_code = "waybill", doc.ebp_code
        stored = await insert_new(
            session, Waybill, _waybill_values(org_id, doc), ["org_id", "logistics_code", "logistics_no"]
        )
    order = await find_order(session, org_id, doc.order_no, ebp_code)
    if stored and isinstance(doc, OrderDoc) and order is not None:
        await customers.note_order(session, pii, order, doc)
    if stored and order is not None and order.state == "awaiting_documents":
        await settle(session, order)
    return Ingested(
        "stored" if stored else "duplicate",
        kind,
        order.ebp_code if order else ebp_code,
        doc.order_no,
        order.state if order else None,
    )


# --- look-ups by join keys (all through indexes) ------------------------------------------------------------


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


async def quota_used(
    session: AsyncSession, org_id: str, id_hash: str, year: int, excluding: str | None = None
) -> Decimal:
    """Dutiable values of the buyer's declared, not returned orders of that calendar year."""
    stmt = select(func.sum(type_coerce(Order.dutiable_value, BigInteger))).where(
        Order.org_id == org_id,
        Order.buyer_id_hash == id_hash,
        Order.quota_year == year,
        Order.state.in_(rules.QUOTA_STATES),
    )
    if excluding is not None:
        stmt = stmt.where(Order.id != excluding)
    return _UNITS.from_units(await session.scalar(stmt)) or Decimal(0)


# --- matching -----------------------------------------------------------------------------------------------


def _party(data: dict[str, Any]) -> rules.Party:
    return rules.Party(data["name"], data.get("telephone") or "", data["address"])


async def _facts(session: AsyncSession, order: Order, payment: Payment, waybill: Waybill) -> rules.Facts:
    doc, pay, way = order.document, payment.document, waybill.document
    item_nos = sorted({item["item_no"] for item in doc["items"]})
    found = (
        (await session.execute(scoped(ItemRecord, order.org_id).where(ItemRecord.item_no.in_(item_nos))))
        .scalars()
        .all()
    )
    records = {r.item_no: r for r in found}
    lines = [
        rules.TaxLine(Decimal(item["total"]), records[item["item_no"]].vat_rate,
                      records[item["item_no"]].consumption_tax_rate, records[item["item_no"]].duty_rate)
        for item in doc["items"]
        if item["item_no"] in records
    ]  # fmt: skip
    inst, annual_before = None, Decimal(0)
    if order.trade_direction == "import":  # the licence and the annual quota are import rules only
        stmt = scoped(PaymentInstitution, order.org_id).where(PaymentInstitution.pay_code == payment.pay_code)
        inst = (await session.execute(stmt)).scalar_one_or_none()
        annual_before = await quota_used(session, order.org_id, order.buyer_id_hash, order.quota_year, order.id)
    # the destination as ISO on the wire, or as the customs code the order may carry already
    where = destination(doc, way) or doc.get("country")
    return rules.Facts(
        trade_direction=order.trade_direction,
        year=order.quota_year,
        goods_value=Decimal(doc["goods_value"]),
        freight=Decimal(doc["freight"]),
        discount=Decimal(doc["discount"]),
        tax_total=Decimal(doc["tax_total"]),
        actual_paid=Decimal(doc["actual_paid"]),
        order_currency=doc["currency"],
        buyer_name=doc["buyer"]["name"],
        buyer_id_hash=order.buyer_id_hash,
        buyer_verified=order.buyer_verified,
        order_consignee=_party(doc["consignee"]),
        pay_code=payment.pay_code,
        amount_paid=Decimal(pay["amount_paid"]),
        payment_currency=pay["currency"],
        payer_name=pay["payer"]["name"],
        payer_id_hash=payment.payer_id_hash,
        waybill_consignee=_party(way["consignee"]),
        insured_fee=Decimal(way["insured_fee"]),
        institution=rules.Institution(inst.status, inst.scopes) if inst else None,
        lines=lines,
        missing_items=[n for n in item_nos if n not in records],
        annual_before=annual_before,
        item_count=sum((Decimal(str(item["qty"])) for item in doc["items"]), Decimal(0)),
        destination=where,
        destination_known=where is not None and (where in countries() or where in countries().values()),
        pod=way.get("pod"),
        logistics_no=waybill.logistics_no,
    )


async def settle(session: AsyncSession, order: Order) -> None:
    """When the order, its payment and its waybill are all here, compare them; all agree → declared."""
    if order.test:
        return  # a platform's test order is kept and shown, never compared or declared
    payment = await payment_for(session, order)
    if payment is None:
        return
    waybill = await waybill_for(session, order)
    if waybill is None:
        return
    await lock_buyer(session, order.org_id, order.buyer_id_hash, order.quota_year)
    facts = await _facts(session, order, payment, waybill)
    checks = rules.run_checks(facts)
    order.checks = [c.as_dict() for c in checks]
    order.dutiable_value = facts.value
    order.tax = rules.computed_tax(facts)
    failing = [c.rule for c in checks if not c.passed]
    order.failing_rules = ",".join(failing) or None
    if failing:
        await change_state(session, order, "mismatch")
        return
    await change_state(session, order, "matched")
    await declare(session, order)


async def declare(session: AsyncSession, order: Order) -> Declaration | None:
    """Declare the inventory list of a matched order (needs the seller's customs profile): the declaration and
    the messages it owes customs, queued to be built, validated, signed and sent."""
    profile = await profile_of(session, order.org_id)
    if profile is None:
        return None
    declaration = new_declaration(session, order, profile)
    order.declaration_id = declaration.id
    await change_state(session, order, "declared")
    await session.flush()
    return declaration


async def declare_waiting(session: AsyncSession, org_id: str) -> int:
    """Declare the oldest matched orders (at most :data:`DECLARE_BATCH`) that waited for the customs profile;
    returns how many were declared. The rest, if any, are declared the next time the profile is saved."""
    stmt = scoped(Order, org_id).where(Order.state == "matched").order_by(Order.created_at, Order.id)
    stmt = stmt.limit(DECLARE_BATCH)
    waiting = (await session.execute(stmt)).scalars().all()
    if not waiting:
        return 0
    await lock_order_nos(session, org_id, (o.order_no for o in waiting))
    still = scoped(Order, org_id).where(Order.id.in_([o.id for o in waiting]), Order.state == "matched")
    fresh = (await session.execute(still.execution_options(populate_existing=True))).scalars().all()
    declared = [await declare(session, order) for order in fresh]
    return sum(d is not None for d in declared)
