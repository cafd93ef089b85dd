"""Receipts from customs, both directions: each kept once (also when it names no order of ours), then applied to
its order by the state machines of docs/flows.md (import and export), in customs' own ``returnTime`` order.

A receipt older than the last one that moved the order is kept but moves nothing, so receipts arriving out of
order end where customs' own sequence ends; a repeat is a no-op (its fingerprint is already stored)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.messages import Receipt, is_refusal
from services.compliance.customs.models import CustomsMessage, CustomsReceipt
from services.compliance.customs.waiting import wake_numbered
from services.compliance.order_states import IN_CUSTOMS, LIST_SETTLED, RELEASED, OrderState
from services.compliance.orders import export_returns, logistics_receipts, summaries, tax
from services.compliance.orders.locks import lock_order_nos
from services.compliance.orders.logistics_models import ExportReturn
from services.compliance.orders.lookup import find_order
from services.compliance.orders.models import CustomsReturn, Declaration, Order, Payment, Waybill
from services.compliance.orders.returns import decide_return, note_release
from services.compliance.orders.state import change_state
from services.compliance.orders.summary_models import Summary
from shared.db import insert_ignore, new_id, scoped, utcnow
from shared.errors import Unprocessable

#: the receipts an order keeps (the latest)
MAX_RECEIPTS = 50
#: receipt → the kind of answer it is
INVENTORY = {"CEB604Message", "CEB622Message"}
DOCUMENT = {"CEB304Message", "CEB312Message", "CEB404Message", "CEB412Message", "CEB506Message", "CEB512Message"}
WITHDRAWAL = {"CEB606Message", "CEB624Message"}
RETURN = {"CEB626Message"}
#: the message of ours a receipt answers (acknowledged on the order)
ANSWERS = {
    "CEB304Message": "CEB303", "CEB312Message": "CEB311", "CEB404Message": "CEB403", "CEB604Message": "CEB603",
    "CEB622Message": "CEB621", "CEB606Message": "CEB605", "CEB624Message": "CEB623", "CEB626Message": "CEB625",
}  # fmt: skip


def inventory_transition(current: str, status: int) -> str | None:
    """CEB604 / CEB622: 2/3 declaring → 120 accepted → [300 manual review] → 399 cleared → [500 inspection,
    501–599 detained] → 800 released → 899 closed; 100 refused (also after acceptance) before release."""
    if current in LIST_SETTLED or current not in IN_CUSTOMS:
        return None
    if is_refusal(status):
        return None if current in RELEASED else "rejected"
    if current == "cancel_requested" and status not in (800, 899):
        return None  # waiting for customs' answer to the withdrawal
    if status in (120, 300):
        return "accepted" if current in ("declared", "rejected", "accepted") else None
    if status == 399:
        return "cleared" if current not in RELEASED else None
    if status == 500:
        return "inspection" if current not in RELEASED else None  # inspection after clearance holds the order
    if status in (501, 502, 503, 599):
        return "detained" if current not in RELEASED else None
    return {700: "returned", 800: "released", 899: "closed"}.get(status)


def document_transition(current: str, status: int) -> str | None:
    """CEB304/404/506 and CEB312/412/512 (and CEB900's format errors): a refused order, payment or waybill fails
    the declaration before release."""
    if current in IN_CUSTOMS and current not in RELEASED and current != "cancel_requested" and is_refusal(status):
        return "rejected"
    return None


def transition(current: str, r: Receipt) -> str | None:
    if r.message in INVENTORY:
        return inventory_transition(current, r.status)
    if r.message in DOCUMENT or r.message == "CEB900Message":
        return document_transition(current, r.status)
    return None


def fingerprint(r: Receipt) -> str:
    data = json.dumps([r.message, r.status, r.return_time, r.info, sorted(r.keys.items())], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


# --- which order a receipt is about ---------------------------------------------------------------------------


async def _one(session: AsyncSession, stmt: Any) -> Any:
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def _declaration(session: AsyncSession, org_id: str, k: dict[str, str]) -> Declaration | None:
    if "copNo" in k:
        found = await _one(session, scoped(Declaration, org_id).where(Declaration.cop_no == k["copNo"]))
        if found is not None:
            return found  # type: ignore[no-any-return]
    if "invtNo" in k:
        return await _one(session, scoped(Declaration, org_id).where(Declaration.invt_no == k["invtNo"]))  # type: ignore[no-any-return]
    return None


async def target(session: AsyncSession, org_id: str, r: Receipt) -> tuple[Order | None, Any]:
    """The order a receipt is about and the record it answers (declaration, return or message), if ours."""
    k, m = r.keys, r.message
    if m in logistics_receipts.MESSAGES:  # arrival, departure, master bill: possibly many orders
        return await logistics_receipts.link(session, org_id, r)
    if m in ("CEB214Message", "CEB216Message"):  # an export return's answers
        export_return = await export_returns.export_return_by(session, org_id, r)
        return (await session.get(Order, export_return.order_id), export_return) if export_return else (None, None)
    if m in summaries.SUMMARY_RECEIPTS:  # the monthly summary's answers: summaries.py
        return None, await summaries.summary_of(session, org_id, r)
    if m in INVENTORY or m in WITHDRAWAL or m == "CEB816Message":
        declaration = await _declaration(session, org_id, k)
        if declaration is not None:
            return await session.get(Order, declaration.order_id), declaration
        if "orderNo" in k and m in INVENTORY:
            return await find_order(session, org_id, k["orderNo"], k.get("ebpCode")), None
        return None, None
    if m in RETURN and "copNo" in k:
        ret = await _one(session, scoped(CustomsReturn, org_id).where(CustomsReturn.cop_no == k["copNo"]))
        return (await session.get(Order, ret.order_id), ret) if ret else (None, None)
    if m == "CEB900Message" and "originalGuid" in k:
        message = await _one(session, scoped(CustomsMessage, org_id).where(CustomsMessage.guid == k["originalGuid"]))
        if message is None or message.order_id is None:
            return None, None
        return await session.get(Order, message.order_id), message
    if m in ("CEB304Message", "CEB312Message") and "orderNo" in k:
        return await find_order(session, org_id, k["orderNo"], k.get("ebpCode")), None
    if m == "CEB404Message" and "orderNo" in k:
        return await find_order(session, org_id, k["orderNo"], None), None
    if m == "CEB412Message" and "payTransactionId" in k:
        by_tx = (Payment.pay_code == k.get("payCode", ""), Payment.pay_transaction_id == k["payTransactionId"])
        payment = await _one(session, scoped(Payment, org_id).where(*by_tx))
        if payment is None:
            return None, None
        return await find_order(session, org_id, payment.order_no, payment.ebp_code), None
    if m in ("CEB506Message", "CEB512Message", "CEB514Message") and "logisticsNo" in k:
        by_no = (Waybill.logistics_code == k.get("logisticsCode", ""), Waybill.logistics_no == k["logisticsNo"])
        waybill = await _one(session, scoped(Waybill, org_id).where(*by_no))
        if waybill is None:
            return None, None
        return await find_order(session, org_id, waybill.order_no, waybill.ebp_code), None
    return None, None


# --- applying -------------------------------------------------------------------------------------------------


async def apply_receipts(session: AsyncSession, org_id: str, receipts: Sequence[Receipt]) -> list[bool]:
    """Keep each receipt (a repeat is skipped) and apply the new ones to their orders in returnTime order; True
    for each receipt that names an order of ours. The orders are locked (sorted) and re-read first."""
    targets = [await target(session, org_id, r) for r in receipts]
    orders = {o.id: o for o, _ in targets if o is not None}
    await lock_order_nos(session, org_id, (o.order_no for o in orders.values()))
    for locked in orders.values():
        await session.refresh(locked)
    ordered = sorted(zip(receipts, targets, strict=True), key=lambda pair: pair[0].return_time)
    for receipt, (order, record) in ordered:
        values = {
            "id": new_id(), "org_id": org_id, "message_type": receipt.message[:8], "status": receipt.status,
            "return_time": receipt.return_time, "info": receipt.info, "keys": receipt.keys,
            "order_id": order.id if order else None, "fingerprint": fingerprint(receipt), "created_at": utcnow(),
        }  # fmt: skip
        if not await insert_ignore(session, CustomsReceipt, values, ["org_id", "fingerprint"]):
            continue  # a repeat: already applied
        if isinstance(record, logistics_receipts.Link):
            await logistics_receipts.apply(session, org_id, record, receipt)
        elif order is not None:
            await _apply(session, order, record, receipt)
        elif isinstance(record, Summary):
            await summaries.apply_summary_receipt(session, record, receipt, str(values["id"]))
    await session.flush()
    return [order is not None or isinstance(record, Summary) for order, record in targets]


def _note(order: Order, r: Receipt) -> None:
    entry = {"message": r.message[:6], "status": r.status, "info": r.info, "time": r.time}
    if entry not in order.receipts:
        order.receipts = [*order.receipts, entry][-MAX_RECEIPTS:]


async def _acknowledge(session: AsyncSession, order: Order, r: Receipt, record: Any) -> None:
    if isinstance(record, CustomsMessage):
        message: CustomsMessage | None = record
    else:
        kind = ANSWERS.get(r.message)
        if kind is None:
            return
        stmt = scoped(CustomsMessage, order.org_id).where(
            CustomsMessage.order_id == order.id, CustomsMessage.message_type == kind
        )
        message = await _one(session, stmt.order_by(CustomsMessage.created_at.desc()))
    if message is not None and message.acknowledged_at is None:
        message.acknowledged_at = utcnow()
        if message.status in ("queued", "sent"):
            message.status = "acknowledged"


async def _apply(session: AsyncSession, order: Order, record: Any, r: Receipt) -> None:
    _note(order, r)
    await _acknowledge(session, order, r, record)
    if isinstance(record, Declaration):
        pre_no, invt_no = r.keys.get("preNo"), r.keys.get("invtNo")
        if (pre_no is not None and len(pre_no) > 20) or (invt_no is not None and len(invt_no) > 20):
            raise Unprocessable("preNo and invtNo are at most 20 characters", loc=["body"])
        record.pre_no = record.pre_no or pre_no
        if r.message in INVENTORY and not record.invt_no and invt_no:
            record.invt_no = r.keys.get("invtNo")
            await wake_numbered(session, order.org_id, record.id)  # a withdrawal waiting for the number goes now
    if r.message == "CEB816Message":
        tax.apply_bill(order, r)  # customs' own tax bill, compared per line and type (orders/tax.py)
        return
    if r.message in WITHDRAWAL:
        await _withdrawal_answer(session, order, record, r)
        return
    if r.message in RETURN and isinstance(record, CustomsReturn):
        await decide_return(session, order, record, r.status)
        return
    if isinstance(record, ExportReturn):
        await export_returns.apply_answer(session, order, record, r)
        return
    if r.message in INVENTORY and r.status in (800, 899):
        note_release(order, r.time, r.status)  # customs' release time, whatever order its receipts arrive in
    if order.customs_time and r.return_time and r.return_time < order.customs_time:
        return  # older than what already moved the order: kept, applied in its place in customs' sequence
    if await _earlier_round(session, record):
        return  # an answer to a message of a declaration since declared again (docs/redeclaration.md): kept only
    new = transition(order.state, r)
    if new is None:
        return
    order.customs_time = max(order.customs_time or "", r.return_time) or None
    if new == "rejected":
        # what customs said, shown on the order until it is declared again (the history keeps it after)
        order.refusal = {"message": r.message[:6], "status": r.status, "info": r.info, "time": r.time}
    if new != order.state:
        await change_state(session, order, OrderState(new))


async def _earlier_round(session: AsyncSession, record: Any) -> bool:
    """True when the receipt answers (CEB900, by its guid) a message of an earlier round of its declaration."""
    if not isinstance(record, CustomsMessage) or record.declaration_id is None:
        return False
    declaration = await session.get(Declaration, record.declaration_id)
    return declaration is not None and (record.round or 1) < declaration.round


async def _withdrawal_answer(session: AsyncSession, order: Order, declaration: Any, r: Receipt) -> None:
    """CEB606 / CEB624: 399 (or 120 then 399) withdraws the list: the order is cancelled; 100 refuses it."""
    if order.state != "cancel_requested":
        return
    if r.status == 399:
        await change_state(session, order, OrderState.CANCELLED)
    elif is_refusal(r.status):
        previous = declaration.cancel_from if isinstance(declaration, Declaration) else None
        await change_state(session, order, OrderState(previous or OrderState.DECLARED))
