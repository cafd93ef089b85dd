"""The export VAT-rebate summary chain: the month's summary application (CEB701), customs' answer to it (CEB702,
with the summary's number ``sumNo``) and the summary's result (CEB792, with ``declSeqNo`` and the customs
declaration's ``entryId``): the numbers the seller's VAT-rebate claim needs.

Storage: a summary is a record of its own (``summaries``, summary_models.py) whose id is its CEB701 message's id,
so ``/summaries/{id}/xml`` keeps serving the exact bytes sent; ``summary_lists`` links it to the inventory lists
and orders it holds. Customs' receipts are kept like every receipt (``customs_receipts``, by fingerprint) and
noted on the summary they answer (by their receipt id); a receipt naming no summary of ours is kept, unmatched.

What a summary holds: the organisation's statisticsFlag-B export lists of the month that customs released
(CEB604 800/899: the order ``released`` or ``closed``), each once: a list already held by a standing summary is
left out, while the lists of a refused summary (CEB702 100, 4 or below 0) may be summarised again. The lists go
in the message body, with no time range: with one, customs ignores the body and takes every list of the range."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs import declarations as build
from services.compliance.customs.built import store_built
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.messages import Receipt, is_refusal
from services.compliance.customs.models import CustomsMessage
from services.compliance.order_states import RELEASED
from services.compliance.orders.declaration import cop_no, new_guid, parties, prepare, profile_of
from services.compliance.orders.models import Declaration, Order
from services.compliance.orders.profiles import declared_under
from services.compliance.orders.schemas import SummaryOut
from services.compliance.orders.summary_models import Summary, SummaryList
from services.compliance.orders.summary_schemas import (
    OrderSummaryOut,
    SummaryDetailOut,
    SummaryHeadOut,
    SummaryListOut,
    SummaryReceiptOut,
    SummaryTotalOut,
)
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile
from shared.db import get_scoped, new_id, scoped, utcnow
from shared.errors import Conflict, NotFound, Unprocessable
from shared.pagination import PageParams, paginate

CHINA = build.CHINA
#: the lists one summary holds at most; a month with more is summarised again for the rest
MAX_LISTS = 1000
SUMMARY_RECEIPTS = ("CEB702Message", "CEB792Message")
#: customs' answers a summary keeps (the latest; every one stays in customs_receipts)
MAX_RECEIPTS = 50
#: how far a summary has come; an older answer arriving later never moves it back
_RANK = {"declared": 0, "accepted": 1, "summarised": 2}
#: customs' numbers a receipt carries → the summary's field (all at most 18 characters in the XSD)
_NUMBERS = {
    "preNo": "pre_no", "sumNo": "sum_no", "declSeqNo": "decl_seq_no", "decTmpNo": "dec_tmp_no",
    "decPreNo": "dec_pre_no", "entryId": "entry_id", "decState": "dec_state",
    "grossWeight": "gross_weight", "netWeight": "net_weight",
}  # fmt: skip
_LIMITS = {"dec_state": 3, "gross_weight": 30, "net_weight": 30}


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``2026-11`` → its first moment and the next month's first, in China time (customs' calendar)."""
    start = datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=CHINA)
    return start, (start + timedelta(days=32)).replace(day=1)


async def summarisable(
    session: AsyncSession, org_id: str, profile: CustomsProfile, month: str, limit: int = MAX_LISTS
) -> list[Declaration]:
    """The month's lists a new summary takes: statisticsFlag B export lists of the organisation's customs
    ``profile`` (one per organisation today: a per-profile filter goes here), numbered and released by customs,
    the order's current declaration, and held by no standing summary; oldest first."""
    start, following = month_bounds(month)
    held = select(SummaryList.declaration_id).where(SummaryList.org_id == org_id, SummaryList.active.is_(True))
    stmt = (
        scoped(Declaration, org_id)
        .join(Order, Order.id == Declaration.order_id)
        .where(
            Order.org_id == org_id,
            Order.declaration_id == Declaration.id,
            Order.trade_direction == "export",
            Order.state.in_(RELEASED),
            Declaration.message_type == "CEB603",
            Declaration.statistics_flag == "B",
            Declaration.invt_no.is_not(None),
            Declaration.declared_at >= start,
            Declaration.declared_at < following,
            Declaration.id.not_in(held),
        )
    )
    return list((await session.execute(stmt.order_by(Declaration.declared_at, Declaration.id).limit(limit))).scalars())


