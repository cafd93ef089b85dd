"""Read models: an order with its documents, the exceptions list, the daily report, the quota.

Over 400 lines on purpose: the order's view and the exceptions queue are assembled from the same loaded rows
and remedies, each part a short function; split, each would load the rows again."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.models import CustomsMessage, CustomsReceipt
from services.compliance.customs.waiting import ACTIONS, OPEN
from services.compliance.deliveries import UNREADABLE, PlatformDelivery
from services.compliance.items.models import ItemRecord
from services.compliance.order_states import NEEDS_ATTENTION as ATTENTION
from services.compliance.order_states import STATE_RANK
from services.compliance.order_states import OrderState as S
from services.compliance.orders import broker, logistics_receipts, remedies, routing, rules
from services.compliance.orders.declaration import messages_of
from services.compliance.orders.lookup import payment_for, waybill_for
from services.compliance.orders.models import NEEDS_ATTENTION, Declaration, MatchKey, Order, Payment, Waybill
from services.compliance.orders.profiles import awaiting, pick, profiles_of
from services.compliance.orders.quota import quota_used
from services.compliance.orders.schemas import (
    CheckOut,
    CustomsMessageOut,
    DailyReport,
    DeclarationRoundOut,
    Documents,
    ExceptionOut,
    FailedMessageOut,
    MessageFailure,
    OrderOut,
    OrphanOut,
    QuotaOut,
    ReceiptOut,
    RefusalOut,
    UnreadableOut,
)
from services.compliance.orders.summaries import order_summary
from services.compliance.pii import mask
from services.compliance.setup.models import PaymentInstitution
from shared.db import scoped
from shared.pagination import PageParams, paginate

MAX_ORPHANS = 100


def order_out(
    order: Order,
    payment: Payment | None,
    waybill: Waybill | None,
    quota: QuotaOut | None,
    messages: list[CustomsMessage] | None = None,
    declarations: list[DeclarationRoundOut] | None = None,
) -> OrderOut:
    return OrderOut(
        id=order.id,
        ebp_code=order.ebp_code,
        order_no=order.order_no,
        state=order.state,
        trade_direction=order.trade_direction,
        utm_campaign=order.utm_campaign,
        documents=Documents(
            order=order.document,
            payment=payment.document if payment else None,
            waybill=waybill.document if waybill else None,
        ),
        checks=[CheckOut.model_validate(c) for c in order.checks or []],
        tax=order.tax,
        dutiable_value=order.dutiable_value,
        quota=quota,
        declaration_id=order.declaration_id,
        receipts=order.receipts or [],
        customs_tax=order.customs_tax,
        messages=[message_out(m) for m in messages or []],
        created_at=order.created_at,
        state_changed_at=order.state_changed_at,
        released_at=order.released_at,
        test=bool(order.test),
        missing=order.held or [],
        changed_after_declaration=bool(order.changed_after_declaration),
        later_version=order.later_version,
        platform_refunds=order.platform_refunds or [],
        refusal=RefusalOut.model_validate(order.refusal) if order.refusal and order.state == "rejected" else None,
        declarations=declarations or [],
        customs_released_at=order.customs_released_at,
    )


def failure_out(m: CustomsMessage) -> MessageFailure | None:
    if m.failure_cause is None or m.status not in OPEN:
        return None
    return MessageFailure(
        cause=m.failure_cause,  # type: ignore[arg-type]
        reason=m.failure_reason or "",
        retry_at=m.next_attempt_at,
        attempts=m.attempts or 0,
        since=m.failing_since,
        action=ACTIONS.get(m.failure_cause, ACTIONS["error"]),
    )


def message_out(m: CustomsMessage) -> CustomsMessageOut:
    out = CustomsMessageOut.model_validate(m)
    out.failure = failure_out(m)
    return out


async def failed_messages(session: AsyncSession, org_id: str) -> list[FailedMessageOut]:
    """The organisation's failed messages to customs, oldest failure first."""
    stmt = (
        select(CustomsMessage, Order.ebp_code, Order.order_no)
        .outerjoin(Order, Order.id == CustomsMessage.order_id)
        .where(CustomsMessage.org_id == org_id, CustomsMessage.status == "failed")
        .order_by(CustomsMessage.failing_since, CustomsMessage.id)
        .limit(MAX_ORPHANS)
    )
    out = []
    for m, ebp_code, order_no in (await session.execute(stmt)).all():
        failure = failure_out(m)
        if failure is not None:
            out.append(FailedMessageOut(ebp_code=ebp_code, order_no=order_no, declaration_id=m.declaration_id,
                                        message_type=m.message_type, guid=m.guid, failure=failure))  # fmt: skip
    return out


