"""Erasing a buyer's personal data everywhere compliance keeps it (docs/personal-data.md).

An order customs has a record of (declared: it has a declaration) keeps the customs record masked — name and
address to their first character, telephone to its last two digits, the ID number as already stored (first four
and last four characters) — and the keyed hash of the ID number the annual limit counts by. Customs law requires the
seller to keep its customs records (China's customs record-keeping rules; PIPL art. 47 ends erasure where a law
requires retention; GDPR art. 17(3)(b) likewise). Everything else is erased: the encrypted full ID numbers, the
undeclared orders' parties, the platforms' raw bodies, the register's contact, the bodies of messages already sent.

Each erasure is recorded (:class:`~services.compliance.customers.models.Erasure`) with counts and XBM's order ids
only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers import identity
from services.compliance.customers.models import Customer, CustomerOrder, Erasure
from services.compliance.customs.models import CustomsMessage
from services.compliance.deliveries import PlatformDelivery
from services.compliance.order_states import OrderState
from services.compliance.orders.models import Order, Payment, Waybill
from services.compliance.orders.state import change_state
from services.compliance.pii import Pii
from services.compliance.sealed import PERSONAL
from shared.db import new_id, scoped, utcnow

#: what a masked field keeps
ERASED = ""


def mask_text(value: Any) -> str:
    """``Zhang San`` → ``Z********``: the first character, the rest starred."""
    text = str(value or "")
    return text[:1] + "*" * min(len(text) - 1, 20) if text else ""


def mask_phone(value: Any) -> str:
    """``+8613800138000`` → ``***********00``: the last two digits."""
    text = str(value or "")
    return "*" * max(len(text) - 2, 0) + text[-2:] if len(text) > 4 else "*" * len(text)


def erase_document(doc: dict[str, Any] | None, *, keep_masked: bool) -> dict[str, Any] | None:
    """A document's parties erased (or masked, for a customs record); amounts, items and codes untouched."""
    if not isinstance(doc, dict):
        return doc
    out = dict(doc)
    for party, fields in PERSONAL.items():
        value = out.get(party)
        if not isinstance(value, dict):
            continue
        kept = dict(value)
        for name in fields:
            if name not in kept:
                continue
            if not keep_masked:
                kept[name] = ERASED
            else:
                kept[name] = mask_phone(kept[name]) if name == "telephone" else mask_text(kept[name])
        kept.pop("email", None)
        out[party] = kept
    out["erased"] = True
    return out


@dataclass
class Subject:
    """Whom to erase: any of the platform's customer number (``buyer.reg_no``), the platform's order ids (of one
    platform), order numbers, the buyer's ID number, email or phone."""

    reg_no: str | None = None
    ebp_code: str | None = None
    platform_order_ids: list[str] = field(default_factory=list)
    order_nos: list[str] = field(default_factory=list)
    id_number: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None

    def empty(self) -> bool:
        return not (self.reg_no or self.platform_order_ids or self.order_nos or self.id_number or self.email
                    or self.phone)  # fmt: skip


async def orders_of(session: AsyncSession, pii: Pii, org_id: str, who: Subject) -> list[Order]:
    found: dict[str, Order] = {}

    async def add(stmt: Any) -> None:
        for order in (await session.execute(stmt)).scalars().all():
            found[order.id] = order

    base = scoped(Order, org_id)
    if who.ebp_code:
        base = base.where(Order.ebp_code == who.ebp_code)
    if who.platform_order_ids:
        await add(base.where(Order.platform_id.in_([str(i)[:40] for i in who.platform_order_ids])))
    if who.order_nos:
        await add(base.where(Order.order_no.in_([str(n)[:60] for n in who.order_nos])))
    if who.reg_no:
        await add(base.where(Order.document["buyer"]["reg_no"].as_string() == who.reg_no))
    if who.id_number:
        await add(base.where(Order.buyer_id_hash == pii.lookup_hash(who.id_number)))
    customers = await customers_of(session, pii, org_id, who)
    if customers:
        ids = select(CustomerOrder.order_id).where(CustomerOrder.customer_id.in_([c.id for c in customers]))
        await add(base.where(Order.id.in_(ids)))
    return list(found.values())


async def customers_of(session: AsyncSession, pii: Pii, org_id: str, who: Subject) -> list[Customer]:
    keys: list[str] = []
    if who.id_number:
        keys.append(pii.lookup_hash(who.id_number))
    email = identity.normalise_email(who.email) if who.email else None
    phone = identity.normalise_phone(who.phone, who.country) if who.phone else None
    # the register keys an export buyer with a country: any the organisation's export buyers have
    known = select(Customer.country).where(Customer.org_id == org_id, Customer.trade_direction == "export")
    countries: set[str | None] = {who.country, None, *(await session.execute(known.distinct())).scalars().all()}
    if phone is not None:
        countries.add(identity.phone_country(phone))
    for country in countries:
        for e, p in ((email, None), (None, phone)):
            if e or p:
                key = identity.export_key(pii, country, e, p)
                if key:
                    keys.append(key)
    if not keys:
        return []
    stmt = scoped(Customer, org_id).where(Customer.customer_key.in_(keys))
    return list((await session.execute(stmt)).scalars().all())