async def _lock_summaries(session: AsyncSession, org_id: str) -> None:
    """One summary is made at a time per organisation (two at once would take the same lists). PostgreSQL: a
    transaction-level advisory lock. SQLite has one writer at a time but lets two read first: there the unique key
    of ``summary_lists`` turns the second away (:func:`summarise`)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"xbm-summary\x00{org_id}".encode()).digest()[:8], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def summarise(session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, month: str) -> SummaryOut:
    """CEB701 for the month's released statisticsFlag-B lists not summarised yet (see the module's docstring)."""
    profile = await profile_of(session, org_id)
    if profile is None:
        raise Conflict("no customs profile yet; PUT /v1/compliance/customs-profile first")
    await _lock_summaries(session, org_id)
    found = await summarisable(session, org_id, profile, month)
    if not found:
        raise Conflict(
            f"no statisticsFlag B export list of {month} released by customs is left to summarise (lists already in "
            "a summary customs has not refused are summarised once)"
        )
    # one message is sent under one customs profile: the oldest list's, the other profiles' lists wait for the
    # next summary of the month
    profile = await declared_under(session, found[0], org_id) or profile
    found = [d for d in found if (d.profile_id or profile.id) == profile.id]
    invt_nos = [d.invt_no for d in found if d.invt_no]
    guid, number = new_guid(), cop_no()
    tree = build.summary_xml(build.Envelope(guid, number, utcnow()), parties(profile), invt_nos)
    message = await store_built(session, ctx, pii, tree, org_id=org_id, message_type="CEB701", guid=guid,
                                reason=month, profile_id=profile.id)  # fmt: skip
    now = utcnow()
    session.add(Summary(id=message.id, org_id=org_id, month=month, guid=guid, cop_no=number, status="declared",
                        inventories=len(invt_nos), receipts=[], created_at=now, updated_at=now))  # fmt: skip
    for d in found:
        session.add(SummaryList(id=new_id(), org_id=org_id, summary_id=message.id, declaration_id=d.id,
                                order_id=d.order_id, invt_no=d.invt_no, active=True))  # fmt: skip
    try:
        await session.flush()
    except IntegrityError as exc:  # SQLite: another summary took one of these lists between our read and write
        raise Conflict(f"another summary of {month} was being made at the same time; ask again") from exc
    return SummaryOut(
        id=message.id, month=month, guid=guid, cop_no=number, inventories=len(invt_nos),
        signed=message.signed, validated=message.validated, status="declared",
    )  # fmt: skip


async def summary_message(session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, summary_id: str) -> bytes:
    message = await get_scoped(session, CustomsMessage, summary_id, org_id)
    if message.message_type != "CEB701":
        raise NotFound(f"summary {summary_id} not found")
    return await prepare(session, ctx, pii, message)


# --- customs' answers ------------------------------------------------------------------------------------------


async def _first(session: AsyncSession, stmt: Any) -> Summary | None:
    return (await session.execute(stmt.order_by(Summary.created_at.desc()).limit(1))).scalar_one_or_none()  # type: ignore[no-any-return]


async def summary_of(session: AsyncSession, org_id: str, r: Receipt) -> Summary | None:
    """The summary a CEB702 (by copNo, else guid) or CEB792 (by sumNo, else guid) answers; None when not ours."""
    k = r.keys
    found = None
    if r.message == "CEB702Message" and k.get("copNo"):
        found = await _first(session, scoped(Summary, org_id).where(Summary.cop_no == k["copNo"]))
    if found is None and r.message == "CEB792Message" and k.get("sumNo"):
        found = await _first(session, scoped(Summary, org_id).where(Summary.sum_no == k["sumNo"]))
    if found is None and k.get("guid"):
        found = await _first(session, scoped(Summary, org_id).where(Summary.guid == k["guid"].upper()))
    if found is not None:  # answers are applied one at a time: the summary is locked (PostgreSQL) and re-read
        stmt = select(Summary).where(Summary.id == found.id).with_for_update().execution_options(populate_existing=True)
        found = (await session.execute(stmt)).scalar_one()
    return found


async def apply_summary_receipt(session: AsyncSession, summary: Summary, r: Receipt, receipt_id: str) -> None:
    """Note customs' answer on the summary, take its numbers, and move the summary: CEB702 399 accepted,
    a refusal (100, 4, below 0) refused (its lists are freed), CEB792 summarised. A refused summary only notes,
    and so does an answer older (customs' returnTime) than the one that last moved it."""
    entry = {"message": r.message[:6], "status": r.status, "info": r.info, "time": r.time,
             "return_time": r.return_time, "receipt_id": receipt_id, "dec_state": r.keys.get("decState")}  # fmt: skip
    summary.receipts = sorted([*summary.receipts, entry], key=lambda e: e["return_time"])[-MAX_RECEIPTS:]
    summary.updated_at = utcnow()
    message = await session.get(CustomsMessage, summary.id)
    if message is not None and message.acknowledged_at is None:
        message.acknowledged_at = utcnow()
        if message.status in ("queued", "sent"):
            message.status = "acknowledged"
    if summary.status == "refused":
        return
    if summary.customs_time and r.return_time and r.return_time < summary.customs_time:
        return  # older than the answer that last moved it: kept and noted, moves nothing
    summary.customs_time = max(summary.customs_time or "", r.return_time) or None
    for key, field in _NUMBERS.items():
        value = r.keys.get(key)
        if value:
            if len(value) > _LIMITS.get(field, 20):
                raise Unprocessable(
                    f"{r.message[:6]} {key} {value[:40]!r} is longer than customs writes it", loc=["body"]
                )
            setattr(summary, field, value)
    if r.message == "CEB702Message" and is_refusal(r.status):
        summary.status = "refused"
        summary.refusal = {"message": r.message[:6], "status": r.status, "info": r.info, "time": r.time}
        free = update(SummaryList).where(SummaryList.summary_id == summary.id).values(active=None)
        await session.execute(free.execution_options(synchronize_session=False))
        return
    new = "summarised" if r.message == "CEB792Message" else "accepted" if r.status == 399 else summary.status
    if _RANK[new] > _RANK[summary.status]:
        summary.status = new


# --- what the seller reads -------------------------------------------------------------------------------------


def _head(summary: Summary) -> dict[str, Any]:
    return {c.key: getattr(summary, c.key) for c in Summary.__table__.columns if c.key not in ("org_id", "receipts")}


async def summary_page(
    session: AsyncSession, org_id: str, page: PageParams, month: str | None, status: str | None
) -> tuple[list[SummaryHeadOut], str | None]:
    stmt = scoped(Summary, org_id)
    if month is not None:
        stmt = stmt.where(Summary.month == month)
    if status is not None:
        stmt = stmt.where(Summary.status == status)
    rows, cursor = await paginate(session, stmt, Summary, page)
    return [SummaryHeadOut.model_validate(_head(s)) for s in rows], cursor


async def summary_detail(session: AsyncSession, org_id: str, summary_id: str) -> SummaryDetailOut:
    summary = await get_scoped(session, Summary, summary_id, org_id)
    stmt = (
        select(SummaryList, Order)
        .outerjoin(Order, Order.id == SummaryList.order_id)
        .where(SummaryList.org_id == org_id, SummaryList.summary_id == summary.id)
        .order_by(SummaryList.invt_no)
    )
    lists: list[SummaryListOut] = []
    totals: dict[str, tuple[int, Decimal]] = {}
    for listed, order in (await session.execute(stmt)).all():
        lists.append(SummaryListOut(
            invt_no=listed.invt_no, declaration_id=listed.declaration_id,
            ebp_code=order.ebp_code if order else None, order_no=order.order_no if order else None,
            state=order.state if order else None, actual_paid=order.actual_paid if order else None,
            currency=order.currency if order else None,
        ))  # fmt: skip
        if order is not None:
            count, paid = totals.get(order.currency, (0, Decimal(0)))
            totals[order.currency] = (count + 1, paid + order.actual_paid)
    return SummaryDetailOut.model_validate({
        **_head(summary), "lists": lists,
        "totals": [SummaryTotalOut(currency=c, orders=n, actual_paid=p) for c, (n, p) in sorted(totals.items())],
        "receipts": [SummaryReceiptOut.model_validate(e) for e in summary.receipts],
    })  # fmt: skip


async def order_summary(session: AsyncSession, order: Order) -> OrderSummaryOut | None:
    """The summary holding the order's list: the standing one, else the latest refused."""
    stmt = (
        select(Summary, SummaryList.active)
        .join(SummaryList, SummaryList.summary_id == Summary.id)
        .where(SummaryList.org_id == order.org_id, SummaryList.order_id == order.id)
    )
    rows: Sequence[Any] = (await session.execute(stmt)).all()
    if not rows:
        return None
    summary, _ = max(rows, key=lambda row: (row[1] is True, row[0].created_at))
    return OrderSummaryOut.model_validate(summary)