def quota_out(masked_id: str, year: int, used: Decimal) -> QuotaOut:
    limit = rules.limits_for(year).annual
    return QuotaOut(
        buyer_id_number=masked_id, year=year, limit=limit, used=used, remaining=max(limit - used, Decimal(0))
    )


async def buyer_quota(session: AsyncSession, org_id: str, id_hash: str, masked_id: str, year: int) -> QuotaOut:
    return quota_out(masked_id, year, await quota_used(session, org_id, id_hash, year))


async def order_view(session: AsyncSession, order: Order) -> OrderOut:
    quota = None
    masked_id = order.document["buyer"].get("id_number")
    if order.trade_direction == "import" and masked_id and order.buyer_id_hash:  # quota: an import rule
        quota = await buyer_quota(session, order.org_id, order.buyer_id_hash, masked_id, order.quota_year)
    payment, waybill = await payment_for(session, order), await waybill_for(session, order)
    messages = await messages_of(session, order)
    out = order_out(order, payment, waybill, quota, messages, await declaration_history(session, order, messages))
    out.logistics_events = await logistics_receipts.order_events(session, order)
    if order.trade_direction == "export":
        out.summary = await order_summary(session, order)
    out.awaiting_profile = await awaiting(session, order)
    return await broker.with_route(session, order, out)


