from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from services.compliance.context import CustomsDep, PiiDep, SettingsDep
from services.compliance.customs import disclosure
from services.compliance.order_states import OrderState
from services.compliance.orders import (
    corrections,
    declaration,
    lifecycle,
    lookup,
    returns,
    summaries,
    summary,
    tax,
    views,
)
from services.compliance.orders.cancellation import cancel_order
from services.compliance.orders.locks import lock_order_nos
from services.compliance.orders.patch_schemas import OrderPatch
from services.compliance.orders.quota import CHINA
from services.compliance.orders.rematch import rematch
from services.compliance.orders.returns import request_return
from services.compliance.orders.schemas import (
    CancellationIn,
    DailyReport,
    ExceptionsPage,
    MasterBillIn,
    MasterBillOut,
    OrderOut,
    QuotaOut,
    ReturnIn,
    ReturnOut,
    SummaryIn,
    SummaryOut,
)
from services.compliance.orders.summary_schemas import SummaryDetailOut, SummaryHeadOut
from services.compliance.pii import mask
from services.compliance.roles import Ingest
from shared.auth import Admin, Principal, Reader
from shared.db import DbSession
from shared.errors import NotFound, Unprocessable
from shared.etag import Version
from shared.pagination import Pagination
from shared.schemas import IsoDate, Page, PathId

router = APIRouter(prefix="/v1/compliance", tags=["compliance orders"])
Ebp = Annotated[str, Path(max_length=18)]
OrderNo = Annotated[str, Path(max_length=60)]
XML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/xml": {}}, "description": "the official message"},
    503: {"description": "the signer cannot sign it now: retry after Retry-After, when the outbox tries again"},
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
    ebp_code: Ebp, order_no: OrderNo, principal: Reader, session: DbSession, version: Version
) -> OrderOut:
    order = await lookup.get_order(session, principal.org_id, ebp_code, order_no)
    out = await views.order_view(session, order)
    return version.answer(out)


@router.patch(
    "/orders/{ebp_code}/{order_no}",
    response_model=OrderOut,
    responses={
        409: {"description": "the order is not incomplete, in mismatch or rejected"},
        412: {"description": "stale If-Match"},
    },
)
async def complete_order(
    ebp_code: Ebp,
    order_no: OrderNo,
    body: OrderPatch,
    principal: Ingest,
    session: DbSession,
    pii: PiiDep,
    version: Version,
) -> OrderOut:
    """Complete an ``incomplete`` order with the fields it waits for, or correct one in ``mismatch`` or refused by
    customs (``rejected``); matching then runs, and an order whose checks pass is declared (again, for a refused
    one: docs/redeclaration.md)."""
    fields = body.model_dump(mode="json", exclude_none=True)
    order = await corrections.correct(session, pii, principal.org_id, ebp_code, order_no, fields, version.check)
    return version.answer(await views.order_view(session, order))


@router.post(
    "/orders/{ebp_code}/{order_no}/rematch",
    response_model=OrderOut,
    responses={409: {"description": "the order is past comparison (declared, in customs, ended)"}},
)
async def rematch_order(
    ebp_code: Ebp, order_no: OrderNo, principal: Ingest, session: DbSession, pii: PiiDep
) -> OrderOut:
    """Compare the order again on what is stored now, once the cause of its exception is fixed (an item record
    or payment institution added, a field given, a corrected document received). An ``incomplete`` order is
    validated again; one in ``mismatch`` or waiting for a document is compared; a ``matched`` one is declared
    if the customs profile is set; a ``rejected`` one whose checks pass is declared again under its copNo
    (docs/redeclaration.md). The answer is the order as it now stands."""
    order = await lifecycle.locked_order(session, principal.org_id, ebp_code, order_no)
    if order is None:
        raise NotFound(f"order {ebp_code}/{order_no} not found")
    order = await rematch(session, pii, order)
    return await views.order_view(session, order)


