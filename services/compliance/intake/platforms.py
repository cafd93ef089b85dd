"""Deliveries from Shopify and WooCommerce: acknowledge, then process (README, platform orders).

Once the signature verifies the delivery is answered 2xx whatever it holds: its exact bytes are stored first
(once — a redelivery finds them and changes nothing), then it is routed on its topic. An order XBM cannot use
yet is held ``incomplete``; a body it cannot read is kept and listed in the exceptions. Refusing either would
make the platform retry for hours (Shopify) or disable the webhook, good orders included (WooCommerce)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers import erasure
from services.compliance.deliveries import PlatformDelivery
from services.compliance.intake.mapping import SKU_LIMIT, Mapped, is_woo_legacy, shopify_order, woocommerce_order
from services.compliance.orders import lifecycle
from services.compliance.orders.intake import Ingested
from services.compliance.orders.models import Order
from services.compliance.pii import Pii
from services.compliance.setup.models import Source
from shared.db import insert_ignore, new_id, scoped, utcnow

#: topics that carry the platform's order (docs/api.md); ``orders/edited`` carries an edit, and Shopify follows it
#: with ``orders/updated`` carrying the edited order, so the edit itself is only recorded
SHOPIFY_ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled", "orders/paid"})
WOO_ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
WOO_PING = re.compile(rb"^webhook_id=[0-9]{1,20}$")
ORDER_NO = re.compile(r"^[A-Za-z0-9_.\-]{1,60}$")


def is_woo_ping(source: Source, body: bytes) -> bool:
    """WooCommerce's unsigned ``webhook_id=N`` form body, sent when a webhook is saved; it expects 200."""
    return source.kind == "woocommerce" and WOO_PING.match(body.strip()) is not None


def topic_of(source: Source, headers: Mapping[str, str]) -> str:
    name = "x-shopify-topic" if source.kind == "shopify" else "x-wc-webhook-topic"
    default = "orders/create" if source.kind == "shopify" else "order.created"
    return (headers.get(name) or default).strip().lower()[:64]


def _codes(source: Source) -> dict[str, Any]:
    names = ("ebp_code", "ebp_name", "ebc_code", "trade_direction", "customs_profile_id")
    return {c: getattr(source, c) for c in names}


def body_context(org_id: str) -> str:
    """What a raw delivery's encryption is bound to (a body copied to another organisation does not open)."""
    return f"delivery:{org_id}"


async def _store(
    session: AsyncSession, pii: Pii, source: Source, dedupe_key: str, topic: str, body: bytes
) -> PlatformDelivery | None:
    """The raw delivery, first and once, sealed (it holds buyers' names, addresses, phones and ID numbers); None
    for a redelivery."""
    values = {"id": new_id(), "org_id": source.org_id, "source_id": source.id, "dedupe_key": dedupe_key[:200],
              "topic": topic, "body": pii.seal(body, body_context(source.org_id)), "received_at": utcnow(),
              "outcome": "received"}  # fmt: skip
    if not await insert_ignore(session, PlatformDelivery, values, ["source_id", "dedupe_key"]):
        return None
    return await session.get(PlatformDelivery, values["id"])


async def _redelivered(session: AsyncSession, source: Source, dedupe_key: str) -> Ingested:
    stmt = select(PlatformDelivery).where(
        PlatformDelivery.source_id == source.id, PlatformDelivery.dedupe_key == dedupe_key[:200]
    )
    first = (await session.execute(stmt)).scalar_one_or_none()
    state = None
    if first is not None and first.order_no and first.ebp_code:
        stmt2 = scoped(Order, source.org_id).where(Order.ebp_code == first.ebp_code, Order.order_no == first.order_no)
        order = (await session.execute(stmt2)).scalar_one_or_none()
        state = order.state if order else None
    return Ingested("duplicate", "order", first.ebp_code if first else None, (first.order_no or "") if first else "",
                    state)  # fmt: skip


