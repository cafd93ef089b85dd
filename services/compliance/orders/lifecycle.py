"""An order's life after its first delivery: versions, incomplete orders, cancellations and refunds.

Every function here runs with the order number's match key locked (:func:`lock_order_nos`), so deliveries of
one order are applied one after the other, each on what the previous one left — also on PostgreSQL when they
arrive together. A version is applied only when it is newer than the one stored (``platform_version``), so an
older delivery arriving late never overwrites a newer one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.order_states import BEFORE_DECLARATION, CORRECTABLE, RELEASED, WITHDRAWN_OR_OUTSIDE, OrderState
from services.compliance.orders.cancellation import cancel_order
from services.compliance.orders.documents import OrderDoc
from services.compliance.orders.intake import order_values
from services.compliance.orders.locks import lock_order_no, lock_order_nos
from services.compliance.orders.mapped import Mapped
from services.compliance.orders.matching import match_documents
from services.compliance.orders.models import Order
from services.compliance.orders.quota import CHINA
from services.compliance.orders.returns import request_return
from services.compliance.orders.state import change_state
from services.compliance.pii import Pii, mask
from shared.db import insert_ignore, new_id, scoped, utcnow
from shared.errors import AppError

#: what a later version is compared on, to say what changed after the declaration
COMPARED = ("goods_value", "freight", "discount", "tax_total", "actual_paid", "currency", "consignee", "items")


def validate(document: dict[str, Any], problems: list[dict[str, str]]) -> tuple[OrderDoc | None, list[dict[str, str]]]:
    """The canonical order, or the fields that keep it from being one (named as dotted paths)."""
    held = list(problems)
    named = _import_identity_missing(document)
    doc = None
    try:
        doc = OrderDoc.model_validate(document)
    except ValidationError as exc:
        for e in exc.errors(include_url=False, include_input=False)[:50]:
            if not e["loc"] and named:
                continue  # the import identity rule, named field by field below
            held.append({"field": ".".join(str(p) for p in e["loc"]) or "body", "msg": e["msg"][:200]})
    held += [n for n in named if n["field"] not in {h["field"] for h in held}]
    held += _export_destination_missing(document)
    return (doc if not held else None), held


def _export_destination_missing(document: dict[str, Any]) -> list[dict[str, str]]:
    """An export names the country the goods go to (the order's, its consignee's or its buyer's): said at once,
    not when the comparison finds no destination."""
    if document.get("trade_direction") != "export":
        return []
    consignee, buyer = document.get("consignee"), document.get("buyer")
    found = [document.get("destination_country"), document.get("country")]
    found += [part.get("country") for part in (consignee, buyer) if isinstance(part, dict)]
    if any(found):
        return []
    return [{"field": "destination_country", "msg": "an export needs the country the goods go to"}]


def _import_identity_missing(document: dict[str, Any]) -> list[dict[str, str]]:
    """An import order needs the buyer's registration, ID number and phone (the canonical order's rule), named
    one by one so the seller knows what to give."""
    if document.get("trade_direction", "import") != "import":
        return []
    buyer = document.get("buyer")
    if not isinstance(buyer, dict):
        buyer = {}
    return [
        {"field": f"buyer.{field}", "msg": "an import order needs it"}
        for field in ("reg_no", "id_number", "telephone")
        if buyer.get(field) in (None, "")
    ]


def _stored_document(doc: OrderDoc) -> dict[str, Any]:
    document = doc.model_dump(mode="json")
    if doc.buyer.id_number is not None:  # an export buyer has none
        document["buyer"]["id_number"] = mask(doc.buyer.id_number)
    return document


def _held_document(document: dict[str, Any]) -> dict[str, Any]:
    held = {**document, "buyer": dict(document.get("buyer") or {})}
    if isinstance(held["buyer"].get("id_number"), str):
        held["buyer"]["id_number"] = mask(held["buyer"]["id_number"])
    return held


def _amount(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return Decimal(0)
    return number if number.is_finite() and abs(number) < Decimal("1e14") else Decimal(0)


def _held_values(pii: Pii, org_id: str, document: dict[str, Any]) -> dict[str, Any]:
    """Columns of an order XBM cannot use yet: what could be read, the rest empty until completed."""
    now = utcnow()
    currency = str(document.get("currency") or "")
    id_number = (document.get("buyer") or {}).get("id_number")
    id_number = id_number if isinstance(id_number, str) and id_number else None
    return {
        "id": new_id(),
        "org_id": org_id,
        "ebp_code": document["ebp_code"],
        "order_no": document["order_no"],
        "trade_direction": document.get("trade_direction") if document.get("trade_direction") == "export" else "import",
        "state": "incomplete",
        "currency": currency if len(currency) == 3 and currency.isalpha() else "XXX",
        "actual_paid": _amount(document.get("actual_paid")),
        "utm_campaign": str(document.get("utm_campaign") or "")[:200] or None,
        "document": _held_document(document),
        "buyer_id_encrypted": pii.encrypt(id_number or "", f"buyer:{org_id}"),
        "buyer_id_hash": pii.lookup_hash(id_number) if id_number else "",
        "buyer_verified": False,
        "quota_year": now.astimezone(CHINA).year,
        "receipts": [],
        "created_at": now,
        "updated_at": now,
        "state_changed_at": now,
    }


def _columns(pii: Pii, org_id: str, mapped: Mapped, doc: OrderDoc | None, held: list[dict[str, str]]) -> dict[str, Any]:
    values = order_values(pii, org_id, doc) if doc is not None else _held_values(pii, org_id, mapped.document)
    if doc is not None:
        values["document"] = _stored_document(doc)
    values.update(test=mapped.test, platform_version=mapped.version, held=held or None)
    if mapped.platform_id:
        values["platform_id"] = mapped.platform_id
    return values


async def locked_order(
    session: AsyncSession, org_id: str, ebp_code: str, order_no: str, *, stored: bool = False
) -> Order | None:
    """Lock the order number, then read the order as it is now (not as this session may have seen it).
    ``stored``: this transaction has just stored the order (the match key notes it)."""
    if stored:
        await lock_order_no(session, org_id, order_no, storing="order", ebp_code=ebp_code)
    else:
        await lock_order_nos(session, org_id, [order_no])
    stmt = scoped(Order, org_id).where(Order.ebp_code == ebp_code, Order.order_no == order_no)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


def is_newer(incoming: str | None, stored: str | None) -> bool:
    """Versions are fixed-width UTC text; a delivery without one never replaces a stored order."""
    return incoming is not None and (stored is None or incoming > stored)


def other_order(order: Order, mapped: Mapped) -> bool:
    """The stored order is another platform order than the delivered one (same number, another platform id)."""
    return bool(order.platform_id and mapped.platform_id and order.platform_id != mapped.platform_id)


def _note_refunds(order: Order, refunds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Record the refunds a version of the order counts that XBM has not recorded yet; returns those."""
    known = {r.get("id") for r in order.platform_refunds or [] if r.get("id")}
    new = [r for r in refunds if r.get("id") and r["id"] not in known]
    if new:
        order.platform_refunds = [*(order.platform_refunds or []), *new][-50:]
    return new


