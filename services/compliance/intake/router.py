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


#: what a Shopify store sends on ``orders/create`` (shortened): the example of a webhook delivery's body
SHOPIFY_ORDER: dict[str, Any] = {
    "id": 5821471234,
    "name": "#1001",
    "email": "jiao.hongyu@example.com",
    "created_at": "2026-09-01T08:00:00+08:00",
    "updated_at": "2026-09-01T08:00:00+08:00",
    "currency": "CNY",
    "financial_status": "paid",
    "total_price": "240.02",
    "subtotal_price": "200.00",
    "total_tax": "20.02",
    "total_discounts": "0.00",
    "total_shipping_price_set": {"shop_money": {"amount": "20.00", "currency_code": "CNY"}},
    "customer": {"id": 7012345, "first_name": "Hongyu", "last_name": "Jiao", "phone": "+8613522652231"},
    "shipping_address": {
        "name": "Jiao Hongyu",
        "phone": "13522652231",
        "address1": "1 Zhongguancun Street",
        "city": "Beijing",
        "province": "Haidian",
        "country_code": "CN",
    },
    "line_items": [{"id": 1, "sku": "SCARF-1", "title": "Wool scarf", "quantity": 2, "price": "100.00"}],
}
#: a customs receipt (CEB622, the inventory list accepted): the example of a message's body
RECEIPT = (
    '<CEB622Message xmlns="http://www.chinaport.gov.cn/ceb" guid="4CDE1CFD-EDED-46B1-946C-B8022E42FC94" version="1.0">'
    "<InventoryReturn><guid>4CDE1CFD-EDED-46B1-946C-B8022E42FC94</guid><agentCode>1105980159</agentCode>"
    "<copNo>XBM20260901001</copNo><preNo>B20260901000000001</preNo><invtNo>46042026I000000001</invtNo>"
    "<ebcCode>1105910159</ebcCode><ebpCode>1105910159</ebpCode><orderNo>XBM2026090100123</orderNo>"
    "<returnStatus>120</returnStatus><returnTime>20260901120000000</returnTime><returnInfo>accepted</returnInfo>"
    "</InventoryReturn></CEB622Message>"
)


@router.post(
    "/webhooks/{source_id}",
    response_model=IngestOut,
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}, "example": SHOPIFY_ORDER}}}
    },
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
    openapi_extra={"requestBody": {"content": {"application/xml": {"schema": {"type": "string"}, "example": RECEIPT}}}},
    responses={400: {"description": "malformed XML, DTD or entities"}, 415: {"description": "not XML"}},
)
async def post_message(request: Request, principal: Ingest, session: DbSession, pii: PiiDep) -> MessageOut:
    """Official customs XML: CEB311/411/511 documents and CEB312/412/512/622/900 receipts."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in XML_TYPES:
        raise UnsupportedMediaType("send customs messages as application/xml")
    body = await request.body()
    return MessageOut.model_validate(await service.receive_message(session, pii, principal.org_id, body))
