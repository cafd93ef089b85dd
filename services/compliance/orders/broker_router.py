"""The routes of a B2B export declared by customs declaration (报关单): the broker's document, recording the
broker's declaration, routing the order again (orders/routing.py, docs/flows.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.compliance.orders import broker, corrections, lookup, views
from services.compliance.orders.broker_schemas import BrokerDocument, DeclaredIn
from services.compliance.orders.router import Ebp, OrderNo
from services.compliance.orders.schemas import OrderOut
from services.compliance.roles import Ingest
from shared.auth import Principal
from shared.db import DbSession
from shared.etag import Version

router = APIRouter(prefix="/v1/compliance", tags=["compliance orders"])
WRONG_STATE: dict[int | str, dict[str, Any]] = {
    409: {"description": "the order is not held for a customs declaration (or was declared under another number)"},
    412: {"description": "stale If-Match"},
}


@router.get(
    "/orders/{ebp_code}/{order_no}/customs-declaration",
    response_model=BrokerDocument,
    responses={409: {"description": "the order is not declared by customs declaration"}},
)
async def customs_declaration_document(
    ebp_code: Ebp, order_no: OrderNo, principal: Ingest, session: DbSession
) -> BrokerDocument:
    """The document a customs broker declares a held B2B export from (报关单 fields: exporter, agent, customs,
    port, trade mode, transport, destination, currency, the goods line by line with HS code, name, specification,
    quantities and units, prices, origin, weights, and the value in CNY at the rate named)."""
    order = await lookup.get_order(session, principal.org_id, ebp_code, order_no)
    return await broker.broker_document(session, order)


async def _declared(
    ebp_code: str, order_no: str, body: DeclaredIn, principal: Principal, session: DbSession, version: Version
) -> OrderOut:
    order = await corrections.record_declared(session, principal.org_id, ebp_code, order_no, body, version.check)
    return version.answer(await views.order_view(session, order))


@router.post("/orders/{ebp_code}/{order_no}/customs-declaration/declared", response_model=OrderOut,
             responses=WRONG_STATE)  # fmt: skip
async def record_customs_declaration(
    ebp_code: Ebp, order_no: OrderNo, body: DeclaredIn, principal: Ingest, session: DbSession, version: Version
) -> OrderOut:
    """A broker declared the held export by customs declaration: its entry number recorded, the order
    ``declared_elsewhere`` (it ends there for XBM: customs answers the broker, not XBM). The same entry number
    again answers the order as it is; another one is a conflict."""
    return await _declared(ebp_code, order_no, body, principal, session, version)


@router.post("/orders/{ebp_code}/{order_no}/declared-elsewhere", response_model=OrderOut, responses=WRONG_STATE)
async def declared_elsewhere(
    ebp_code: Ebp, order_no: OrderNo, body: DeclaredIn, principal: Ingest, session: DbSession, version: Version
) -> OrderOut:
    """The same as ``POST …/customs-declaration/declared``."""
    return await _declared(ebp_code, order_no, body, principal, session, version)


@router.post("/orders/{ebp_code}/{order_no}/customs-declaration/reroute", response_model=OrderOut,
             responses=WRONG_STATE)  # fmt: skip
async def reroute(
    ebp_code: Ebp, order_no: OrderNo, principal: Ingest, session: DbSession, version: Version
) -> OrderOut:
    """Route a held export again on what is stored now (a corrected rate, order or item record): within ¥5,000
    with no goods needing a licence or inspection, its inventory list is declared; else it stays held."""
    order = await corrections.reroute(session, principal.org_id, ebp_code, order_no, version.check)
    return version.answer(await views.order_view(session, order))