async def apply_version(session: AsyncSession, pii: Pii, org_id: str, mapped: Mapped) -> tuple[str, Order | None]:
    """Store a platform's order, or apply its newer version; returns (outcome, order) — no order when the
    delivery is another platform order under a number already taken (``conflict``)."""
    ebp_code, order_no = mapped.document["ebp_code"], mapped.document["order_no"]
    order = await locked_order(session, org_id, ebp_code, order_no)
    doc, held = validate(mapped.document, mapped.problems)
    if order is None:
        values = _columns(pii, org_id, mapped, doc, held)
        await insert_ignore(session, Order, values, ["org_id", "ebp_code", "order_no"])
        order = await locked_order(session, org_id, ebp_code, order_no, stored=True)
        assert order is not None  # inserted under the lock just now
        _note_refunds(order, mapped.refunds)
        if mapped.cancelled:
            return await _cancel(session, pii, order, "cancelled on the platform before XBM knew the order"), order
        if doc is not None:
            await match_documents(session, order)
        return ("stored" if doc is not None else "incomplete"), order
    if other_order(order, mapped):
        # another order of the platform under a number XBM already holds: never merged into it
        return (f"conflict: order number {order_no} is platform order {order.platform_id} here; this delivery is "
                f"platform order {mapped.platform_id}"), None  # fmt: skip
    newer = is_newer(mapped.version, order.platform_version)
    if not newer and not _may_correct(order, mapped):
        return "stale", order
    if order.state in WITHDRAWN_OR_OUTSIDE:
        order.platform_version = mapped.version
        return "stale", order
    # customs refused the declaration: the platform's new version is the correction, declared again once it passes
    refused = order.state == "rejected" and not (mapped.cancelled or mapped.refunded)
    if order.state not in BEFORE_DECLARATION and not refused:
        return await _after_declaration(session, pii, order, mapped, doc), order
    if _keep_known(pii, order, mapped):
        doc, held = validate(mapped.document, mapped.problems)
    if (refused or not newer) and not _differs(order, mapped, doc):
        order.platform_version = mapped.version
        return ("unchanged" if newer else "stale"), order
    _replace(pii, order, mapped, doc, held)
    _note_refunds(order, mapped.refunds)
    if mapped.cancelled:
        return await _cancel(session, pii, order, "cancelled on the platform"), order
    await change_state(session, order, OrderState.AWAITING_DOCUMENTS if doc is not None else OrderState.INCOMPLETE)
    if doc is not None:
        await match_documents(session, order)
    await session.flush()
    return "updated", order