async def declaration_history(
    session: AsyncSession, order: Order, messages: list[CustomsMessage]
) -> list[DeclarationRoundOut]:
    """Each declaration round with the messages it sent and the receipts received while it was the latest."""
    declaration = await session.get(Declaration, order.declaration_id) if order.declaration_id else None
    if declaration is None:
        return []
    stmt = select(CustomsReceipt).where(CustomsReceipt.org_id == order.org_id, CustomsReceipt.order_id == order.id)
    receipts = list((await session.execute(stmt.order_by(CustomsReceipt.created_at, CustomsReceipt.id))).scalars())
    rounds: dict[int, list[CustomsMessage]] = {}
    for message in messages:
        if message.declaration_id == declaration.id:
            rounds.setdefault(message.round or 1, []).append(message)
    starts = sorted((min(m.created_at for m in sent), n) for n, sent in rounds.items())
    out = []
    for i, (start, n) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else None
        sent = rounds[n]
        listed = next((m for m in sent if m.message_type == declaration.message_type), sent[0])
        answered = [r for r in receipts if r.created_at >= start and (end is None or r.created_at < end)]
        if i == 0:  # receipts kept before the first message (none, but a clock step must not lose one)
            answered = [r for r in receipts if end is None or r.created_at < end]
        out.append(
            DeclarationRoundOut(
                round=n, cop_no=declaration.cop_no, guid=listed.guid, app_type=listed.app_type or "1",
                declared_at=start, messages=[CustomsMessageOut.model_validate(m) for m in sent],
                receipts=[ReceiptOut(message=r.message_type[:6], status=r.status, info=r.info,
                                     return_time=r.return_time) for r in answered],
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class OrderFilters:
    state: str | None = None
    trade_direction: str | None = None
    received_from: date | None = None
    received_to: date | None = None


async def order_page(
    session: AsyncSession, org_id: str, page: PageParams, filters: OrderFilters
) -> tuple[list[OrderOut], str | None]:
    stmt = scoped(Order, org_id)
    if filters.state is not None:
        stmt = stmt.where(Order.state == filters.state)
    if filters.trade_direction is not None:
        stmt = stmt.where(Order.trade_direction == filters.trade_direction)
    if filters.received_from is not None:
        stmt = stmt.where(Order.created_at >= datetime.combine(filters.received_from, time(), UTC))
    if filters.received_to is not None:
        stmt = stmt.where(Order.created_at < datetime.combine(filters.received_to + timedelta(days=1), time(), UTC))
    orders, cursor = await paginate(session, stmt, Order, page)
    numbers = [o.order_no for o in orders]
    payments: dict[tuple[str, str], Payment] = {}
    waybills: dict[str, Waybill] = {}
    if numbers:
        for p in (await session.execute(scoped(Payment, org_id).where(Payment.order_no.in_(numbers)))).scalars():
            payments.setdefault((p.ebp_code, p.order_no), p)
        for w in (await session.execute(scoped(Waybill, org_id).where(Waybill.order_no.in_(numbers)))).scalars():
            waybills.setdefault(w.order_no, w)
    out = [order_out(o, payments.get((o.ebp_code, o.order_no)), waybills.get(o.order_no), None) for o in orders]
    return out, cursor


async def exceptions_page(
    session: AsyncSession, org_id: str, page: PageParams, waiting_hours: float, rule: str | None = None
) -> tuple[list[ExceptionOut], str | None, list[OrphanOut]]:
    cutoff = datetime.now(UTC) - timedelta(hours=waiting_hours)
    stmt = scoped(Order, org_id).where(
        NEEDS_ATTENTION,  # read through its partial index (models.py)
        or_(
            Order.state.in_([s for s in ATTENTION if s != S.AWAITING_DOCUMENTS]),
            Order.changed_after_declaration.is_(True),
            and_(Order.state == S.AWAITING_DOCUMENTS, Order.created_at < cutoff),
        ),
    )
    if rule is not None:
        # failing_rules is the comma-joined list; match the whole name (rule names are [a-z0-9_])
        listed = "," + Order.failing_rules + ","
        stmt = stmt.where(Order.state == "mismatch", listed.like(f"%,{rule},%"))
    orders, cursor = await paginate(session, stmt, Order, page)
    numbers = [o.order_no for o in orders if o.state == "awaiting_documents"]
    paid: set[tuple[str, str]] = set()
    shipped: set[str] = set()
    if numbers:
        rows = await session.execute(
            select(Payment.ebp_code, Payment.order_no).where(Payment.org_id == org_id, Payment.order_no.in_(numbers))
        )
        paid = {(e, n) for e, n in rows}
        rows2 = await session.execute(
            select(Waybill.order_no).where(Waybill.org_id == org_id, Waybill.order_no.in_(numbers))
        )
        shipped = {n for (n,) in rows2}
    setups = await _setups(session, org_id, [o for o in orders if o.state == "mismatch"])
    routes = await broker.routes_of(session, org_id, [o.id for o in orders if o.state == routing.HELD])
    profiles = await profiles_of(session, org_id) if any(o.state == "matched" for o in orders) else []
    items = []
    for o in orders:
        if o.state == routing.HELD:
            items.append(broker.exception_of(o, routes.get(o.id)))
        elif o.state == "rejected":
            cause, actions = remedies.rejected(o)
            items.append(ExceptionOut(ebp_code=o.ebp_code, order_no=o.order_no, state=o.state, reason="rejected",
                                      failing_rules=[], missing=[], since=o.state_changed_at, cause=cause,
                                      actions=actions))  # fmt: skip
        elif o.state == "matched":  # compared and passed, but no customs profile declares it
            items.append(remedies.awaiting_profile(o, pick(profiles, o.trade_direction, o.document).missing))
        elif o.state == "incomplete" or o.changed_after_declaration:
            items.append(held_exception(o))
        elif o.state == "mismatch":
            cause, actions = remedies.mismatch(o, setups.get(o.id, remedies.Setup()))
            items.append(ExceptionOut(ebp_code=o.ebp_code, order_no=o.order_no, state=o.state, reason="mismatch",
                                      failing_rules=(o.failing_rules or "").split(",") if o.failing_rules else [],
                                      missing=[], since=o.state_changed_at, cause=cause,
                                      actions=actions))  # fmt: skip
        else:
            missing = [k for k, here in (("payment", (o.ebp_code, o.order_no) in paid),
                                         ("waybill", o.order_no in shipped)) if not here]  # fmt: skip
            cause, actions = remedies.missing_documents(o, missing)
            items.append(ExceptionOut(ebp_code=o.ebp_code, order_no=o.order_no, state=o.state,
                                      reason="missing_documents", failing_rules=[], missing=missing,
                                      since=o.created_at, cause=cause, actions=actions))  # fmt: skip
    orphans = await _orphans(session, org_id, cutoff) if page.cursor is None else []
    return items, cursor, orphans


def held_exception(o: Order) -> ExceptionOut:
    """An incomplete order names the fields it waits for; a declared one that changed since names what its
    declaration no longer says."""
    if o.state == "incomplete":
        missing = [h["field"] for h in o.held or []]
        cause, actions = remedies.incomplete(o, missing)
        return ExceptionOut(ebp_code=o.ebp_code, order_no=o.order_no, state=o.state, reason="incomplete",
                            failing_rules=[], missing=missing, since=o.state_changed_at, cause=cause,
                            actions=actions)  # fmt: skip
    later = o.later_version or {}
    changed = list(later.get("changed", []))
    cause, actions = remedies.changed_after_declaration(o, changed)
    return ExceptionOut(ebp_code=o.ebp_code, order_no=o.order_no, state=o.state, reason="changed_after_declaration",
                        failing_rules=[], missing=changed, since=o.updated_at, cause=cause,
                        actions=actions)  # fmt: skip


async def _setups(session: AsyncSession, org_id: str, orders: list[Order]) -> dict[str, remedies.Setup]:
    """For the mismatched orders of a page: the items with no record and the payment's institution (a query
    each for the page, not per order)."""
    setup_rules = ("item_records", "payment_institution")
    wanted = {o.id: o for o in orders if any(r in (o.failing_rules or "") for r in setup_rules)}
    if not wanted:
        return {}
    item_nos = {str(i.get("item_no")) for o in wanted.values() for i in o.document.get("items") or []
                if isinstance(i, dict)}  # fmt: skip
    recorded = set(
        (await session.execute(select(ItemRecord.item_no).where(ItemRecord.org_id == org_id,
                                                                ItemRecord.item_no.in_(item_nos)))).scalars()
    )  # fmt: skip
    numbers = {o.order_no for o in wanted.values()}
    rows = await session.execute(
        select(Payment.ebp_code, Payment.order_no, Payment.pay_code).where(
            Payment.org_id == org_id, Payment.order_no.in_(numbers)
        )
    )
    pay_codes = {(e, n): p for e, n, p in rows}
    institutions = {
        p: i
        for p, i in await session.execute(
            select(PaymentInstitution.pay_code, PaymentInstitution.id).where(
                PaymentInstitution.org_id == org_id, PaymentInstitution.pay_code.in_(set(pay_codes.values()))
            )
        )
    }
    out = {}
    for o in wanted.values():
        items = [str(i.get("item_no")) for i in o.document.get("items") or [] if isinstance(i, dict)]
        pay_code = pay_codes.get((o.ebp_code, o.order_no))
        out[o.id] = remedies.Setup(
            missing_items=sorted({n for n in items if n not in recorded}),
            pay_code=pay_code,
            institution_id=institutions.get(pay_code) if pay_code else None,
        )
    return out


async def unreadable_deliveries(session: AsyncSession, org_id: str) -> list[UnreadableOut]:
    stmt = (
        scoped(PlatformDelivery, org_id)
        .where(PlatformDelivery.outcome.in_(UNREADABLE))
        .order_by(PlatformDelivery.received_at.desc())
        .limit(MAX_ORPHANS)
    )
    return [
        UnreadableOut(delivery_id=d.id, source_id=d.source_id, topic=d.topic, outcome=d.outcome, detail=d.detail,
                      since=d.received_at)
        for d in (await session.execute(stmt)).scalars()
    ]  # fmt: skip


async def _orphans(session: AsyncSession, org_id: str, cutoff: datetime) -> list[OrphanOut]:
    """Payments and waybills that have waited past ``cutoff`` with no order. They are looked for only under the
    numbers whose match key has no order, or documents of several platforms (``locks.py``): a handful, however
    many orders are stored; the exact test (same platform and number for a payment) runs on those alone."""
    unpaired = or_(MatchKey.has_order.is_(False), MatchKey.mixed.is_(True))
    candidates = select(MatchKey.order_no).where(MatchKey.org_id == org_id, unpaired)
    no_order_p = ~exists().where(
        Order.org_id == Payment.org_id, Order.ebp_code == Payment.ebp_code, Order.order_no == Payment.order_no
    )
    payments = await session.execute(
        scoped(Payment, org_id)
        .where(Payment.order_no.in_(candidates), Payment.created_at < cutoff, no_order_p)
        .limit(MAX_ORPHANS)
    )
    no_order_w = ~exists().where(Order.org_id == Waybill.org_id, Order.order_no == Waybill.order_no)
    numbers_alone = candidates.where(MatchKey.has_order.is_(False))  # a waybill's order is any of its number
    waybills = await session.execute(
        scoped(Waybill, org_id)
        .where(Waybill.order_no.in_(numbers_alone), Waybill.created_at < cutoff, no_order_w)
        .limit(MAX_ORPHANS)
    )
    out = [
        OrphanOut(kind="payment", key=f"{p.pay_code}/{p.pay_transaction_id}", order_no=p.order_no,
                  ebp_code=p.ebp_code, since=p.created_at)
        for p in payments.scalars()
    ]  # fmt: skip
    out += [
        OrphanOut(kind="waybill", key=f"{w.logistics_code}/{w.logistics_no}", order_no=w.order_no,
                  ebp_code=w.ebp_code, since=w.created_at)
        for w in waybills.scalars()
    ]  # fmt: skip
    return out


async def daily_report(session: AsyncSession, org_id: str, day: date) -> DailyReport:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    window = (Order.org_id == org_id, Order.created_at >= start, Order.created_at < start + timedelta(days=1))
    rows = await session.execute(select(Order.state, func.count()).where(*window).group_by(Order.state))
    counts = {state: int(n) for state, n in rows}
    total = sum(counts.values())
    compared = sum(n for s, n in counts.items() if s not in (S.AWAITING_DOCUMENTS, S.INCOMPLETE))
    passed = sum(n for s, n in counts.items() if STATE_RANK[S(s)] >= STATE_RANK[S.MATCHED])
    rate = (Decimal(passed) / Decimal(compared)).quantize(Decimal("0.0001")) if compared else None
    failing = await session.execute(
        select(Order.failing_rules).where(*window, Order.failing_rules.is_not(None)).limit(10_000)
    )
    tally: Counter[str] = Counter()
    for (text,) in failing:
        tally.update((text or "").split(","))
    top = [{"rule": rule, "count": n} for rule, n in tally.most_common(10)]
    return DailyReport(
        date=day.isoformat(), counts_by_state=counts, total=total, match_rate=rate, top_failing_rules=top
    )


def masked(id_number: str) -> str:
    return mask(id_number)
