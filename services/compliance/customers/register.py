"""Keeping the register in step with the orders: a buyer is noted when the order arrives, the order counts
from its release, and a declared return (or customs sending the goods back) takes it out again."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers import identity
from services.compliance.customers.models import Customer, CustomerOrder, SummaryMark
from services.compliance.order_states import TAKEN_OUT
from services.compliance.orders.documents import OrderDoc
from services.compliance.orders.models import Order
from services.compliance.pii import Pii
from shared.db import dialect_insert, insert_ignore, new_id, upsert_and_lock, utcnow

#: states in which an order no longer counts for its customer


def _export_contact(country: str | None, email: str | None, phone: str | None) -> tuple[str | None, ...]:
    normal_email = identity.normalise_email(email) if email else None
    normal_phone = identity.normalise_phone(phone, country) if phone else None
    if country is None and normal_phone is not None:
        country = identity.phone_country(normal_phone)
    return country, normal_email, normal_phone


async def _customer_id(
    session: AsyncSession, pii: Pii | None, org_id: str, direction: str, key: str, contact: tuple[str | None, ...]
) -> str:
    country, email, phone = contact
    values = {"id": new_id(), "org_id": org_id, "customer_key": key, "trade_direction": direction,
              "country": country, "created_at": utcnow(),
              "email_encrypted": pii.encrypt(email, f"customer-email:{org_id}") if pii and email else None,
              "phone_encrypted": pii.encrypt(phone, f"customer-phone:{org_id}") if pii and phone else None}  # fmt: skip
    # one statement whether the customer is new or known: the no-op update returns the stored row's id
    stmt = dialect_insert(session, Customer).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_id", "customer_key"], set_={"customer_key": stmt.excluded.customer_key}
    )
    return str((await session.execute(stmt.returning(Customer.id))).scalar_one())


def _key_and_contact(pii: Pii | None, order: Order, doc: OrderDoc | None) -> tuple[str | None, tuple[str | None, ...]]:
    if order.trade_direction != "export":
        return order.buyer_id_hash, (None, None, None)
    if pii is None:
        return None, (None, None, None)
    buyer = doc.buyer if doc is not None else None
    country = buyer.country if buyer is not None and buyer.country else None
    if country is None:
        code = doc.country if doc is not None else order.document.get("country")
        country = identity.CUSTOMS_COUNTRIES.get(code or "")
    email = buyer.email if buyer is not None else None
    phone = buyer.telephone if buyer is not None else order.document.get("buyer", {}).get("telephone")
    contact = _export_contact(country, email, phone)
    return identity.export_key(pii, contact[0], contact[1], contact[2]), contact


async def note_order(session: AsyncSession, pii: Pii | None, order: Order, doc: OrderDoc | None = None) -> None:
    """Note a newly stored export order's buyer, whose contact only the arriving document carries (the order
    counts once released); an import buyer is known by the stored ID hash and is noted on release. An export
    buyer with neither a usable email nor phone is not a customer XBM can tell apart, and is left out."""
    if doc is not None and order.trade_direction != "export":
        return
    key, contact = _key_and_contact(pii, order, doc)
    if key is None:
        return
    customer_id = await _customer_id(session, pii, order.org_id, order.trade_direction, key, contact)
    values = {"id": new_id(), "org_id": order.org_id, "customer_id": customer_id, "order_id": order.id,
              "ebp_code": order.ebp_code, "trade_direction": order.trade_direction, "currency": _iso(order.currency),
              "amount": order.actual_paid, "released_at": order.released_at}  # fmt: skip
    await insert_ignore(session, CustomerOrder, values, ["order_id"])


def _iso(code: str) -> str:
    return "CNY" if code == "142" else code


async def mark_changed(session: AsyncSession, org_id: str) -> None:
    """The organisation's summary is announced again on the next relay pass (once, however many changed)."""
    await upsert_and_lock(
        session, SummaryMark, {"org_id": org_id, "dirty": True, "announced_at": None}, ["org_id"], "dirty"
    )


async def order_state_changed(session: AsyncSession, order: Order) -> None:
    """Called by the orders' one state-change function: count on release, take out on a return."""
    if order.state == "released":
        await note_order(session, None, order)  # an import buyer (the key needs no contact)
        stmt = update(CustomerOrder).where(CustomerOrder.order_id == order.id)
        await session.execute(stmt.values(released_at=order.released_at))
        await mark_changed(session, order.org_id)
    elif order.state in TAKEN_OUT:
        gone = await session.execute(
            delete(CustomerOrder).where(CustomerOrder.order_id == order.id, CustomerOrder.released_at.is_not(None))
        )
        if gone.rowcount:  # type: ignore[attr-defined]
            await mark_changed(session, order.org_id)
