from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response

from services.compliance.context import PiiDep
from services.compliance.customers import audiences as audience_service
from services.compliance.customers import erasure, service
from services.compliance.customers.models import Erasure
from services.compliance.customers.schemas import (
    AudiencePage,
    ErasureIn,
    ErasureOut,
    LifecycleIn,
    LifecycleOut,
    Stage,
    SummaryOut,
)
from shared.auth import Admin, Reader
from shared.db import DbSession, scoped
from shared.errors import BadRequest, NotFound
from shared.schemas import IsoDate

router = APIRouter(prefix="/v1/compliance", tags=["compliance customers"])
CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}},
        "description": "with format=csv: Email,Phone,Country — hashed as Customer Match and Custom Audiences take "
        "them; the next page's cursor in the X-Next-Cursor header",
    }
}


@router.get("/customers/summary", response_model=SummaryOut, responses={404: {"description": "no such source"}})
async def customer_summary(
    principal: Reader,
    session: DbSession,
    start: Annotated[
        IsoDate | None, Query(alias="from", description="first day (UTC); default 365 days before the end of to")
    ] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="last day (UTC), included; default today")] = None,
    source_id: Annotated[str | None, Query(max_length=64, description="a platform source: its orders only")] = None,
    trade_direction: Annotated[
        Literal["import", "export"] | None, Query(description="only imports or only exports")
    ] = None,
) -> SummaryOut:
    """Customers, repurchase rate, revenue, lifecycle stages and membership tiers over the released, not
    returned orders of the window."""
    scope = await service.scope_for(session, principal.org_id, start, end, source_id, trade_direction)
    return await service.summary_view(session, scope)


@router.get("/customers/lifecycle", response_model=LifecycleOut)
async def get_lifecycle(principal: Reader, session: DbSession) -> LifecycleOut:
    """The organisation's lifecycle windows in days."""
    return await service.get_lifecycle(session, principal.org_id)


@router.put("/customers/lifecycle", response_model=LifecycleOut)
async def put_lifecycle(body: LifecycleIn, principal: Admin, session: DbSession) -> LifecycleOut:
    """Admin: set the windows that place customers in stages (new ≤ active < at risk; older is lapsed)."""
    return await service.put_lifecycle(session, principal.org_id, body)


@router.get(
    "/audiences",
    response_model=AudiencePage,
    responses={**CSV, 404: {"description": "no such membership tier"}},
)
async def audiences(
    principal: Admin,
    session: DbSession,
    pii: PiiDep,
    stage: Annotated[Stage | None, Query(description="only customers in this lifecycle stage")] = None,
    tier: Annotated[str | None, Query(max_length=64, description="a membership tier id")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="JSON (paged) or CSV for an ad platform")] = "json",
    limit: Annotated[int, Query(ge=1, le=10_000, description="members per page")] = 1000,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> Any:
    """Admin: export buyers with an email or phone, as the SHA-256 of the normalised identifier (email trimmed
    and lower-cased; phone in E.164) — never the identifier itself, never an import buyer."""
    query = audience_service.AudienceQuery(stage=stage, tier_id=tier, limit=limit, cursor=cursor)
    members, next_cursor = await audience_service.audience(session, pii, principal.org_id, query)
    if format == "json":
        return AudiencePage(items=members, next_cursor=next_cursor)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Email", "Phone", "Country"])
    for m in members:
        writer.writerow([m.email_sha256 or "", m.phone_sha256 or "", m.country or ""])
    headers = {"Cache-Control": "no-store"}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    return Response(out.getvalue(), media_type="text/csv", headers=headers)


@router.post(
    "/customers/{customer_id}/erasure",
    response_model=ErasureOut,
    status_code=201,
    responses={404: {"description": "no personal data of this buyer is kept"}},
)
async def erase_customer(
    principal: Admin,
    session: DbSession,
    pii: PiiDep,
    customer_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=60,
            description="the platform's customer id "
            "(the orders' buyer.reg_no); '-' to find the buyer by the body alone",
        ),
    ],
    body: Annotated[ErasureIn | None, Body()] = None,
) -> ErasureOut:
    """Admin: erase a buyer's personal data everywhere compliance keeps it — orders, payments, waybills, the
    platforms' raw deliveries, the customer register (and so the audiences). A declared order keeps its customs
    record masked (docs/personal-data.md). The erasure is recorded without the person."""
    body = body or ErasureIn()
    who = erasure.Subject(reg_no=None if customer_id == "-" else customer_id, ebp_code=body.ebp_code,
                          platform_order_ids=body.platform_order_ids, order_nos=body.order_nos,
                          id_number=body.id_number, email=body.email, phone=body.phone,
                          country=body.country)  # fmt: skip
    if who.empty():
        raise BadRequest("name the buyer: a customer id in the path or an identifier in the body")
    orders = await erasure.orders_of(session, pii, principal.org_id, who)
    customers = await erasure.customers_of(session, pii, principal.org_id, who)
    if not orders and not customers:
        raise NotFound("no personal data of this buyer is kept")
    record = await erasure.erase(session, pii, principal.org_id, orders, scope="customer",
                                 requested_by=f"admin:{principal.subject}", customers=customers)  # fmt: skip
    return ErasureOut.model_validate(record, from_attributes=True)


@router.get("/erasures", response_model=list[ErasureOut])
async def list_erasures(
    principal: Admin,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000, description="the latest erasures first")] = 100,
) -> list[ErasureOut]:
    """Admin: the erasures done — who asked, when and how much was erased (never whose data it was)."""
    stmt = scoped(Erasure, principal.org_id).order_by(Erasure.erased_at.desc()).limit(limit)
    rows = (await session.execute(stmt)).scalars().all()
    return [ErasureOut.model_validate(r, from_attributes=True) for r in rows]
