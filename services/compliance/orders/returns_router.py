"""The routes of what happens after release (docs/returns.md): an import return's goods back in the supervised
area, export returns (CEB213 / CEB215), and the master bill with customs' answers. Kept beside the order routes
(orders/router.py) so each module stays readable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from services.compliance.context import CustomsDep, PiiDep
from services.compliance.customs.models import CustomsMessage
from services.compliance.orders import declaration, logistics_receipts, lookup
from services.compliance.orders.export_returns import declare_tally, request_export_return
from services.compliance.orders.locks import lock_order_nos
from services.compliance.orders.logistics_models import ExportReturn
from services.compliance.orders.models import CustomsReturn, Order
from services.compliance.orders.returns import GOODS_BACK_WINDOW, OPEN_RETURNS, record_goods_back, released_at
from services.compliance.orders.returns_schemas import (
    ExportReturnIn,
    ExportReturnOut,
    GoodsBackIn,
    MasterBillView,
    ReturnView,
    TallyIn,
)
from services.compliance.roles import Ingest
from shared.auth import Reader
from shared.db import DbSession, get_scoped, scoped, utcnow
from shared.errors import Conflict, NotFound
from shared.schemas import PathId

router = APIRouter(prefix="/v1/compliance", tags=["compliance returns"])
Ebp = Annotated[str, Path(max_length=18)]
OrderNo = Annotated[str, Path(max_length=60)]
XML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/xml": {}}, "description": "the official message"}
}
NO_STORE = {"Cache-Control": "no-store"}


# --- import returns: the goods back in the supervised area ------------------------------------------------------


def _return_view(ret: CustomsReturn, order: Order) -> ReturnView:
    release = released_at(order)
    by = release + GOODS_BACK_WINDOW if release else None
    overdue = ret.state in OPEN_RETURNS and ret.goods_back_at is None and by is not None and by < utcnow()
    return ReturnView(
        id=ret.id, cop_no=ret.cop_no, state=ret.state, reason=ret.reason, lines=ret.lines,  # type: ignore[arg-type]
        created_at=ret.created_at, decided_at=ret.decided_at, released_at=release, goods_back_by=by,
        goods_back_at=ret.goods_back_at, overdue=overdue,
    )  # fmt: skip


async def _import_return(session: DbSession, org_id: str, return_id: str) -> tuple[CustomsReturn, Order]:
    ret = await get_scoped(session, CustomsReturn, return_id, org_id)
    order = await session.get(Order, ret.order_id)
    if order is None:
        raise NotFound(f"return {return_id} not found")
    return ret, order


@router.get("/returns/{return_id}", response_model=ReturnView)
async def get_return(return_id: PathId, principal: Reader, session: DbSession) -> ReturnView:
    """A declared import return, with customs' release time and the day its goods must be back by."""
    ret, order = await _import_return(session, principal.org_id, return_id)
    return _return_view(ret, order)


@router.post(
    "/returns/{return_id}/goods-back",
    response_model=ReturnView,
    responses={409: {"description": "customs refused the return: no goods are expected back"}},
)
async def goods_back(return_id: PathId, body: GoodsBackIn, principal: Ingest, session: DbSession) -> ReturnView:
    """Record that the returned goods are back in the supervised area (due 45 days after release); an overdue
    return leaves the exceptions list."""
    ret, order = await _import_return(session, principal.org_id, return_id)
    await record_goods_back(session, order, ret, body.arrived_at)
    return _return_view(ret, order)


# --- export returns ---------------------------------------------------------------------------------------------


def _export_out(ret: ExportReturn) -> ExportReturnOut:
    return ExportReturnOut.model_validate(ret)


@router.post(
    "/orders/{ebp_code}/{order_no}/export-returns",
    response_model=ExportReturnOut,
    status_code=201,
    responses={409: {"description": "not a released export order, or its list is not numbered by customs"}},
)
async def declare_export_return(
    ebp_code: Ebp, order_no: OrderNo, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep,
    response: Response, body: ExportReturnIn | None = None,
) -> ExportReturnOut:  # fmt: skip
    """Declare the return of a released export order (CEB213); customs' answer (CEB214) decides it."""
    await lock_order_nos(session, principal.org_id, [order_no])
    order = await lookup.get_order(session, principal.org_id, ebp_code, order_no)
    ret = await request_export_return(session, customs, pii, order, body or ExportReturnIn())
    response.headers["Location"] = f"/v1/compliance/export-returns/{ret.id}/xml"
    return _export_out(ret)


@router.get("/export-returns/{return_id}", response_model=ExportReturnOut)
async def get_export_return(return_id: PathId, principal: Reader, session: DbSession) -> ExportReturnOut:
    return _export_out(await get_scoped(session, ExportReturn, return_id, principal.org_id))


@router.post(
    "/export-returns/{return_id}/tally",
    response_model=ExportReturnOut,
    status_code=201,
    responses={409: {"description": "refused by customs, or its tally is declared already"}},
)
async def tally(
    return_id: PathId, body: TallyIn, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep,
    response: Response,
) -> ExportReturnOut:  # fmt: skip
    """The returned goods tallied at the supervised site (CEB215), for its operator; CEB216 answers it."""
    ret = await get_scoped(session, ExportReturn, return_id, principal.org_id)
    order = await session.get(Order, ret.order_id)
    if order is None:
        raise NotFound(f"export return {return_id} not found")
    await lock_order_nos(session, principal.org_id, [order.order_no])
    await session.refresh(ret)
    ret = await declare_tally(session, customs, pii, order, ret, body)
    response.headers["Location"] = f"/v1/compliance/export-returns/{ret.id}/tally-xml"
    return _export_out(ret)


async def _export_message(session: DbSession, customs: CustomsDep, pii: PiiDep, org_id: str, return_id: str,
                          kind: str) -> Response:  # fmt: skip
    ret = await get_scoped(session, ExportReturn, return_id, org_id)
    stmt = scoped(CustomsMessage, org_id).where(CustomsMessage.return_id == ret.id, CustomsMessage.message_type == kind)
    message = (await session.execute(stmt.order_by(CustomsMessage.created_at.desc()).limit(1))).scalar_one_or_none()
    if message is None:  # the tally is declared later, once the goods are back
        raise Conflict(f"the {kind} of export return {return_id} is not declared yet")
    body = await declaration.prepare(session, customs, pii, message)
    return Response(body, media_type="application/xml", headers=NO_STORE)


@router.get("/export-returns/{return_id}/xml", response_class=Response, responses=XML)
async def export_return_xml(
    return_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep
) -> Response:
    """The return application (CEB213) as sent."""
    return await _export_message(session, customs, pii, principal.org_id, return_id, "CEB213")


@router.get("/export-returns/{return_id}/tally-xml", response_class=Response, responses=XML)
async def tally_xml(
    return_id: PathId, principal: Ingest, session: DbSession, pii: PiiDep, customs: CustomsDep
) -> Response:
    """The tally of the goods back (CEB215) as sent."""
    return await _export_message(session, customs, pii, principal.org_id, return_id, "CEB215")


# --- master bills -----------------------------------------------------------------------------------------------


@router.get("/master-bills/{link_id}", response_model=MasterBillView)
async def get_master_bill(link_id: PathId, principal: Reader, session: DbSession) -> MasterBillView:
    """A master bill XBM declared (CEB607): its bill, voyage, the lists it carries and customs' answers (CEB608)."""
    return await logistics_receipts.master_bill_view(session, principal.org_id, link_id)
