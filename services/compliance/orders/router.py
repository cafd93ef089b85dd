from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from services.compliance.deps import Ingest, PiiDep, SettingsDep
from services.compliance.orders import service, views
from services.compliance.orders.schemas import DailyReport, ExceptionsPage, OrderOut, QuotaOut, ReturnIn
from services.compliance.pii import mask
from shared.auth import Reader
from shared.db import DbSession
from shared.errors import Unprocessable
from shared.etag import set_etag
from shared.pagination import Pagination
from shared.schemas import IsoDate, Page

router = APIRouter(prefix="/v1/compliance", tags=["compliance orders"])
Ebp = Annotated[str, Path(max_length=18)]
OrderNo = Annotated[str, Path(max_length=60)]
#: the states an order can be in (the `state` filter of the order list)
OrderState = Literal[
    "incomplete", "awaiting_documents", "mismatch", "matched", "declared", "accepted", "rejected", "inspection",
    "detained", "cleared", "released", "closed", "returned", "returned_by_buyer", "cancel_requested", "cancelled",
]  # fmt: skip
XML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/xml": {}}, "description": "the official message"}
}


@router.get("/orders", response_model=Page[OrderOut])
async def list_orders(
    principal: Reader,
    session: DbSession,
    page: Pagination,
    state: Annotated[OrderState | None, Query(description="only orders in this state")] = None,
    trade_direction: Annotated[
        Literal["import", "export"] | None, Query(description="only import or only export orders")
    ] = None,
    received_from: Annotated[
        IsoDate | None, Query(alias="from", description="only orders received on or after this day (UTC)")
    ] = None,
    received_to: Annotated[
        IsoDate | None, Query(alias="to", description="only orders received on or before this day (UTC)")
    ] = None,
) -> Page[OrderOut]:
    """The organisation's orders, oldest first, with their documents, checks and tax."""
    if received_from and received_to and received_to < received_from:
        raise Unprocessable("`to` is before `from`", loc=["query", "to"])
    filters = views.OrderFilters(state, trade_direction, received_from, received_to)
    items, cursor = await views.order_page(session, principal.org_id, page, filters)
    return Page(items=items, next_cursor=cursor)


@router.get("/orders/{ebp_code}/{order_no}", response_model=OrderOut)
async def get_order(
    ebp_code: Ebp, order_no: OrderNo, principal: Reader, session: DbSession, response: Response
) -> OrderOut:
    order = await service.get_order(session, principal.org_id, ebp_code, order_no)
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
async def exceptions(
    principal: Reader,
    session: DbSession,
    page: Pagination,
    settings: SettingsDep,
    rule: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[a-z0-9_]+$",
            description="only mismatched orders failing this check (a `rule` of `checks`, e.g. `amount_matches`)",
        ),
    ] = None,
) -> ExceptionsPage:
    """Orders that failed a check or have waited too long for a document, and documents with no order."""
    items, cursor, orphans = await views.exceptions_page(
        session, principal.org_id, page, settings.missing_document_hours, rule
    )
    return ExceptionsPage(items=items, next_cursor=cursor, orphans=orphans)


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