async def erase(
    session: AsyncSession,
    pii: Pii,
    org_id: str,
    orders: Iterable[Order],
    *,
    scope: str,
    requested_by: str,
    source_id: str | None = None,
    customers: Iterable[Customer] = (),
    deliveries_of_source: str | None = None,
) -> Erasure:
    """Erase the personal data of these orders (their payments, waybills, raw deliveries, messages sent and
    their buyers in the register) and of these customers; record the erasure."""
    counts = {"orders": 0, "masked_orders": 0, "payments": 0, "waybills": 0, "deliveries": 0, "customers": 0,
              "messages": 0, "cancelled": 0}  # fmt: skip
    orders = list(orders)
    customer_ids = {c.id for c in customers}
    for order in orders:
        declared = order.declaration_id is not None
        counts["masked_orders" if declared else "orders"] += 1
        order.document = erase_document(order.document, keep_masked=declared) or {}
        order.later_version = erase_document(order.later_version, keep_masked=declared)
        order.buyer_id_encrypted = ""
        if not declared:  # the annual limit counts declared orders only
            order.buyer_id_hash = f"erased:{order.id}"
            if order.state != "cancelled":  # nothing is left to declare it with
                await change_state(session, order, OrderState.CANCELLED)
                counts["cancelled"] += 1
        for payment in await _all(session, scoped(Payment, org_id).where(
                Payment.order_no == order.order_no, Payment.ebp_code == order.ebp_code)):  # fmt: skip
            payment.document = erase_document(payment.document, keep_masked=declared) or {}
            payment.payer_id_encrypted = ""
            if not declared:
                payment.payer_id_hash = f"erased:{payment.id}"
            counts["payments"] += 1
        for waybill in await _all(session, scoped(Waybill, org_id).where(Waybill.order_no == order.order_no)):
            if waybill.ebp_code not in (None, order.ebp_code):
                continue
            waybill.document = erase_document(waybill.document, keep_masked=declared) or {}
            counts["waybills"] += 1
        gone = await session.execute(
            update(CustomsMessage)
            .where(CustomsMessage.org_id == org_id, CustomsMessage.order_id == order.id,
                   CustomsMessage.status != "pending", CustomsMessage.body_encrypted.is_not(None))
            .values(body_encrypted=None)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        counts["messages"] += gone.rowcount or 0  # type: ignore[attr-defined]
        linked = select(CustomerOrder.customer_id).where(CustomerOrder.order_id == order.id)
        customer_ids.update((await session.execute(linked)).scalars().all())
        counts["deliveries"] += await _empty_bodies(session, org_id, order)
    if deliveries_of_source:
        result = await session.execute(
            update(PlatformDelivery)
            .where(PlatformDelivery.org_id == org_id, PlatformDelivery.source_id == deliveries_of_source)
            .values(body=b"")
            .execution_options(synchronize_session=False)
        )
        counts["deliveries"] += result.rowcount or 0  # type: ignore[attr-defined]
    for customer in await _all(session, scoped(Customer, org_id).where(Customer.id.in_(customer_ids))):
        customer.email_encrypted = None
        customer.phone_encrypted = None
        customer.customer_key = f"erased:{customer.id}"[:64]
        counts["customers"] += 1
    record = Erasure(id=new_id(), org_id=org_id, scope=scope, requested_by=requested_by[:200], source_id=source_id,
                     erased_at=utcnow(), counts=counts, order_ids=sorted(o.id for o in orders))  # fmt: skip
    session.add(record)
    await session.flush()
    return record


async def _empty_bodies(session: AsyncSession, org_id: str, order: Order) -> int:
    named = [PlatformDelivery.order_no == order.order_no]
    if order.platform_id:
        named.append(PlatformDelivery.platform_id == order.platform_id)
    result = await session.execute(
        update(PlatformDelivery)
        .where(PlatformDelivery.org_id == org_id, or_(*named))
        .where(or_(PlatformDelivery.ebp_code.is_(None), PlatformDelivery.ebp_code == order.ebp_code))
        .values(body=b"")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def _all(session: AsyncSession, stmt: Any) -> list[Any]:
    return list((await session.execute(stmt)).scalars().all())


async def orders_of_platform(session: AsyncSession, org_id: str, ebp_code: str | None) -> list[Order]:
    return await _all(session, scoped(Order, org_id).where(Order.ebp_code == ebp_code))