@router.post(
    "/orders/{ebp_code}/{order_no}/returns",
    response_model=ReturnOut,
    status_code=201,
    responses={409: {"description": "not a released import order, or more than 30 days since release"}},
)
async def declare_return(
    ebp_code: Ebp,
    order_no: OrderNo,
    principal: Ingest,
    session: DbSession,
    pii: PiiDep,
    customs: CustomsDep,
    response: Response,
    body: ReturnIn | None = None,
) -> ReturnOut:
    """Declare a buyer's return to customs (CEB625); its receipt (CEB626) decides it."""
    body = body or ReturnIn()
    await lock_order_nos(session, principal.org_id, [order_no])
    order = await lookup.get_order(session, principal.org_id, ebp_code, order_no)
    lines = [(line.gnum, line.qty) for line in body.lines] if body.lines is not None else None
    ret = await request_return(session, pii, order, body.reason or "", lines, ctx=customs)
    response.headers["Location"] = f"/v1/compliance/returns/{ret.id}/xml"
    return ReturnOut.model_validate(ret)


@router.post(
    "/orders/{ebp_code}/{order_no}/cancellation",
    response_model=OrderOut,
    responses={409: {"description": "released already (return it instead)"}},
)
async def cancel(
    ebp_code: Ebp,
    order_no: OrderNo,
    body: CancellationIn,
    principal: Admin,
    session: DbSession,
    pii: PiiDep,
    customs: CustomsDep,
) -> OrderOut:
    """Before declaration the order is cancelled; after it the inventory list is withdrawn (CEB605 / CEB623)."""
    await lock_order_nos(session, principal.org_id, [order_no])
    order = await lookup.get_order(session, principal.org_id, ebp_code, order_no)
    await cancel_order(session, pii, order, body.reason, ctx=customs)
    return await views.order_view(session, order)


NO_STORE = {"Cache-Control": "no-store"}


async def _message(
    session: DbSession, customs: CustomsDep, pii: PiiDep, principal: Principal, dec: str, which: str
) -> Response:
    body = await declaration.declaration_message(session, customs, pii, principal.org_id, dec, which)
    body, headers = disclosure.for_reader(principal, body)
    return Response(body, media_type="application/xml", headers={**NO_STORE, **headers})


@router.get(
    "/declarations/{declaration_id}/xml",
    response_class=Response,
    responses={**XML, 409: {"description": "an item record the declaration used is gone"}},
)
async def declaration_xml(
    declaration_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep
) -> Response:
    """The inventory list (CEB621 import, CEB603 export) as sent. The buyer's ID number is in full for admin
    only; the integration role reads it masked (header ``X-XBM-Id-Numbers: masked``)."""
    return await _message(session, customs, pii, principal, declaration_id, "list")


@router.get("/declarations/{declaration_id}/order-xml", response_class=Response, responses=XML)
async def order_message_xml(
    declaration_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep
) -> Response:
    """The order message (CEB311 import, CEB303 export) that goes with the declaration."""
    return await _message(session, customs, pii, principal, declaration_id, "order")


@router.get("/declarations/{declaration_id}/payment-xml", response_class=Response, responses=XML)
async def payment_message_xml(
    declaration_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep
) -> Response:
    """The receipt of payment (CEB403) XBM reports for an export order."""
    return await _message(session, customs, pii, principal, declaration_id, "payment")


@router.get(
    "/declarations/{declaration_id}/cancellation-xml",
    response_class=Response,
    responses={**XML, 422: {"description": "customs has not numbered the list yet"}},
)
async def cancellation_xml(
    declaration_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep
) -> Response:
    """The withdrawal (CEB623 import, CEB605 export) of a declared list."""
    return await _message(session, customs, pii, principal, declaration_id, "cancellation")


@router.get("/returns/{return_id}/xml", response_class=Response, responses=XML)
async def return_xml(
    return_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep,
    customs: CustomsDep,
) -> Response:  # fmt: skip
    """The declared return (CEB625)."""
    body = await summary.return_message(session, customs, pii, principal.org_id, return_id)
    body, headers = disclosure.for_reader(principal, body)
    return Response(body, media_type="application/xml", headers={**NO_STORE, **headers})


@router.post(
    "/summaries",
    response_model=SummaryOut,
    status_code=201,
    responses={409: {"description": "no customs profile, or no released list of the month left to summarise"}},
)
async def summarise(
    body: SummaryIn, principal: Admin, session: DbSession, pii: PiiDep, customs: CustomsDep, response: Response
) -> SummaryOut:
    """The month's summary declaration (CEB701) of the statisticsFlag-B export lists customs released that no
    standing summary holds yet (docs/flows.md, The monthly export summary)."""
    out = await summaries.summarise(session, customs, pii, principal.org_id, body.month)
    response.headers["Location"] = f"/v1/compliance/summaries/{out.id}/xml"
    return out