def _may_correct(order: Order, mapped: Mapped) -> bool:
    return order.state in CORRECTABLE and mapped.version == order.platform_version


#: what a version may change without changing what customs was (or would be) told
NOT_DECLARED = ("payment_status",)


def _differs(order: Order, mapped: Mapped, doc: OrderDoc | None) -> bool:
    after = _stored_document(doc) if doc is not None else _held_document(mapped.document)
    return {k: v for k, v in after.items() if k not in NOT_DECLARED} != {
        k: v for k, v in order.document.items() if k not in NOT_DECLARED
    }


KEPT = {"buyer": ("reg_no", "name", "telephone", "id_number"), "consignee": ("name", "telephone", "address")}
#: the parts of an address the platform gave apart (what the comparison with the waybill reads)
ADDRESS_PARTS = ("street", "city", "province", "postcode")


def _keep_known(pii: Pii, order: Order, mapped: Mapped) -> bool:
    """What the platform still does not send but XBM already knows (given by a PATCH, or by an earlier version)
    is kept: a newer version of an order never makes it incomplete again for want of the buyer's ID number."""
    kept = False
    for part, names in KEPT.items():
        new, old = mapped.document.setdefault(part, {}), order.document.get(part) or {}
        for name in names:
            if new.get(name) or not old.get(name):
                continue
            value = old[name]
            if name == "id_number":
                value = pii.decrypt(order.buyer_id_encrypted, f"buyer:{order.org_id}")
            if value:
                new[name], kept = value, True
    return kept


def _replace(pii: Pii, order: Order, mapped: Mapped, doc: OrderDoc | None, held: list[dict[str, str]]) -> None:
    """The newer version replaces the document; what the comparison concluded from the old one is dropped."""
    values = _columns(pii, order.org_id, mapped, doc, held)
    for name in ("trade_direction", "currency", "actual_paid", "utm_campaign", "document", "buyer_id_encrypted",
                 "buyer_id_hash", "buyer_verified", "test", "platform_version", "held"):  # fmt: skip
        setattr(order, name, values[name])
    if mapped.platform_id:
        order.platform_id = mapped.platform_id
    order.checks, order.failing_rules, order.dutiable_value, order.tax = None, None, None, None


async def _after_declaration(
    session: AsyncSession, pii: Pii, order: Order, mapped: Mapped, doc: OrderDoc | None
) -> str:
    """Customs already has the declaration: a cancellation asks for its withdrawal, a refund of a released
    order is a return, any other change is kept and flagged (the declaration must be withdrawn and redone)."""
    new = [r for r in mapped.refunds if r.get("id") not in {x.get("id") for x in order.platform_refunds or []}]
    if (mapped.refunded or new) and order.state in RELEASED:
        # WooCommerce's refunds after release: the goods they name (all of them when refunded in full) are the
        # declared return, as Shopify's refunds are
        order.platform_version = mapped.version
        outcomes = [await _refund(session, pii, order, r, r.get("lines") or None) for r in new]
        if mapped.refunded and not any(o == "return_requested" for o in outcomes):
            refund = {"status": "refunded", "version": mapped.version}
            outcomes.append(await _refund(session, pii, order, refund, None, full=True))
        return outcomes[-1]
    _note_refunds(order, new)
    if mapped.cancelled:
        order.platform_version = mapped.version
        return await _cancel(session, pii, order, "cancelled on the platform after the declaration")
    # compared as stored (normalised), so a version that only moved on (paid, fulfilled) changes nothing
    before = order.document
    after = _stored_document(doc) if doc is not None else _held_document(mapped.document)
    changed = [k for k in COMPARED if before.get(k) != after.get(k)]
    order.platform_version = mapped.version
    if not changed:
        return "unchanged"
    order.changed_after_declaration = True
    order.later_version = {
        "version": mapped.version,
        "received_at": utcnow().isoformat(),
        "changed": changed,
        "document": after,
    }
    await session.flush()
    return "changed_after_declaration"


