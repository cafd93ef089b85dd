from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from services.compliance.context import PiiDep
from services.compliance.intake import service
from services.compliance.orders.documents import OrderDoc, PaymentDoc, WaybillDoc
from services.compliance.orders.intake import Ingested, ingest
from services.compliance.orders.schemas import IngestOut, MessageOut
from services.compliance.roles import Ingest
from shared.db import DbSession
from shared.errors import UnsupportedMediaType
from shared.schemas import PathId

router = APIRouter(prefix="/v1/compliance", tags=["compliance intake"])

INGEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "a copy of a document already stored: nothing new stored (`duplicate`); or, for an order "
        "in mismatch or refused by customs, a different version under the same key: applied and compared again "
        "(`corrected`)"
    },
    201: {"description": "stored"},
}
XML_TYPES = ("application/xml", "text/xml")


def _out(result: Ingested | None) -> IngestOut:
    if result is None:
        return IngestOut(status="ignored")
    return IngestOut(
        status=result.status,  # type: ignore[arg-type]
        kind=result.kind,
        ebp_code=result.ebp_code,
        order_no=result.order_no or None,
        state=result.state,
        outcome=result.outcome,
    )


def _answer(result: Ingested, response: Response) -> IngestOut:
    if result.status == "stored":
        response.status_code = 201
        if result.ebp_code:
            response.headers["Location"] = f"/v1/compliance/orders/{result.ebp_code}/{result.order_no}"
    return _out(result)


@router.post(
    "/webhooks/{source_id}",
    response_model=IngestOut,
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
    responses={
        401: {"description": "bad or stale signature: nothing stored"},
        403: {"description": "role may not send this"},
        413: {"description": "body over the size limit"},
    },
)
async def webhook(source_id: PathId, request: Request, session: DbSession, pii: PiiDep) -> IngestOut:
    """A signed delivery in the source's own scheme, verified over the raw bytes. A Shopify or WooCommerce
    delivery that verifies is always acknowledged (200): stored as received, then read; an order XBM cannot use
    yet is held ``incomplete`` (see the exceptions). WooCommerce's unsigned ping ``webhook_id=N`` → 200."""
    body = await request.body()
    return _out(await service.receive_webhook(session, pii, source_id, body, request.headers))


@router.post("/orders", response_model=IngestOut, status_code=200, responses=INGEST_RESPONSES)
async def post_order(
    body: OrderDoc, principal: Ingest, session: DbSession, pii: PiiDep, response: Response
) -> IngestOut:
    return _answer(await ingest(session, pii, principal.org_id, body), response)


@router.post("/payments", response_model=IngestOut, status_code=200, responses=INGEST_RESPONSES)
async def post_payment(
    body: PaymentDoc, principal: Ingest, session: DbSession, pii: PiiDep, response: Response
) -> IngestOut:
    return _answer(await ingest(session, pii, principal.org_id, body), response)


@router.post("/waybills", response_model=IngestOut, status_code=200, responses=INGEST_RESPONSES)
async def post_waybill(
    body: WaybillDoc, principal: Ingest, session: DbSession, pii: PiiDep, response: Response
) -> IngestOut:
    return _answer(await ingest(session, pii, principal.org_id, body), response)


@router.post(
    "/messages",
    response_model=MessageOut,
    openapi_extra={"requestBody": {"content": {"application/xml": {"schema": {"type": "string"}}}}},
    responses={400: {"description": "malformed XML, DTD or entities"}, 415: {"description": "not XML"}},
)
async def post_message(request: Request, principal: Ingest, session: DbSession, pii: PiiDep) -> MessageOut:
    """Official customs XML: CEB311/411/511 documents and CEB312/412/512/622/900 receipts."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in XML_TYPES:
        raise UnsupportedMediaType("send customs messages as application/xml")
    body = await request.body()
    return MessageOut.model_validate(await service.receive_message(session, pii, principal.org_id, body))