SummaryStatus = Literal["declared", "accepted", "summarised", "refused"]


@router.get("/summaries", response_model=Page[SummaryHeadOut])
async def list_summaries(
    principal: Reader,
    session: DbSession,
    page: Pagination,
    month: Annotated[
        str | None,
        Query(
            max_length=7, pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="only summaries of this month (YYYY-MM)"
        ),
    ] = None,
    status: Annotated[SummaryStatus | None, Query(description="only summaries in this status")] = None,
) -> Page[SummaryHeadOut]:
    """The organisation's monthly export summaries, oldest first, with customs' numbers."""
    items, cursor = await summaries.summary_page(session, principal.org_id, page, month, status)
    return Page(items=items, next_cursor=cursor)


@router.get("/summaries/{summary_id}", response_model=SummaryDetailOut)
async def get_summary(summary_id: PathId, principal: Reader, session: DbSession) -> SummaryDetailOut:
    """A summary with what the VAT-rebate claim needs: its month and status, customs' numbers (sumNo, declSeqNo,
    entryId), its lists and orders, their totals, and customs' answers with their times and words."""
    return await summaries.summary_detail(session, principal.org_id, summary_id)


@router.get("/summaries/{summary_id}/xml", response_class=Response, responses=XML)
async def summary_xml(
    summary_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep,
    customs: CustomsDep,
) -> Response:  # fmt: skip
    body = await summaries.summary_message(session, customs, pii, principal.org_id, summary_id)
    return Response(body, media_type="application/xml", headers=NO_STORE)


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
    """Orders that failed a check or have waited too long for a document, documents with no order, and messages
    to customs that failed (each with its reason, its next attempt and what resolves it)."""
    items, cursor, orphans = await views.exceptions_page(
        session, principal.org_id, page, settings.missing_document_hours, rule
    )
    first = page.cursor is None
    unreadable = await views.unreadable_deliveries(session, principal.org_id) if first else []
    failed = await views.failed_messages(session, principal.org_id) if first else []
    taxes = [tax.listed(o) for o in await tax.disagreements(session, principal.org_id)] if first else []
    overdue = await returns.returns_overdue(session, principal.org_id) if first else []
    return ExceptionsPage(
        items=items, next_cursor=cursor, orphans=orphans, unreadable=unreadable, failed_messages=failed,
        tax_disagreements=taxes, returns_overdue=overdue,
    )  # fmt: skip


@router.get("/quota", response_model=QuotaOut)
async def quota(
    principal: Reader,
    session: DbSession,
    pii: PiiDep,
    buyer_id_number: Annotated[
        str,
        Query(min_length=1, max_length=60, pattern=r"^[0-9A-Za-z]+$", description="the buyer's ID number"),
    ],
    year: Annotated[int | None, Query(ge=2016, le=2100, description="calendar year; this year by default")] = None,
) -> QuotaOut:
    year = year or datetime.now(CHINA).year
    return await views.buyer_quota(
        session, principal.org_id, pii.lookup_hash(buyer_id_number), mask(buyer_id_number), year
    )


@router.get("/reports/daily", response_model=DailyReport)
async def daily_report(
    principal: Reader,
    session: DbSession,
    day: Annotated[IsoDate | None, Query(alias="date", description="the day (UTC); today by default")] = None,
) -> DailyReport:
    return await views.daily_report(session, principal.org_id, day or datetime.now(UTC).date())


@router.post("/master-bills", response_model=MasterBillOut, status_code=201)
async def link_master_bill(
    body: MasterBillIn, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep, response: Response
) -> MasterBillOut:
    """CEB607: link export lists to the master bill and voyage they left on, once those are known."""
    out = await summary.link_master_bill(session, customs, pii, principal.org_id, body)
    response.headers["Location"] = f"/v1/compliance/master-bills/{out.id}/xml"
    return out


@router.get("/master-bills/{link_id}/xml", response_class=Response, responses=XML)
async def master_bill_xml(
    link_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep,
    customs: CustomsDep,
) -> Response:  # fmt: skip
    body = await summary.master_bill_message(session, customs, pii, principal.org_id, link_id)
    return Response(body, media_type="application/xml", headers=NO_STORE)
