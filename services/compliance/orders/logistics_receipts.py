"""Customs' answers about goods on the move, linked to the orders they concern (docs/returns.md, Logistics
receipts): CEB508 (the goods arrived at the supervised site) and CEB510 (they left) answer the site's or the
logistics company's CEB507 / CEB509 and name only that message's copNo (and, for an arrival, the bill): XBM keeps
which waybills each CEB507 / CEB509 listed when a copy reaches it, and links an answer to the orders of those
waybills, or of the master bills of that bill. CEB608 answers XBM's own CEB607 (the master bill) by its copNo.
An answer whose orders are not known yet waits, and is linked when the listing arrives."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.messages import Receipt
from services.compliance.customs.xmlsafe import children, fields, head, local
from services.compliance.orders.logistics_models import LogisticsEvent, LogisticsManifest, MasterBill, MasterBillOrder
from services.compliance.orders.lookup import find_order
from services.compliance.orders.models import Order, Waybill
from services.compliance.orders.returns_schemas import LogisticsEventOut, MasterBillListOut, MasterBillView
from services.compliance.orders.schemas import MasterBillIn
from shared.db import get_scoped, insert_ignore, new_id, scoped, utcnow

#: the answers linked here, and what each tells
MESSAGES = {"CEB508Message": "arrival", "CEB510Message": "departure", "CEB608Message": "master_bill"}
#: the listings whose copNo the arrival and departure answers name
MANIFESTS = {"CEB507Message": ("arrival", "Arrival"), "CEB509Message": ("departure", "Departure")}
#: the events an order's view shows (the latest)
MAX_EVENTS = 50


@dataclass
class Link:
    """The orders (and master bill) a logistics answer concerns."""

    kind: str
    order_ids: list[str] = field(default_factory=list)
    master_bill_id: str | None = None


async def _orders_of_waybills(session: AsyncSession, org_id: str, code: str, numbers: list[str]) -> list[Order]:
    if not numbers:
        return []
    stmt = scoped(Waybill, org_id).where(Waybill.logistics_code == code, Waybill.logistics_no.in_(numbers))
    out = []
    for waybill in (await session.execute(stmt)).scalars():
        order = await find_order(session, org_id, waybill.order_no, waybill.ebp_code)
        if order is not None and order not in out:
            out.append(order)
    return out


async def _orders_of_bills(session: AsyncSession, bill_ids: list[str]) -> list[str]:
    if not bill_ids:
        return []
    stmt = select(MasterBillOrder.order_id).where(MasterBillOrder.master_bill_id.in_(bill_ids))
    return list(dict.fromkeys((await session.execute(stmt)).scalars()))


async def link(session: AsyncSession, org_id: str, r: Receipt) -> tuple[Order | None, Link]:
    """The orders a CEB508 / CEB510 / CEB608 concerns, and the first of them (the receipt is kept under it)."""
    kind, k = MESSAGES[r.message], r.keys
    found = Link(kind)
    cop_no, code = k.get("copNo", ""), k.get("logisticsCode", "")
    if kind == "master_bill":
        by_cop = scoped(MasterBill, org_id).where(MasterBill.cop_no == cop_no)
        bill = (await session.execute(by_cop.limit(1))).scalar_one_or_none()
        if bill is not None:
            found.master_bill_id = bill.id
            found.order_ids = await _orders_of_bills(session, [bill.id])
    else:
        stmt = scoped(LogisticsManifest, org_id).where(
            LogisticsManifest.kind == kind, LogisticsManifest.cop_no == cop_no, LogisticsManifest.logistics_code == code
        )
        manifest = (await session.execute(stmt.limit(1))).scalar_one_or_none()
        if manifest is not None:
            orders = await _orders_of_waybills(session, org_id, code, [str(n) for n in manifest.logistics_nos])
            found.order_ids = [o.id for o in orders]
        if k.get("billNo"):
            bills = scoped(MasterBill, org_id).where(MasterBill.bill_no == k["billNo"])
            ids = [b.id for b in (await session.execute(bills)).scalars()]
            found.order_ids = list(dict.fromkeys([*found.order_ids, *await _orders_of_bills(session, ids)]))
    first = await session.get(Order, found.order_ids[0]) if found.order_ids else None
    return first, found


def _event(org_id: str, found: Link, r: Receipt, order_id: str | None) -> LogisticsEvent:
    return LogisticsEvent(
        id=new_id(), org_id=org_id, order_id=order_id, master_bill_id=found.master_bill_id, kind=found.kind,
        cop_no=r.keys.get("copNo", "")[:30], logistics_code=r.keys.get("logisticsCode", "")[:18] or None,
        status=r.status, return_time=r.return_time, time=r.time, note=r.info[:1000], created_at=utcnow(),
    )  # fmt: skip


async def apply(session: AsyncSession, org_id: str, found: Link, r: Receipt) -> None:
    """Keep the answer for each order it concerns (a master bill's answer once, under the bill); one that
    concerns no known order waits under its copNo."""
    if found.kind == "master_bill" and found.master_bill_id is not None:
        session.add(_event(org_id, found, r, None))
        return
    for order_id in found.order_ids or [None]:  # type: ignore[list-item]
        session.add(_event(org_id, found, r, order_id))


async def record_manifest(session: AsyncSession, org_id: str, root: Element) -> None:
    """A copy of a CEB507 (arrival) or CEB509 (departure): keep which waybills it listed, then link the answers
    that waited for it."""
    kind, node = MANIFESTS[local(root.tag)]
    for element in children(root, node):
        h = fields(head(element, f"{node}Head"))
        cop_no, code = h.get("copNo", "")[:30], h.get("logisticsCode", "")[:18]
        if not cop_no or not code:
            continue
        numbers = [n for line in children(element, f"{node}List") if (n := fields(line).get("logisticsNo"))]
        values = {
            "id": new_id(), "org_id": org_id, "kind": kind, "cop_no": cop_no, "logistics_code": code,
            "bill_no": (h.get("billNo") or "")[:37] or None, "logistics_nos": numbers[:10000], "created_at": utcnow(),
        }  # fmt: skip
        if not await insert_ignore(session, LogisticsManifest, values, ["org_id", "kind", "logistics_code", "cop_no"]):
            continue
        orders = await _orders_of_waybills(session, org_id, code, numbers)
        waiting = scoped(LogisticsEvent, org_id).where(
            LogisticsEvent.kind == kind, LogisticsEvent.cop_no == cop_no, LogisticsEvent.logistics_code == code,
            LogisticsEvent.order_id.is_(None), LogisticsEvent.master_bill_id.is_(None),
        )  # fmt: skip
        for event in (await session.execute(waiting)).scalars().all():
            for i, order in enumerate(orders):
                if i == 0:
                    event.order_id = order.id
                else:
                    session.add(LogisticsEvent(
                        id=new_id(), org_id=org_id, order_id=order.id, kind=kind, cop_no=cop_no, logistics_code=code,
                        status=event.status, return_time=event.return_time, time=event.time, note=event.note,
                        created_at=utcnow(),
                    ))  # fmt: skip
    await session.flush()


def record_master_bill(
    session: AsyncSession, org_id: str, bill_id: str, cop_no: str, body: MasterBillIn, lists: list[dict[str, str]]
) -> None:
    """Keep a master bill XBM declared (CEB607, ``bill_id`` its message's id) and the orders its ``lists`` carry,
    for customs' answers (CEB608)."""
    session.add(MasterBill(
        id=bill_id, org_id=org_id, cop_no=cop_no, bill_no=body.bill_no, traf_name=body.traf_name,
        voyage_no=body.voyage_no, logistics_code=body.logistics_code, lists=lists, created_at=utcnow(),
    ))  # fmt: skip
    for order_id in dict.fromkeys(x["order_id"] for x in lists):
        session.add(MasterBillOrder(id=new_id(), org_id=org_id, master_bill_id=bill_id, order_id=order_id))


def _out(event: LogisticsEvent) -> LogisticsEventOut:
    return LogisticsEventOut(kind=event.kind, status=event.status, time=event.time, note=event.note)  # type: ignore[arg-type]


async def order_events(session: AsyncSession, order: Order) -> list[LogisticsEventOut]:
    """An order's arrivals and departures, and the answers to the master bills it left on, in customs' order."""
    bills = select(MasterBillOrder.master_bill_id).where(MasterBillOrder.order_id == order.id)
    stmt = scoped(LogisticsEvent, order.org_id).where(
        or_(LogisticsEvent.order_id == order.id, LogisticsEvent.master_bill_id.in_(bills))
    )
    stmt = stmt.order_by(LogisticsEvent.return_time.desc(), LogisticsEvent.created_at.desc()).limit(MAX_EVENTS)
    return [_out(e) for e in reversed((await session.execute(stmt)).scalars().all())]


async def master_bill_view(session: AsyncSession, org_id: str, bill_id: str) -> MasterBillView:
    bill = await get_scoped(session, MasterBill, bill_id, org_id)
    stmt = scoped(LogisticsEvent, org_id).where(
        LogisticsEvent.master_bill_id == bill.id, LogisticsEvent.order_id.is_(None)
    )
    events = (await session.execute(stmt.order_by(LogisticsEvent.return_time, LogisticsEvent.created_at))).scalars()
    return MasterBillView(
        id=bill.id, cop_no=bill.cop_no, bill_no=bill.bill_no, traf_name=bill.traf_name, voyage=bill.voyage_no,
        logistics_code=bill.logistics_code, lists=[MasterBillListOut.model_validate(x) for x in bill.lists],
        answers=[_out(e) for e in events], created_at=bill.created_at,
    )  # fmt: skip
