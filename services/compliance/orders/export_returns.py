"""A return of a released export order (spec 202205, 2.17–2.20; docs/returns.md): the application CEB213 by line
and quantity, answered by CEB214 (800: customs released the goods back, 100: refused), and the tally of the
goods back at the supervised site CEB215, answered by CEB216 (399: accepted). Each message is built, validated
against the export XSD and signed (when a signer is configured) as it is declared, then queued in the outbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs import declarations as build
from services.compliance.customs import export_returns as ceb
from services.compliance.customs.built import store_built
from services.compliance.customs.codes import country_code
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.messages import Receipt, is_refusal
from services.compliance.customs.models import CustomsMessage
from services.compliance.items.lookup import records_by_no
from services.compliance.order_states import RELEASED, OrderState
from services.compliance.orders.declaration import cop_no, new_guid, parties, profile_of
from services.compliance.orders.logistics_models import ExportReturn
from services.compliance.orders.lookup import waybill_for
from services.compliance.orders.models import Declaration, Order
from services.compliance.orders.returns import return_lines, returned_by_line, returned_value
from services.compliance.orders.returns_schemas import ExportReturnIn, TallyIn
from services.compliance.orders.state import change_state, order_returned
from services.compliance.pii import Pii
from shared.db import new_id, scoped, utcnow
from shared.errors import Conflict, FieldError

#: states of an export return whose lines count as (being) returned
LIVE = ("requested", "accepted", "approved")


async def _returns(session: AsyncSession, order: Order) -> list[ExportReturn]:
    stmt = scoped(ExportReturn, order.org_id).where(ExportReturn.order_id == order.id)
    return list((await session.execute(stmt.order_by(ExportReturn.created_at))).scalars())


def _transport(body: ExportReturnIn, waybill: dict[str, Any], order: dict[str, Any], p: build.Parties) -> ceb.Transport:
    def pick(given: str | None, *names: str) -> str:
        for value in (given, *(waybill.get(n) for n in names)):
            if value:
                return str(value)
        field = names[0] if names else "transport"
        raise FieldError(field, f"{field}: the original waybill does not say it; give it")

    logistics_no = pick(body.logistics_no, "logistics_no")
    iso = body.country or build.destination(order, waybill) or order.get("country")
    if not iso:
        raise FieldError("country", "country: the country the goods come back from is not known; give it")
    return ceb.Transport(
        logistics_code=pick(body.logistics_code, "logistics_code"),
        logistics_name=pick(body.logistics_name, "logistics_name", "logistics_code"),
        logistics_no=logistics_no,
        bill_no=body.bill_no or str(waybill.get("bill_no") or logistics_no),
        traf_mode=body.traf_mode or p.traf_mode,
        traf_name=pick(body.traf_name, "traf_name", "traf_no"),
        voyage_no=pick(body.voyage_no, "voyage_no"),
        port_code=body.port_code or p.port_code,
        country=country_code(str(iso), "country"),
    )


async def _returned_lines(session: AsyncSession, order: Order, lines: list[dict[str, str]]) -> list[ceb.Returned]:
    by_gnum = {int(item["gnum"]): item for item in order.document["items"]}
    item_nos = [by_gnum[int(line["gnum"])]["item_no"] for line in lines]
    records = await records_by_no(session, order.org_id, item_nos)
    out = []
    for line in lines:
        item = by_gnum[int(line["gnum"])]
        record = records.get(item["item_no"])
        if record is None:
            raise Conflict(f"the item record of {item['item_no']} was removed; the return names its customs fields")
        qty = Decimal(line["qty"])
        out.append(ceb.Returned(int(line["gnum"]), record.hs_code, record.gname, record.gmodel, qty, record.unit,
                                qty * Decimal(str(record.qty1_per_unit)), record.unit1))  # fmt: skip
    return out


async def request_export_return(
    session: AsyncSession, ctx: CustomsContext, pii: Pii, order: Order, body: ExportReturnIn
) -> ExportReturn:
    """Declare the return of a released export list (all lines when none are named); the order keeps its state
    until customs releases the goods back (CEB214 800)."""
    if order.trade_direction != "export":
        raise Conflict("an import return is declared with CEB625: POST /v1/compliance/orders/{ebp}/{no}/returns")
    if order.state not in RELEASED:
        raise Conflict(f"only a released export order can be returned; this one is {order.state}")
    declaration = await session.get(Declaration, order.declaration_id) if order.declaration_id else None
    if declaration is None or not declaration.invt_no:
        raise Conflict("customs has not numbered this order's export list; a return names that number")
    profile = await profile_of(session, order.org_id)
    if profile is None:
        raise Conflict("no customs profile yet; PUT /v1/compliance/customs-profile first")
    p = parties(profile)
    waybill = await waybill_for(session, order)
    transport = _transport(body, waybill.document if waybill else {}, order.document, p)
    wanted = [(line.gnum, line.qty) for line in body.lines] if body.lines is not None else None
    live = [r for r in await _returns(session, order) if r.state in LIVE]
    lines = return_lines(order, wanted, returned_by_line(live))
    trade_mode = body.trade_mode or ceb.return_trade_mode(declaration.trade_mode)
    ret = ExportReturn(
        id=new_id(), org_id=order.org_id, order_id=order.id, cop_no=cop_no(), state="requested",
        reason=body.reason, lines=lines, transport={**transport.__dict__, "trade_mode": trade_mode},
        created_at=utcnow(), updated_at=utcnow(),
    )  # fmt: skip
    session.add(ret)
    guid = new_guid()
    env = build.Envelope(guid, ret.cop_no, utcnow())
    tree = ceb.refund_xml(env, p, order.document, declaration.invt_no, declaration.pre_no, trade_mode, transport,
                          await _returned_lines(session, order, lines), body.reason)  # fmt: skip
    await store_built(session, ctx, pii, tree, org_id=order.org_id, message_type="CEB213", guid=guid,
                      order_id=order.id, return_id=ret.id)  # fmt: skip
    await session.flush()
    return ret


async def declare_tally(
    session: AsyncSession, ctx: CustomsContext, pii: Pii, order: Order, ret: ExportReturn, body: TallyIn
) -> ExportReturn:
    """CEB215: the returned goods tallied at the supervised site, for its operator. Once per return, again only
    after customs refused the tally."""
    if ret.state == "refused":
        raise Conflict("customs refused this return; there are no goods to tally")
    if ret.tally_state in ("declared", "accepted"):
        raise Conflict(f"the tally of this return is {ret.tally_state} already")
    profile = await profile_of(session, order.org_id)
    if profile is None:
        raise Conflict("no customs profile yet; PUT /v1/compliance/customs-profile first")
    declaration = await session.get(Declaration, order.declaration_id) if order.declaration_id else None
    fields = {k: v for k, v in ret.transport.items() if k != "trade_mode"}
    transport = ceb.Transport(**fields)
    tally = ceb.Tally(body.operator_code, body.operator_name, body.location, body.note)
    ret.tally_cop_no, ret.tally_state, ret.tally_note = cop_no(), "declared", None
    ret.tally = {"operator_code": body.operator_code, "operator_name": body.operator_name, "location": body.location}
    guid = new_guid()
    env = build.Envelope(guid, ret.tally_cop_no, utcnow())
    tree = ceb.tally_xml(env, parties(profile), declaration.invt_no if declaration else None, transport, tally)
    await store_built(session, ctx, pii, tree, org_id=order.org_id, message_type="CEB215", guid=guid,
                      order_id=order.id, return_id=ret.id)  # fmt: skip
    ret.updated_at = utcnow()
    await session.flush()
    return ret


async def export_return_by(session: AsyncSession, org_id: str, r: Receipt) -> ExportReturn | None:
    """The export return a CEB214 (by its coElNo) or CEB216 (by the tally's coElNo) answers."""
    number = r.keys.get("coElNo")
    if not number:
        return None
    column = ExportReturn.cop_no if r.message == "CEB214Message" else ExportReturn.tally_cop_no
    stmt = scoped(ExportReturn, org_id).where(column == number).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _acknowledge(session: AsyncSession, ret: ExportReturn, kind: str) -> None:
    stmt = scoped(CustomsMessage, ret.org_id).where(
        CustomsMessage.return_id == ret.id, CustomsMessage.message_type == kind
    )
    for message in (await session.execute(stmt)).scalars():
        if message.acknowledged_at is None:
            message.acknowledged_at = utcnow()
            if message.status in ("queued", "sent"):
                message.status = "acknowledged"


async def apply_answer(session: AsyncSession, order: Order, ret: ExportReturn, r: Receipt) -> None:
    """CEB214: 800 approves the return (the order is ``returned`` once every line came back, otherwise the lines'
    share of its amount is reported returned); 100, 4 or an error refuses it; other statuses say customs handles
    it. CEB216: 399 accepts the tally, 100 or an error refuses it. A decided return stays decided."""
    if r.message == "CEB216Message":
        await _acknowledge(session, ret, "CEB215")
        if ret.tally_state == "accepted":
            return
        ret.tally_note = r.info or None
        if r.status == 399:
            ret.tally_state = "accepted"
        elif is_refusal(r.status):
            ret.tally_state = "refused"
        ret.updated_at = utcnow()
        return
    await _acknowledge(session, ret, "CEB213")
    if ret.state in ("approved", "refused"):
        return
    ret.customs_status, ret.customs_note, ret.updated_at = r.status, r.info or None, utcnow()
    if r.status == 800:
        ret.state, ret.decided_at = "approved", utcnow()
        approved = returned_by_line([x for x in await _returns(session, order) if x.state == "approved"])
        everything = all(approved.get(int(i["gnum"]), Decimal(0)) >= Decimal(str(i["qty"]))
                         for i in order.document["items"])  # fmt: skip
        if everything and order.state in RELEASED:
            await change_state(session, order, OrderState.RETURNED)
        elif order.actual_paid is not None:
            await order_returned(session, order, returned_value(order, approved))
    elif is_refusal(r.status):
        ret.state, ret.decided_at = "refused", utcnow()
    else:
        ret.state = "accepted"
