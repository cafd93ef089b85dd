"""Messages over several export lists — the master-bill link (CEB607) — and the declared return's message. The
monthly summary (CEB701) and customs' answers to it are in ``summaries.py``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs import declarations as build
from services.compliance.customs.built import store_built
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.models import CustomsMessage
from services.compliance.orders.declaration import cop_no, new_guid, parties, prepare, profile_of
from services.compliance.orders.logistics_receipts import record_master_bill
from services.compliance.orders.models import CustomsReturn, Declaration, Order, Waybill
from services.compliance.orders.profiles import declared_under
from services.compliance.orders.schemas import MasterBillIn, MasterBillOut
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile
from shared.db import get_scoped, scoped, utcnow
from shared.errors import Conflict, FieldError, NotFound


async def one_profile(session: AsyncSession, org_id: str, declarations: Sequence[Declaration]) -> CustomsProfile | None:
    """The customs profile lists were declared under: a message over several lists is sent under one profile,
    so lists of several profiles go in separate messages."""
    ids = {d.profile_id for d in declarations if d.profile_id}
    if len(ids) > 1:
        raise Conflict("these lists were declared under different customs profiles; send each profile's apart")
    return await declared_under(session, declarations[0], org_id) if ids else None


async def return_message(session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, return_id: str) -> bytes:
    ret = await get_scoped(session, CustomsReturn, return_id, org_id)
    stmt = scoped(CustomsMessage, org_id).where(CustomsMessage.return_id == ret.id).limit(1)
    message = (await session.execute(stmt)).scalar_one_or_none()
    if message is None:
        raise NotFound(f"return {return_id} has no message")
    return await prepare(session, ctx, pii, message)


async def link_master_bill(
    session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, body: MasterBillIn
) -> MasterBillOut:
    """CEB607: the export lists of one master bill and voyage; each must be ours, numbered by customs, and of the
    logistics company named."""
    lists: list[build.Listed] = []
    carried: list[dict[str, str]] = []  # kept with the bill, for customs' answers (CEB608)
    chosen: list[Declaration] = []
    logistics_name = body.logistics_code
    for i, declaration_id in enumerate(body.declaration_ids):
        found = scoped(Declaration, org_id).where(Declaration.id == declaration_id)
        declaration = (await session.execute(found)).scalar_one_or_none()
        if declaration is None:  # another organisation's list is as unknown as a made-up id
            raise FieldError(("declaration_ids", i), f"declaration_ids: no declaration {declaration_id}")
        order = await session.get(Order, declaration.order_id)
        if declaration.message_type != "CEB603" or order is None:
            raise FieldError(("declaration_ids", i), "declaration_ids: only export lists travel on a master bill")
        if not declaration.invt_no:
            raise FieldError(("declaration_ids", i), "declaration_ids: customs has not numbered this list yet")
        stmt = scoped(Waybill, org_id).where(
            Waybill.order_no == order.order_no, Waybill.logistics_code == body.logistics_code
        )
        waybill = (await session.execute(stmt.limit(1))).scalar_one_or_none()
        if waybill is None:
            raise FieldError(
                ("declaration_ids", i), f"declaration_ids: no waybill of {body.logistics_code} for this list"
            )
        logistics_name = waybill.document.get("logistics_name") or logistics_name
        chosen.append(declaration)
        lists.append(
            build.Listed(waybill.logistics_no, declaration.invt_no, Decimal(str(waybill.document["weight_kg"])))
        )
        carried.append({"declaration_id": declaration.id, "order_id": order.id, "invt_no": declaration.invt_no,
                        "logistics_no": waybill.logistics_no})  # fmt: skip
    profile = await one_profile(session, org_id, chosen) or await profile_of(session, org_id)
    if profile is None:
        raise Conflict("no customs profile yet; PUT /v1/compliance/customs-profile first")
    guid, number = new_guid(), cop_no()
    tree = build.waybill_link_xml(build.Envelope(guid, number, utcnow()), parties(profile), body.logistics_code,
                                  logistics_name, body.bill_no, body.traf_name, body.voyage_no, lists)  # fmt: skip
    message = await store_built(session, ctx, pii, tree, org_id=org_id, message_type="CEB607", guid=guid,
                                reason=body.bill_no, profile_id=profile.id)  # fmt: skip
    record_master_bill(session, org_id, message.id, number, body, carried)
    await session.flush()
    return MasterBillOut(id=message.id, guid=guid, cop_no=number, bill_no=body.bill_no, inventories=len(lists),
                         signed=message.signed, validated=message.validated)  # fmt: skip


async def master_bill_message(session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, link_id: str) -> bytes:
    message = await get_scoped(session, CustomsMessage, link_id, org_id)
    if message.message_type != "CEB607":
        raise NotFound(f"master bill {link_id} not found")
    return await prepare(session, ctx, pii, message)
