"""Declaring a matched order (:func:`declare`, and :func:`declare_waiting` for the orders that waited for the
customs profile): the declaration and the messages it owes customs (export CEB303, CEB403, CEB603;
import CEB311, CEB621), each built from the stored documents, validated against the official XSD, signed when a
signer is configured, and kept (encrypted) as the exact bytes that are sent."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from lxml import etree
from sqlalchemy import CursorResult, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs import declarations as build
from services.compliance.customs import waiting
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.models import CustomsMessage, CustomsReceipt
from services.compliance.customs.parties import Parties
from services.compliance.customs.signing import SigningError, sign_message
from services.compliance.items.lookup import records_by_no
from services.compliance.order_states import OrderState
from services.compliance.orders import routing
from services.compliance.orders.locks import lock_order_nos
from services.compliance.orders.models import CustomsReturn, Declaration, Order, Payment, Waybill
from services.compliance.orders.profiles import Choice, choose, declared_under, default_profile, pick, profiles_of
from services.compliance.orders.quota import quota_year
from services.compliance.orders.state import change_state
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile, PaymentInstitution
from shared.db import get_scoped, new_id, scoped, utcnow
from shared.errors import Conflict, NotFound

#: what a declaration sends, by direction (the order, the receipt of payment for exports, the inventory list)
MESSAGES = {"export": ("CEB303", "CEB403", "CEB603"), "import": ("CEB311", "CEB621")}
#: a message with no body yet: built (validated, signed) the first time it is asked for
UNBUILT = ("pending", "failed")
#: matched orders declared at once when the customs profile is set
DECLARE_BATCH = 200
#: pages of matched orders looked through for those a profile now declares (the others wait for theirs)
WAITING_PAGES = 10
RECORD_FIELDS = ("gname", "gmodel", "hs_code", "unit", "unit1", "qty1_per_unit", "origin_country", "bar_code",
                 "customs_item_no", "item_record_no", "net_weight_kg")  # fmt: skip


def new_guid() -> str:
    return str(uuid.uuid4()).upper()


def cop_no() -> str:
    return "XBM" + uuid.uuid4().hex[:17].upper()


async def profile_of(session: AsyncSession, org_id: str) -> CustomsProfile | None:
    """The organisation's default profile (a declaration's own is :func:`declared_under`)."""
    return await default_profile(session, org_id)


def parties(profile: CustomsProfile) -> Parties:
    return Parties.model_validate(profile)


def queue(session: AsyncSession, order: Order, message_type: str, **refs: str | None) -> CustomsMessage:
    """A message owed to customs, to be built (``pending``) by :func:`prepare`."""
    message = CustomsMessage(
        id=new_id(),
        org_id=order.org_id,
        order_id=order.id,
        message_type=message_type,
        guid=new_guid(),
        status="pending",
        created_at=utcnow(),
        **refs,
    )
    session.add(message)
    return message


def new_declaration(session: AsyncSession, order: Order, profile: CustomsProfile) -> Declaration:
    document = order.document
    declaration = Declaration(
        id=new_id(),
        org_id=order.org_id,
        order_id=order.id,
        message_type="CEB603" if order.trade_direction == "export" else "CEB621",
        guid=new_guid(),
        cop_no=cop_no(),
        declared_at=utcnow(),
        trade_mode=document.get("trade_mode") or profile.trade_mode,
        statistics_flag=(document.get("statistics_flag") or profile.statistics_flag)
        if order.trade_direction == "export"
        else None,
        profile_id=profile.id,
    )
    session.add(declaration)
    for message_type in MESSAGES[order.trade_direction]:
        # the inventory list travels under the declaration's own guid: receipts and CEB900 name it
        message = queue(session, order, message_type, declaration_id=declaration.id)
        if message_type == declaration.message_type:
            message.guid = declaration.guid
    return declaration


#: the receipt that answers each message a declaration sends (a receipt of it says customs holds the document)
ANSWERED_BY = {
    "CEB303": "CEB304", "CEB403": "CEB404", "CEB603": "CEB604", "CEB311": "CEB312", "CEB621": "CEB622",
}  # fmt: skip


async def on_file(session: AsyncSession, order: Order) -> set[str]:
    """The messages of this order the e-port holds: those a receipt answered with a status of 0 or more (stored,
    declared, sent to customs, refused, accepted …). A negative status (CEB900, a processing error) says the
    message was never stored, so it is sent again as new."""
    stmt = select(CustomsReceipt.message_type).where(
        CustomsReceipt.org_id == order.org_id, CustomsReceipt.order_id == order.id, CustomsReceipt.status >= 0
    )
    answered = {kind[:6] for kind in (await session.execute(stmt)).scalars()}  # stored as e.g. "CEB604Me"
    return {sent for sent, answer in ANSWERED_BY.items() if answer in answered}


async def declare_again(
    session: AsyncSession, order: Order, declaration: Declaration, profile: CustomsProfile
) -> Declaration:
    """A declaration customs refused, declared again as the specification provides (docs/redeclaration.md):
    under the same copNo, with a new guid and appTime, each message as a change (appType 2) of the document the
    e-port holds, or as new (appType 1) where it holds none. What the earlier round still had to send is
    superseded; its messages and receipts stay in the order's history."""
    held = await on_file(session, order)
    stmt = update(CustomsMessage).where(
        CustomsMessage.org_id == order.org_id,
        CustomsMessage.declaration_id == declaration.id,
        CustomsMessage.round == declaration.round,
        CustomsMessage.status.in_(("pending", "queued")),
    )
    await session.execute(stmt.values(status="superseded").execution_options(synchronize_session="fetch"))
    declaration.round += 1
    declaration.guid = new_guid()
    declaration.declared_at = utcnow()
    declaration.trade_mode = order.document.get("trade_mode") or profile.trade_mode
    if order.trade_direction == "export":
        declaration.statistics_flag = order.document.get("statistics_flag") or profile.statistics_flag
    for message_type in MESSAGES[order.trade_direction]:
        message = queue(session, order, message_type, declaration_id=declaration.id)
        message.round, message.app_type = declaration.round, "2" if message_type in held else "1"
        if message_type == declaration.message_type:
            message.guid = declaration.guid
    return declaration


