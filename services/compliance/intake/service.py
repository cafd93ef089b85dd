"""Intake: signed webhook deliveries and customs XML messages, turned into canonical documents."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs import messages as customs
from services.compliance.customs.xmlsafe import local, parse
from services.compliance.intake import platforms
from services.compliance.intake.signatures import VERIFIERS, BadSignature
from services.compliance.orders import intake as orders
from services.compliance.orders import logistics_receipts
from services.compliance.orders import receipts as customs_receipts
from services.compliance.orders.documents import OrderDoc, PaymentDoc, WaybillDoc
from services.compliance.orders.lookup import find_order
from services.compliance.orders.schemas import MessageOut
from services.compliance.pii import Pii
from services.compliance.setup.models import Source
from services.compliance.setup.service import ROLE_DOCUMENTS
from shared.db import is_uuid, lock_conflict_as_unavailable, utcnow
from shared.errors import BadRequest, FieldError, Forbidden, NotFound, Unauthorized, Unprocessable

MODELS: dict[str, type[OrderDoc] | type[PaymentDoc] | type[WaybillDoc]] = {
    "order": OrderDoc,
    "payment": PaymentDoc,
    "waybill": WaybillDoc,
}


def canonical(kind: str, data: Any, where: list[str | int]) -> OrderDoc | PaymentDoc | WaybillDoc:
    """Validate a canonical document; errors are 422 with their location inside the delivery or message."""
    try:
        return MODELS[kind].model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": [*where, *[p if isinstance(p, int) else str(p) for p in e["loc"]]], "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        first = errors[0]
        raise Unprocessable(f"{kind}: {'.'.join(map(str, first['loc']))}: {first['msg']}", errors=errors) from exc


# --- webhooks -----------------------------------------------------------------------------------------------


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("the delivery body is not JSON") from exc


def _document(source: Source, body: bytes) -> tuple[str, Any]:
    """(kind, canonical data) of a verified standard_webhooks delivery."""
    data = _json(body)
    if not isinstance(data, dict):
        raise BadRequest("the delivery body must be a JSON object")
    kind = data.get("type")
    if kind not in MODELS:
        raise FieldError("type", "type must be order, payment or waybill")
    return kind, data.get("data")


def source_secrets(pii: Pii, source: Source) -> list[str]:
    """The current secret, and the previous one while it is still valid after a rotation."""
    secrets = [pii.decrypt(source.secret_encrypted, f"source:{source.id}")]
    until = source.previous_secret_until
    if source.previous_secret_encrypted and until is not None and utcnow() < until:
        secrets.append(pii.decrypt(source.previous_secret_encrypted, f"source:{source.id}:previous"))
    return secrets


async def receive_webhook(
    session: AsyncSession, pii: Pii, source_id: str, body: bytes, headers: Mapping[str, str]
) -> orders.Ingested | None:
    """Verify, then store once. Bad signature → 401 and nothing stored; redelivery → the first outcome again.
    Shopify and WooCommerce deliveries are acknowledged whatever they hold (see :mod:`.platforms`)."""
    source = await session.get(Source, source_id) if is_uuid(source_id) else None
    if source is None:
        raise NotFound(f"source {source_id[:64]!r} not found")
    if platforms.is_woo_ping(source, body):
        return None  # WooCommerce's ping when the webhook is saved: unsigned, nothing to store
    try:
        dedupe_key = VERIFIERS[source.kind](source_secrets(pii, source), body, headers)
    except BadSignature as exc:
        raise Unauthorized(f"delivery signature rejected: {exc}") from exc
    if source.kind in ("shopify", "woocommerce"):
        async with lock_conflict_as_unavailable():
            return await platforms.receive(session, pii, source, dedupe_key, body, headers)
    kind, data = _document(source, body)
    if ROLE_DOCUMENTS[source.role] != kind:
        raise Forbidden(f"a {source.role} source may not send a {kind}")
    doc = canonical(kind, data, ["body", "data"])
    if isinstance(doc, OrderDoc) and doc.customs_profile_id is None and source.customs_profile_id is not None:
        doc = doc.model_copy(update={"customs_profile_id": source.customs_profile_id})  # the source's profile
    if not await orders.record_delivery(session, source.org_id, source.id, dedupe_key):
        order = await find_order(session, source.org_id, doc.order_no, getattr(doc, "ebp_code", None))
        state = order.state if order else None
        return orders.Ingested("duplicate", kind, getattr(doc, "ebp_code", None), doc.order_no, state)
    return await orders.ingest(session, pii, source.org_id, doc)


# --- customs messages ---------------------------------------------------------------------------------------


async def receive_message(session: AsyncSession, pii: Pii, org_id: str, body: bytes) -> MessageOut:
    root = parse(body)
    name = local(root.tag)
    # the answer is counted up as the message is applied
    result = MessageOut(message_type=name, guid=root.get("guid"))
    if name in customs.DOCUMENT_MESSAGES:
        kind, data = customs.documents(root)
        docs = [canonical(kind, d, ["body", kind, i]) for i, d in enumerate(data)]
        async with lock_conflict_as_unavailable():
            outcomes = await orders.ingest_all(session, pii, org_id, docs)
            await session.flush()
        for outcome in outcomes:
            result.documents += 1
            result.stored += outcome.status == "stored"
            result.duplicates += outcome.status == "duplicate"
            if outcome.state and outcome.ebp_code:
                result.states[f"{outcome.ebp_code}/{outcome.order_no}"] = outcome.state
    elif name in customs.RECEIPT_MESSAGES:
        receipts = customs.receipts(root)
        async with lock_conflict_as_unavailable():
            applied = await customs_receipts.apply_receipts(session, org_id, receipts)
        result.receipts = len(applied)
        result.applied = sum(applied)
        result.unmatched = result.receipts - result.applied
    elif name in logistics_receipts.MANIFESTS:  # another party's arrival or departure: the waybills it lists
        await logistics_receipts.record_manifest(session, org_id, root)
    elif name not in customs.KNOWN_OTHER:
        raise FieldError((), f"{name[:40]} is not a customs message XBM takes")
    return result
