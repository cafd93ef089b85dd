"""Matching: when an order, its payment and its waybill are all here, :func:`match_documents` compares them by the
three-in-one rules (``rules.py``, docs/flows.md) over the stored documents read back typed (``stored.py``); all agree
→ matched and declared (``declaration.py``), any rule failing → mismatch."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.codes import countries
from services.compliance.customs.declarations import destination
from services.compliance.customs.fields import transport_missing
from services.compliance.items.lookup import records_by_no
from services.compliance.order_states import OrderState
from services.compliance.orders import rules, tax
from services.compliance.orders.declaration import declare
from services.compliance.orders.documents import UNPAID
from services.compliance.orders.lookup import payment_for, waybill_for
from services.compliance.orders.models import Order, Payment, Waybill
from services.compliance.orders.profiles import choose
from services.compliance.orders.quota import lock_buyer, quota_used, quota_year
from services.compliance.orders.state import change_state
from services.compliance.orders.stored import StoredOrder, StoredPayment, StoredWaybill
from services.compliance.setup.models import CustomsProfile, PaymentInstitution
from shared.db import scoped, utcnow


async def _facts(
    session: AsyncSession, order: Order, payment: Payment, waybill: Waybill, profile: CustomsProfile | None
) -> rules.Facts:
    """``profile``: the customs profile the order would be declared under (its trade mode, when the order names
    none, decides the import's transport rule)."""
    doc, pay, way = (
        StoredOrder.of(order.document),
        StoredPayment.of(payment.document),
        StoredWaybill.of(waybill.document),
    )
    item_nos = sorted({item.item_no for item in doc.items})
    records = await records_by_no(session, order.org_id, item_nos)
    lines = [
        rules.TaxLine(item.total, records[item.item_no].vat_rate,
                      records[item.item_no].consumption_tax_rate, records[item.item_no].duty_rate)
        for item in doc.items
        if item.item_no in records
    ]  # fmt: skip
    inst, annual_before, mode, missing = None, Decimal(0), "9610", []
    if order.trade_direction == "import":  # the licence, the annual quota and the transport are import rules only
        mode = order.document.get("trade_mode") or (profile.trade_mode if profile else "9610")
        missing = transport_missing(mode, waybill.document)
        stmt = scoped(PaymentInstitution, order.org_id).where(PaymentInstitution.pay_code == payment.pay_code)
        inst = (await session.execute(stmt)).scalar_one_or_none()
        annual_before = await quota_used(session, order.org_id, order.buyer_id_hash, order.quota_year, order.id)
    # the destination as ISO on the wire (customs' own reading of the stored documents), or as the customs code
    # the order may carry already
    where = destination(order.document, waybill.document) or doc.country
    return rules.Facts(
        trade_direction=order.trade_direction,
        year=order.quota_year,
        goods_value=doc.goods_value,
        freight=doc.freight,
        discount=doc.discount,
        tax_total=doc.tax_total,
        actual_paid=doc.actual_paid,
        gift_card=doc.gift_card,
        order_currency=doc.currency,
        buyer_name=doc.buyer_name,
        buyer_id_hash=order.buyer_id_hash,
        buyer_verified=order.buyer_verified,
        order_consignee=doc.consignee,
        pay_code=payment.pay_code,
        amount_paid=pay.amount_paid,
        payment_currency=pay.currency,
        payer_name=pay.payer_name,
        payer_id_hash=payment.payer_id_hash,
        waybill_consignee=way.consignee,
        insured_fee=way.insured_fee,
        institution=rules.Institution(inst.status, inst.scopes, inst.kind, inst.name) if inst else None,
        lines=lines,
        missing_items=[n for n in item_nos if n not in records],
        unfit_items=[n for n, r in records.items() if not rules.ITEM_NO_TEXT.match(r.customs_item_no or n)],
        annual_before=annual_before,
        item_count=sum((item.qty for item in doc.items), Decimal(0)),
        destination=where,
        destination_known=where is not None and (where in countries() or where in countries().values()),
        pod=way.pod,
        logistics_no=waybill.logistics_no,
        trade_mode=mode,
        transport_missing=missing,
    )


async def facts_of(session: AsyncSession, order: Order) -> rules.Facts | None:
    """What the comparison reads for ``order`` as stored now (its item records as they are now); None while its
    payment or waybill is missing."""
    payment = await payment_for(session, order)
    waybill = await waybill_for(session, order) if payment is not None else None
    if payment is None or waybill is None:
        return None
    return await _facts(session, order, payment, waybill, (await choose(session, order)).profile)


async def match_documents(session: AsyncSession, order: Order, found: tuple[Payment, Waybill] | None = None) -> None:
    """When the order, its payment and its waybill are all here, compare them; all agree → declared. ``found``:
    the order's payment and waybill when the caller has read them already (the ones
    :func:`~services.compliance.orders.lookup.payment_for` and ``waybill_for`` find)."""
    if order.test:
        return  # a platform's test order is kept and shown, never compared or declared
    if order.document.get("payment_status") in UNPAID:
        return  # not paid in full: compared and declared once a later version says it is paid
    if found is not None:
        payment, waybill = found
    else:
        found_payment = await payment_for(session, order)
        if found_payment is None:
            return
        found_waybill = await waybill_for(session, order)
        if found_waybill is None:
            return
        payment, waybill = found_payment, found_waybill
    # the limits count in the year of the declaration this comparison leads to (declared at once when it passes)
    order.quota_year = quota_year(utcnow())
    await lock_buyer(session, order.org_id, order.buyer_id_hash, order.quota_year)
    chosen = await choose(session, order)  # read once: the comparison and the declaration both use it
    facts = await _facts(session, order, payment, waybill, chosen.profile)
    checks = rules.run_checks(facts)
    order.checks = [c.as_dict() for c in checks]
    order.dutiable_value = facts.value
    order.tax = rules.computed_tax(facts)
    order.tax_lines = tax.xbm_lines(order.document, facts)
    failing = [c.rule for c in checks if not c.passed]
    before = (order.state, order.failing_rules)
    order.failing_rules = ",".join(failing) or None
    if failing:
        if before != ("mismatch", order.failing_rules):  # compared again and failing as before: nothing new
            await change_state(session, order, OrderState.MISMATCH)
        return
    await change_state(session, order, OrderState.MATCHED)
    await declare(session, order, chosen)