# --- building ---------------------------------------------------------------------------------------------------


async def declare(session: AsyncSession, order: Order, chosen: Choice | None = None) -> Declaration | None:
    """Declare the inventory list of a matched order under its customs profile (orders/profiles.py; without
    one it waits): the declaration and the messages it owes customs, queued to be built, validated, signed and
    sent. An order declared before (its declaration refused by customs, then corrected) is declared again under
    the same declaration and the same profile. ``chosen``: the profile the caller chose for it already."""
    earlier = await session.get(Declaration, order.declaration_id) if order.declaration_id else None
    if earlier is not None:
        profile = await declared_under(session, earlier, order.org_id)
    else:
        profile = (chosen or await choose(session, order)).profile
    if profile is None:
        return None
    if await routing.route(session, order, profile):
        return None  # a B2B export declared by customs declaration (报关单), not by this list: held for it
    if earlier is not None:
        declaration = await declare_again(session, order, earlier, profile)
    else:
        declaration = new_declaration(session, order, profile)
    order.declaration_id = declaration.id
    order.quota_year = quota_year(declaration.declared_at)  # the quota counts in the declaration's year
    order.refusal = None
    await change_state(session, order, OrderState.DECLARED)
    await session.flush()
    return declaration


async def declare_waiting(session: AsyncSession, org_id: str) -> int:
    """Declare the oldest matched orders (at most :data:`DECLARE_BATCH`) that waited for a customs profile and
    have one now; returns how many were declared. The rest, if any, are declared the next time a profile is
    saved. Orders still without a profile (another direction or mode) are passed over, up to
    :data:`WAITING_PAGES` pages of them."""
    profiles = await profiles_of(session, org_id)
    if not profiles:
        return 0
    waiting: list[Order] = []
    after: tuple[Any, str] | None = None
    for _ in range(WAITING_PAGES):
        stmt = scoped(Order, org_id).where(Order.state == "matched").order_by(Order.created_at, Order.id)
        if after is not None:
            stmt = stmt.where(tuple_(Order.created_at, Order.id) > after)
        page = (await session.execute(stmt.limit(DECLARE_BATCH))).scalars().all()
        waiting += [o for o in page if pick(profiles, o.trade_direction, o.document).profile is not None]
        if len(page) < DECLARE_BATCH or len(waiting) >= DECLARE_BATCH:
            break
        after = (page[-1].created_at, page[-1].id)
    waiting = waiting[:DECLARE_BATCH]
    if not waiting:
        return 0
    await lock_order_nos(session, org_id, (o.order_no for o in waiting))
    still = scoped(Order, org_id).where(Order.id.in_([o.id for o in waiting]), Order.state == "matched")
    fresh = (await session.execute(still.execution_options(populate_existing=True))).scalars().all()
    declared = [await declare(session, order) for order in fresh]
    return sum(d is not None for d in declared)


