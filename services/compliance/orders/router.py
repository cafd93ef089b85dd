from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.compliance.deps import Ingest, PiiDep, SettingsDep
from services.compliance.intake import lifecycle
from services.compliance.intake.schemas import OrderPatch
from services.compliance.orders import service, views
from services.compliance.orders.schemas import DailyReport, ExceptionsPage, OrderOut, QuotaOut, ReturnIn
from services.compliance.pii import mask
from shared.auth import Reader
from shared.db import DbSession
from shared.errors import Conflict, NotFound
from shared.etag import check_if_match, set_etag
from shared.pagination import Pagination
from shared.schemas import IsoDate, Page

router = APIRouter(prefix="/v1/compliance", tags=["compliance orders"])
Ebp = Annotated[str, Path(max_length=18)]
OrderNo = Annotated[str, Path(max_length=60)]
XML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/xml": {}}, "description": "the official message"}
}


@router.get("/orders", response_model=Page[OrderOut])
async def list_orders(
    principal: Reader,
    session: DbSession,
    page: Pagination,
    state: Annotated[str | None, Query(max_length=24)] = None,
) -> Page[OrderOut]:
    items, cursor = await views.order_page(session, principal.org_id, page, state)
    return Page(items=items, next_cursor=cursor)


@router.get("/orders/{ebp_code}/{order_no}", response_model=OrderOut)
async def get_order(
    ebp_code: Ebp, order_no: OrderNo, principal: Reader, session: DbSession, response: Response
) -> OrderOut:
    order = await service.get_order(session, principal.org_id, ebp_code, order_no)
    out = await views.order_view(session, order)
    set_etag(response, out)
    return out


@router.patch(
    "/orders/{ebp_code}/{order_no}",
    response_model=OrderOut,
    responses={409: {"description": "the order is not incomplete"}, 412: {"description": "stale If-Match"}},
)
async def complete_order(
    ebp_code: Ebp,
    order_no: OrderNo,
    body: OrderPatch,
    principal: Ingest,
    session: DbSession,
    pii: PiiDep,
    request: Request,
    response: Response,
) -> OrderOut:
    """Complete an ``incomplete`` order with the fields it waits for; matching then runs."""
    order = await lifecycle.locked_order(session, principal.org_id, ebp_code, order_no)
    if order is None:
        raise NotFound(f"order {ebp_code}/{order_no} not found")
    check_if_match(request, await views.order_view(session, order))
    if order.state != "incomplete":
        raise Conflict(f"only an incomplete order can be completed; this one is {order.state}")
    order = await lifecycle.complete(session, pii, order, body.model_dump(mode="json", exclude_none=True))
    out = await views.order_view(session, order)
    set_etag(response, out)
    return out


@router.post(
    "/orders/{ebp_code}/{order_no}/returns",
    response_model=OrderOut,
    responses={409: {"description": "not released, or more than 30 days since release"}},
)
async def record_return(
    ebp_code: Ebp, order_no: OrderNo, principal: Ingest, session: DbSession, body: ReturnIn | None = None
) -> OrderOut:
    order = await service.record_return(session, principal.org_id, ebp_code, order_no)
    return await views.order_view(session, order)


@router.get(
    "/declarations/{declaration_id}/xml",
    response_class=Response,
    responses={**XML, 409: {"description": "an item record the declaration used is gone"}},
)
async def declaration_xml(
    declaration_id: Annotated[str, Path(max_length=64)], principal: Ingest, session: DbSession, pii: PiiDep
) -> Response:
    """The inventory list (CEB621 import, CEB603 export); it carries the buyer's ID number in full."""
    body = await service.declaration_xml(session, pii, principal.org_id, declaration_id)
    return Response(body, media_type="application/xml", headers={"Cache-Control": "no-store"})


@router.get("/declarations/{declaration_id}/order-xml", response_class=Response, responses=XML)
async def order_message_xml(
    declaration_id: Annotated[str, Path(max_length=64)], principal: Ingest, session: DbSession, pii: PiiDep
) -> Response:
    """The order message (CEB311 import, CEB303 export) that goes with the declaration."""
    body = await service.order_message_xml(session, pii, principal.org_id, declaration_id)
    return Response(body, media_type="application/xml", headers={"Cache-Control": "no-store"})


@router.get("/exceptions", response_model=ExceptionsPage)
async def exceptions(principal: Reader, session: DbSession, page: Pagination, settings: SettingsDep) -> ExceptionsPage:
    items, cursor, orphans = await views.exceptions_page(
        session, principal.org_id, page, settings.missing_document_hours
    )
    unreadable = await views.unreadable_deliveries(session, principal.org_id) if page.cursor is None else []
    return ExceptionsPage(items=items, next_cursor=cursor, orphans=orphans, unreadable=unreadable)


@router.get("/quota", response_model=QuotaOut)
async def quota(
    principal: Reader,
    session: DbSession,
    pii: PiiDep,
    buyer_id_number: Annotated[str, Query(min_length=1, max_length=60, pattern=r"^[0-9A-Za-z]+$")],
    year: Annotated[int | None, Query(ge=2016, le=2100)] = None,
) -> QuotaOut:
    year = year or datetime.now(service.CHINA).year
    return await views.buyer_quota(
        session, principal.org_id, pii.lookup_hash(buyer_id_number), mask(buyer_id_number), year
    )


@router.get("/reports/daily", response_model=DailyReport)
async def daily_report(
    principal: Reader, session: DbSession, day: Annotated[IsoDate | None, Query(alias="date")] = None
) -> DailyReport:
    return await views.daily_report(session, principal.org_id, day or datetime.now(UTC).date())