def _parse(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, "the body is not JSON"
    if not isinstance(data, dict):
        return None, "the body is not a JSON object"
    return data, None


async def receive(
    session: AsyncSession, pii: Pii, source: Source, dedupe_key: str, body: bytes, headers: Mapping[str, str]
) -> Ingested:
    """A verified Shopify or WooCommerce delivery: stored, then routed on its topic; always acknowledged."""
    topic = topic_of(source, headers)
    delivery = await _store(session, pii, source, dedupe_key, topic, body)
    if delivery is None:
        return await _redelivered(session, source, dedupe_key)
    data, error = _parse(body)
    if data is None:
        return _done(delivery, "unreadable", error)
    named = data["order"] if is_woo_legacy(data) else data
    delivery.platform_id = str(named.get("order_id") or named.get("id") or "")[:40] or None
    if topic in SHOPIFY_ORDER_TOPICS or topic in WOO_ORDER_TOPICS:
        return await _order(session, pii, source, delivery, data, topic, headers)
    if topic in ("orders/delete", "order.deleted"):
        if not _deletion_body(named):
            # the topic header is not covered by the platform's signature: a signed order body re-sent under a
            # deletion topic is no deletion (a deletion's body names the order's id and nothing else)
            return _done(delivery, "ignored", f"a {topic} delivery whose body is not a deletion's; nothing changed")
        return await _deleted(session, pii, source, delivery)
    if topic == "refunds/create":
        return await _refund(session, pii, source, delivery, data)
    if source.kind == "shopify" and topic in REDACT_TOPICS:
        return await _redact(session, pii, source, delivery, data, topic)
    if source.kind == "shopify" and topic == "customers/data_request":
        delivery.body = b""  # it names the customer, and XBM has nothing to do with it
        return _done(delivery, "ignored", "a customer's data request: the seller answers it (docs/personal-data.md)")
    return _done(delivery, "ignored", f"topic {topic!r} carries no order")


def _done(delivery: PlatformDelivery, outcome: str, detail: str | None = None, order: Order | None = None) -> Ingested:
    delivery.outcome = outcome.split(":")[0][:24]
    delivery.detail = (detail or (outcome if ":" in outcome else None) or "")[:500] or None
    if order is not None:
        delivery.ebp_code, delivery.order_no = order.ebp_code, order.order_no
    # kept either way; "ignored" says the delivery carried nothing for XBM, "duplicate" an older version
    status = {"ignored": "ignored", "stale": "duplicate"}.get(outcome, "stored")
    said = delivery.detail or delivery.outcome
    if not said.startswith(delivery.outcome):
        said = f"{delivery.outcome}: {said}"
    return Ingested(status, "order", order.ebp_code if order else None, order.order_no if order else "",
                    order.state if order else None, outcome=said[:300])  # fmt: skip


async def _order(
    session: AsyncSession,
    pii: Pii,
    source: Source,
    delivery: PlatformDelivery,
    data: dict[str, Any],
    topic: str,
    headers: Mapping[str, str],
) -> Ingested:
    mapped: Mapped
    if source.kind == "shopify":
        test_header = (headers.get("x-shopify-test") or "").strip().lower() == "true"
        mapped = shopify_order(data, _codes(source), test_header=test_header)
        # cancelled when the body says so (cancelled_at): the topic header alone, which the signature does not
        # cover, cancels nothing
        mapped.cancelled = mapped.cancelled or (topic == "orders/cancelled" and bool(data.get("cancelled_at")))
    else:
        mapped = woocommerce_order(data, _codes(source))
    order_no = str(mapped.document.get("order_no") or "")
    if not ORDER_NO.match(order_no):
        return _done(delivery, "unreadable", f"no usable order number ({order_no[:60]!r})")
    outcome, order = await lifecycle.apply_version(session, pii, source.org_id, mapped)
    if order is not None and mapped.platform_id:
        await _apply_waiting(session, pii, source, order, mapped.platform_id)
    return _done(delivery, outcome, order=order)


async def _apply_waiting(session: AsyncSession, pii: Pii, source: Source, order: Order, platform_id: str) -> None:
    """Refunds and deletes that arrived before their order (Shopify sends them independently), applied now
    that it is here, in the order they arrived."""
    stmt = (
        select(PlatformDelivery)
        .where(
            PlatformDelivery.source_id == source.id,
            PlatformDelivery.platform_id == platform_id,
            PlatformDelivery.outcome == WAITING,
        )
        .order_by(PlatformDelivery.received_at, PlatformDelivery.id)
    )
    for waiting in (await session.execute(stmt)).scalars().all():
        if waiting.topic == "refunds/create":
            data, _ = _parse(pii.open(waiting.body, body_context(source.org_id)))
            refund, lines = _refund_of(data or {})
            _done(waiting, await lifecycle.refund_known(session, pii, order, refund, lines), order=order)
        else:
            _done(waiting, await lifecycle.cancel_known(session, pii, order, "deleted on the platform"), order=order)


async def _known_order(session: AsyncSession, source: Source, platform_id: str | None) -> Order | None:
    """The order known by the platform's order id (else the one an earlier delivery of this source stored
    under it, for orders stored before orders kept their platform id)."""
    if not platform_id:
        return None
    by_id = scoped(Order, source.org_id).where(Order.ebp_code == source.ebp_code, Order.platform_id == platform_id)
    found = (await session.execute(by_id.limit(1))).scalar_one_or_none()
    if found is not None:
        return found
    stmt = (
        select(PlatformDelivery.ebp_code, PlatformDelivery.order_no)
        .where(
            PlatformDelivery.source_id == source.id,
            PlatformDelivery.platform_id == platform_id,
            PlatformDelivery.order_no.is_not(None),
        )
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    stmt2 = scoped(Order, source.org_id).where(Order.ebp_code == row[0], Order.order_no == row[1])
    return (await session.execute(stmt2)).scalar_one_or_none()


async def _deleted(session: AsyncSession, pii: Pii, source: Source, delivery: PlatformDelivery) -> Ingested:
    order = await _known_order(session, source, delivery.platform_id)
    if order is None:
        return _keep(delivery, "delete")
    outcome = await lifecycle.cancel_known(session, pii, order, "deleted on the platform")
    return _done(delivery, outcome, order=order)


#: what a deletion's body holds: Shopify's orders/delete and WooCommerce's order.deleted send the order's id alone
DELETION_KEYS = frozenset({"id", "admin_graphql_api_id"})


def _deletion_body(data: dict[str, Any]) -> bool:
    return bool(data.get("id")) and set(data) <= DELETION_KEYS


#: a refund or delete naming an order not here yet: kept, and applied when the order arrives
WAITING = "waiting"


def _keep(delivery: PlatformDelivery, what: str) -> Ingested:
    if not delivery.platform_id:
        return _done(delivery, "unknown_order", f"the {what} names no order")
    detail = f"{what} of platform order {delivery.platform_id} kept; applied when the order arrives"
    return _done(delivery, WAITING, detail)


def _refund_of(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    refund = {"id": str(data.get("id") or "")[:40], "created_at": str(data.get("created_at") or "")[:40]}
    return refund, _refund_lines(data)


def _refund_lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    for entry in data.get("refund_line_items") or []:
        if not isinstance(entry, dict):
            continue
        item: dict[str, Any] = entry["line_item"] if isinstance(entry.get("line_item"), dict) else {}
        item_no = item.get("sku") or item.get("variant_id") or item.get("product_id") or entry.get("line_item_id")
        qty = entry.get("quantity")
        if isinstance(qty, int) and not isinstance(qty, bool) and 0 < qty < 10**9:
            lines.append({"item_no": str(item_no or "")[:SKU_LIMIT], "qty": str(qty)})
    return lines[:99]


async def _refund(
    session: AsyncSession, pii: Pii, source: Source, delivery: PlatformDelivery, data: dict[str, Any]
) -> Ingested:
    """Shopify ``refunds/create``: the refund names its order by the platform's id."""
    delivery.platform_id = str(data.get("order_id") or "")[:40] or None
    order = await _known_order(session, source, delivery.platform_id)
    if order is None:
        return _keep(delivery, "refund")
    refund, lines = _refund_of(data)
    outcome = await lifecycle.refund_known(session, pii, order, refund, lines)
    return _done(delivery, outcome, order=order)


#: Shopify's mandatory compliance webhooks that erase (``customers/data_request`` is answered by the seller and only
#: recorded here)
REDACT_TOPICS = frozenset({"customers/redact", "shop/redact"})


def _redact_body(data: dict[str, Any], topic: str) -> bool:
    """Shopify's redact bodies: ``shop_id`` and ``shop_domain``; ``customers/redact`` adds ``customer`` and
    ``orders_to_redact`` (an order's body is none of these)."""
    if "line_items" in data or not data.get("shop_domain") or not data.get("shop_id"):
        return False
    if topic == "shop/redact":
        return "customer" not in data
    customer = data.get("customer")
    return isinstance(customer, dict) and isinstance(data.get("orders_to_redact", []), list)


async def _redact(
    session: AsyncSession, pii: Pii, source: Source, delivery: PlatformDelivery, data: dict[str, Any], topic: str
) -> Ingested:
    """``customers/redact``: the customer's orders (``orders_to_redact``, and every order under the customer's id)
    erased as an erasure request is; ``shop/redact``: everything this source brought. docs/personal-data.md."""
    if not _redact_body(data, topic):
        return _done(delivery, "ignored", f"a {topic} delivery whose body is not Shopify's {topic}; nothing erased")
    if topic == "shop/redact":
        orders = await erasure.orders_of_platform(session, source.org_id, source.ebp_code)
        record = await erasure.erase(session, pii, source.org_id, orders, scope="shop",
                                     requested_by=f"shopify:{topic}", source_id=source.id,
                                     deliveries_of_source=source.id)  # fmt: skip
    else:
        customer = data["customer"]
        who = erasure.Subject(
            reg_no=str(customer.get("id") or "")[:60] or None,
            ebp_code=source.ebp_code,
            platform_order_ids=[str(i) for i in data.get("orders_to_redact") or [] if isinstance(i, (int, str))],
            email=str(customer.get("email") or "")[:254] or None,
            phone=str(customer.get("phone") or "")[:60] or None,
        )
        orders = await erasure.orders_of(session, pii, source.org_id, who) if not who.empty() else []
        customers = await erasure.customers_of(session, pii, source.org_id, who)
        record = await erasure.erase(session, pii, source.org_id, orders, scope="customer",
                                     requested_by=f"shopify:{topic}", source_id=source.id,
                                     customers=customers)  # fmt: skip
    delivery.body = b""  # the request itself names the person
    return _done(delivery, "erased", f"erasure {record.id}: {record.counts}")