async def _records(session: AsyncSession, org_id: str, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    item_nos = [item["item_no"] for item in document["items"]]
    found = await records_by_no(session, org_id, item_nos)
    records = {n: {f: getattr(r, f) for f in RECORD_FIELDS} for n, r in found.items()}
    missing = [n for n in item_nos if n not in records]
    if missing:
        raise Conflict(f"item records were removed since the declaration: {', '.join(missing)}")
    return records


async def _first(session: AsyncSession, stmt: Any) -> Any:
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def build_tree(session: AsyncSession, pii: Pii, message: CustomsMessage) -> etree._Element:
    """The unsigned message, built from what is stored now (pure builders in customs/declarations.py)."""
    org_id = message.org_id
    order = await session.get(Order, message.order_id) if message.order_id else None
    declaration = await session.get(Declaration, message.declaration_id) if message.declaration_id else None
    profile = await declared_under(session, declaration, org_id)
    if order is None or profile is None:
        raise NotFound(f"message {message.guid} has lost its order or the customs profile")
    p = parties(profile)
    document = dict(order.document)
    if declaration is not None:
        document.setdefault("trade_mode", declaration.trade_mode)
        if declaration.statistics_flag:
            document["statistics_flag"] = declaration.statistics_flag
    if not order.buyer_id_encrypted:
        raise Conflict(f"the buyer's personal data of order {order.order_no} was erased: nothing to declare")
    buyer_id = pii.decrypt(order.buyer_id_encrypted, f"buyer:{org_id}")
    records: dict[str, dict[str, Any]] = {}
    if kind_declares_items(message.message_type):
        # each line under the customs item number its record gives (the SKU is the platform's, not customs')
        records = await _records(session, org_id, document)
        document["items"] = [{**item, "customs_item_no": records[item["item_no"]].get("customs_item_no")}
                             for item in document["items"]]  # fmt: skip
    env = build.Envelope(
        message.guid, declaration.cop_no if declaration else cop_no(), message.created_at, message.app_type or "1"
    )
    kind = message.message_type
    if kind in ("CEB303", "CEB311"):
        return build.order_xml(env, p, document, buyer_id, records)
    waybill = await _first(session, scoped(Waybill, org_id).where(Waybill.order_no == order.order_no))
    if kind == "CEB403":
        payment = await _first(
            session,
            scoped(Payment, org_id).where(Payment.order_no == order.order_no, Payment.ebp_code == order.ebp_code),
        )
        if payment is None:
            raise NotFound("the declared order's receipt of payment is gone")
        # payName: the registered payment institution's name, when the payment document gives none
        registered = scoped(PaymentInstitution, org_id).where(PaymentInstitution.pay_code == payment.pay_code)
        institution = getattr(await _first(session, registered), "name", None)
        return build.payment_receipt_xml(env, p, document, payment.document, institution)
    if waybill is None:
        raise NotFound("the declared order's waybill is gone")
    if declaration is None:
        raise NotFound(f"message {message.guid} has lost its declaration")
    declared = build.Declared(declaration.cop_no, declaration.pre_no, declaration.invt_no)
    listed = build.OnFile(document, buyer_id, waybill.document, declared)
    if kind in ("CEB603", "CEB621"):
        env = build.Envelope(message.guid, declaration.cop_no, declaration.declared_at, message.app_type or "1")
        return build.inventory_xml(
            env, p, document, buyer_id, waybill.document, await _records(session, org_id, document)
        )
    if kind in ("CEB605", "CEB623"):
        return build.withdrawal_xml(env, p, listed, message_reason(message))
    if kind == "CEB625" and message.return_id:
        ret = await session.get(CustomsReturn, message.return_id)
        if ret is None:
            raise NotFound("the return this message declares is gone")
        env = build.Envelope(message.guid, ret.cop_no, message.created_at)
        lines = [(int(line["gnum"]), Decimal(str(line["qty"]))) for line in ret.lines]
        records = await _records(session, org_id, document)
        return build.return_xml(env, p, listed, lines, records, ret.reason)
    raise NotFound(f"XBM does not build {kind}")


def kind_declares_items(kind: str) -> bool:
    """The messages that carry the order's lines with their item numbers."""
    return kind in ("CEB303", "CEB311", "CEB603", "CEB621")


def message_reason(message: CustomsMessage) -> str:
    return message.reason or "cancelled by the seller"


async def prepare(session: AsyncSession, ctx: CustomsContext, pii: Pii, message: CustomsMessage) -> bytes:
    """The message's bytes: built, validated and signed the first time, the same bytes every time after. A signer
    that cannot sign now raises :class:`SigningError`, a 503 whose Retry-After is when the outbox tries again."""
    if message.body_encrypted is not None or message.status not in UNBUILT:
        return _body(pii, message)
    tree = await build_tree(session, pii, message)
    validated = ctx.schemas.validate(tree)
    if ctx.signer is not None:
        try:
            tree = await sign_message(tree, ctx.signer)
        except SigningError as exc:
            exc.headers["Retry-After"] = str(waiting.retry_after(message, utcnow()))
            raise
    body = build.serialise(tree)
    stored = await session.execute(
        update(CustomsMessage)
        .where(CustomsMessage.id == message.id, CustomsMessage.body_encrypted.is_(None))
        .values(
            status="queued",
            body_encrypted=pii.encrypt(body.decode(), f"message:{message.org_id}"),
            signed=ctx.signer is not None,
            validated=validated,
            # built: whatever it waited for has come; due for the outbox at once
            attempts=0,
            failure_cause=None,
            failure_reason=None,
            failing_since=None,
            next_attempt_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(message)
    if (
        cast("CursorResult[Any]", stored).rowcount == 0
    ):  # built at the same moment by another request: theirs is the one kept
        return _body(pii, message)
    return body


async def prepare_or_wait(session: AsyncSession, ctx: CustomsContext, pii: Pii, message: CustomsMessage) -> None:
    """Build, validate and sign ``message`` now if the signer can; if it cannot, the message is ``failed`` with
    the reason and the outbox signs it once the signer is back (the request that queued it goes through)."""
    try:
        await prepare(session, ctx, pii, message)
    except SigningError as exc:
        waiting.record_failure(message, waiting.classify(exc), utcnow())


def _body(pii: Pii, message: CustomsMessage) -> bytes:
    if message.body_encrypted is None:
        raise Conflict(f"message {message.guid} is {message.status} without a body")
    return pii.decrypt(message.body_encrypted, f"message:{message.org_id}").encode()


async def message_for(session: AsyncSession, org_id: str, declaration_id: str, message_type: str) -> CustomsMessage:
    declaration = await get_scoped(session, Declaration, declaration_id, org_id)
    stmt = scoped(CustomsMessage, org_id).where(
        CustomsMessage.declaration_id == declaration.id, CustomsMessage.message_type == message_type
    )
    message = (await session.execute(stmt.order_by(CustomsMessage.created_at.desc()).limit(1))).scalar_one_or_none()
    if message is None:
        raise NotFound(f"declaration {declaration_id} has no {message_type} message")
    return message


async def declaration_message(
    session: AsyncSession, ctx: CustomsContext, pii: Pii, org_id: str, declaration_id: str, which: str
) -> bytes:
    """``which``: list (CEB621/CEB603), order (CEB311/CEB303), payment (CEB403), cancellation (CEB623/CEB605)."""
    declaration = await get_scoped(session, Declaration, declaration_id, org_id)
    export = declaration.message_type == "CEB603"
    kinds = {
        "list": declaration.message_type,
        "order": "CEB303" if export else "CEB311",
        "payment": "CEB403",
        "cancellation": "CEB605" if export else "CEB623",
    }
    message = await message_for(session, org_id, declaration_id, kinds[which])
    return await prepare(session, ctx, pii, message)


async def messages_of(session: AsyncSession, order: Order) -> list[CustomsMessage]:
    stmt = select(CustomsMessage).where(CustomsMessage.org_id == order.org_id, CustomsMessage.order_id == order.id)
    return list((await session.execute(stmt.order_by(CustomsMessage.created_at))).scalars())