async def _cancel(session: AsyncSession, pii: Pii, order: Order, reason: str) -> str:
    try:
        await cancel_order(session, pii, order, reason)
    except AppError as exc:  # e.g. customs can no longer withdraw it: recorded, the platform still gets 2xx
        return f"cancel_refused: {exc.detail}"[:200]
    return "cancelled"


async def cancel_known(session: AsyncSession, pii: Pii, order: Order, reason: str) -> str:
    """A platform's delete or cancellation naming an order XBM stored (its match key locked here)."""
    locked = await locked_order(session, order.org_id, order.ebp_code, order.order_no)
    return await _cancel(session, pii, locked or order, reason)


def _return_lines(order: Order, lines: list[dict[str, Any]] | None) -> list[tuple[int, Decimal]] | None:
    if not lines:
        return None
    by_item = {item["item_no"]: item["gnum"] for item in order.document.get("items", [])}
    out = [(by_item[line["item_no"]], Decimal(str(line["qty"]))) for line in lines if line.get("item_no") in by_item]
    return out or None


async def _refund(
    session: AsyncSession,
    pii: Pii,
    order: Order,
    refund: dict[str, Any],
    lines: list[dict[str, Any]] | None,
    *,
    full: bool = False,
) -> str:
    """Record the refund (once: a refund already recorded under its id changes nothing); a released import
    order's refunded lines (every line when ``full``) become the declared return (CEB625). A refund of money
    alone (no goods named) is recorded, never a return."""
    if refund.get("id") and any(r.get("id") == refund["id"] for r in order.platform_refunds or []):
        return "refund_known"
    order.platform_refunds = [*(order.platform_refunds or []), {**refund, "lines": lines or []}][-50:]
    if order.trade_direction != "import" or order.state not in RELEASED or not (lines or full):
        await session.flush()
        return "refund_recorded"
    try:
        await request_return(session, pii, order, "refunded on the platform", _return_lines(order, lines))
    except AppError as exc:
        return f"return_refused: {exc.detail}"[:200]
    return "return_requested"


async def refund_known(
    session: AsyncSession, pii: Pii, order: Order, refund: dict[str, Any], lines: list[dict[str, Any]] | None
) -> str:
    locked = await locked_order(session, order.org_id, order.ebp_code, order.order_no)
    return await _refund(session, pii, locked or order, refund, lines)


async def complete(session: AsyncSession, pii: Pii, order: Order, fields: dict[str, Any]) -> Order:
    """PATCH of an incomplete order: the given fields are merged into what the platform sent; once nothing is
    missing the order waits for (or is matched with) its payment and waybill."""
    document = dict(order.document)
    for name, value in fields.items():
        if isinstance(value, dict) and isinstance(document.get(name), dict):
            old = document[name]
            if name == "consignee" and "address" in value:  # a new address: the platform's parts no longer hold
                old = {k: v for k, v in old.items() if k not in ADDRESS_PARTS}
            document[name] = {**old, **value}
        else:
            document[name] = value
    buyer = document.get("buyer") or {}
    if isinstance(buyer.get("id_number"), str) and "*" in buyer["id_number"]:
        # the stored number is masked: keep the one given now, else the one encrypted at rest
        buyer = {**buyer, "id_number": pii.decrypt(order.buyer_id_encrypted, f"buyer:{order.org_id}") or None}
        document["buyer"] = {k: v for k, v in buyer.items() if v is not None}
    # what the mapping could not read in the platform's body stays a problem until the field it feeds is given;
    # the canonical order's own fields are checked again from scratch
    found = [h for h in order.held or [] if h.get("found_in") == "body" and not _fixed(h["field"], fields)]
    mapped = Mapped(document=document, platform_id=None, version=order.platform_version, test=order.test)
    doc, held = validate(document, found)
    _replace(pii, order, mapped, doc, held)
    if doc is not None:
        await change_state(session, order, OrderState.AWAITING_DOCUMENTS)
        await match_documents(session, order)
    await session.flush()
    return order


def _fixed(field: str, fields: dict[str, Any]) -> bool:
    """A problem found in the platform's body (an unreadable amount) is fixed when the canonical field it
    feeds is given."""
    feeds = {"total_price": "actual_paid", "total": "actual_paid", "shipping_total": "freight",
             "shipping_lines": "freight", "total_tax": "tax_total", "line_items": "items", "fee_lines": "actual_paid",
             "total_discounts": "discount"}  # fmt: skip
    root = field.split(".")[0].split("[")[0].removeprefix("current_").removesuffix("_set")
    return feeds.get(root, root) in fields
