"""Messages over several export lists — the monthly summary (CEB701) and the master-bill link (CEB607) — and the
declared return's message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs import declarations as build
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.models import CustomsMessage
from services.compliance.customs.signing import sign_message
from services.compliance.orders.declaration import cop_no, new_guid, parties, prepare, profile_of
from services.compliance.orders.models import CustomsReturn, Declaration, Order, Waybill
from services.compliance.orders.profiles import declared_under
from services.compliance.orders.schemas import MasterBillIn, MasterBillOut, SummaryOut
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile
from shared.db import get_scoped, new_id, scoped, utcnow
from shared.errors import Conflict, FieldError, NotFound

CHINA = build.CHINA
MAX_LISTS = 1000


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``2026-11`` → its first and last moment in China time (customs' calendar)."""
    start = datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=CHINA)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(seconds=1)
    return start, end


async def summarise(session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, month: str) -> SummaryOut:
    profile = await profile_of(session, org_id)
    if profile is None:
        raise Conflict("no customs profile yet; PUT /v1/compliance/customs-profile first")
    start, end = month_bounds(month)
    stmt = scoped(Declaration, org_id).where(
        Declaration.message_type == "CEB603",
        Declaration.statistics_flag == "B",
        Declaration.invt_no.is_not(None),
        Declaration.declared_at >= start,
        Declaration.declared_at <= end,
    )
    found = (await session.execute(stmt.order_by(Declaration.declared_at).limit(MAX_LISTS))).scalars().all()
    invt_nos = [d.invt_no for d in found if d.invt_no]
    if not invt_nos:
        raise Conflict(f"no statisticsFlag B export list of {month} has been numbered by customs yet")
    profile = await one_profile(session, org_id, found) or profile
    guid, number = new_guid(), cop_no()
    tree = build.summary_xml(build.Envelope(guid, number, utcnow()), parties(profile), invt_nos, start, end)
    validated = ctx.schemas.validate(tree)
    if ctx.signer is not None:
        tree = await sign_message(tree, ctx.signer)
    message = CustomsMessage(
        id=new_id(), org_id=org_id, message_type="CEB701", guid=guid, status="queued",
        body_encrypted=pii.encrypt(build.serialise(tree).decode(), f"message:{org_id}"),
        signed=ctx.signer is not None, validated=validated, created_at=utcnow(), reason=month, profile_id=profile.id,
    )  # fmt: skip
    session.add(message)
    await session.flush()
    return SummaryOut(
        id=message.id, month=month, guid=guid, cop_no=number, inventories=len(invt_nos),
        signed=message.signed, validated=validated,
    )  # fmt: skip


async def one_profile(session: AsyncSession, org_id: str, declarations: Sequence[Declaration]) -> CustomsProfile | None:
    """The customs profile lists were declared under: a message over several lists is sent under one profile,
    so lists of several profiles go in separate messages."""
    ids = {d.profile_id for d in declarations if d.profile_id}
    if len(ids) > 1:
        raise Conflict("these lists were declared under different customs profiles; send each profile's apart")
    return await declared_under(session, declarations[0], org_id) if ids else None


async def summary_message(session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, summary_id: str) -> bytes:
    message = await get_scoped(session, CustomsMessage, summary_id, org_id)
    if message.message_type != "CEB701":
        raise NotFound(f"summary {summary_id} not found")
    return await prepare(session, ctx, pii, message)


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
    profile = await one_profile(session, org_id, chosen) or await profile_of(session, org_id)
    if profile is None:
        raise Conflict("no customs profile yet; PUT /v1/compliance/customs-profile first")
    guid, number = new_guid(), cop_no()
    tree = build.waybill_link_xml(build.Envelope(guid, number, utcnow()), parties(profile), body.logistics_code,
                                  logistics_name, body.bill_no, body.traf_name, body.voyage_no, lists)  # fmt: skip
    validated = ctx.schemas.validate(tree)
    if ctx.signer is not None:
        tree = await sign_message(tree, ctx.signer)
    message = CustomsMessage(
        id=new_id(), org_id=org_id, message_type="CEB607", guid=guid, status="queued",
        body_encrypted=pii.encrypt(build.serialise(tree).decode(), f"message:{org_id}"),
        signed=ctx.signer is not None, validated=validated, created_at=utcnow(), reason=body.bill_no,
        profile_id=profile.id,
    )  # fmt: skip
    session.add(message)
    await session.flush()
    return MasterBillOut(id=message.id, guid=guid, cop_no=number, bill_no=body.bill_no, inventories=len(lists),
                         signed=message.signed, validated=validated)  # fmt: skip


async def master_bill_message(session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, link_id: str) -> bytes:
    message = await get_scoped(session, CustomsMessage, link_id, org_id)
    if message.message_type != "CEB607":
        raise NotFound(f"master bill {link_id} not found")
    return await prepare(session, ctx, pii, message)
