"""SBUs: created, changed, derived and retired by supervisors and admins; read by every role but integration.
`GET /v1/sbus/{id}` is what campaigns asks before binding work to an SBU: one query."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from services.plans.sbus import service
from services.plans.sbus.grid_json import sbu_grid_json
from services.plans.sbus.labels import get_view, views_of
from services.plans.sbus.models import Sbu
from services.plans.sbus.schemas import GridOut, SbuDerive, SbuIn, SbuOut, SbuPatch, SbuRetire, SbuView
from services.plans.tactics.service import SUPERVISORS
from shared.auth import Principal, Reader, require
from shared.db import DbSession, SingleReadSession
from shared.etag import Version, Versioned
from shared.pagination import Pagination, paginate
from shared.schemas import Page, PathId

router = APIRouter(prefix="/v1", tags=["sbus"])
Supervisor = Annotated[Principal, Depends(require(*SUPERVISORS))]
_VIEW = SbuView.__pydantic_serializer__


async def _shaped(session: DbSession, sbu: Sbu, version: Versioned) -> SbuView:
    # the ETag covers the SBU's own fields (what If-Match is checked against), not its labels
    version.answer(SbuOut.model_validate(sbu))
    (view,) = await views_of(session, [sbu])
    return view


@router.post(
    "/plans/{plan_id}/sbus",
    status_code=status.HTTP_201_CREATED,
    response_model=SbuView,
    responses={409: {"description": "the triple already has a live SBU, or the plan is archived"}},
)
async def create_sbu(
    plan_id: PathId, body: SbuIn, principal: Supervisor, session: DbSession, response: Response, version: Version
) -> SbuView:
    """A new SBU = customer × channel × product of this plan (supervisor or admin)."""
    sbu = await service.create_sbu(session, principal, plan_id, body)
    response.headers["Location"] = f"/v1/sbus/{sbu.id}"
    return await _shaped(session, sbu, version)


@router.get("/plans/{plan_id}/sbus", response_model=Page[SbuView])
async def list_sbus(
    plan_id: PathId,
    principal: Reader,
    session: DbSession,
    page: Pagination,
    status: Annotated[
        Literal["draft", "active", "retired"] | None, Query(description="only SBUs in this status")
    ] = None,
) -> Page[SbuView]:
    stmt = await service.list_sbus(session, principal, plan_id, status)
    rows, cursor = await paginate(session, stmt, Sbu, page)
    return Page(items=await views_of(session, rows), next_cursor=cursor)


@router.get("/plans/{plan_id}/sbu-grid", response_model=GridOut)
async def get_sbu_grid(plan_id: PathId, principal: Reader, session: DbSession) -> Response:
    """Every SBU as a cell of customer × channel × product, with spend, revenue and ROAS once campaigns'
    figures have arrived (`performance_known: false` and nulls until then)."""
    # GridOut's JSON written in one pass (grid_json.py), not a GridOut validated and serialised again
    return Response(await sbu_grid_json(session, principal, plan_id), media_type="application/json")


#: the fields the ETag covers (SbuOut's: the SBU's own, not its labels)
_VERSIONED = tuple(SbuOut.model_fields)


@router.get("/sbus/{sbu_id}", response_model=SbuView)
async def get_sbu(sbu_id: PathId, principal: Reader, session: SingleReadSession, version: Version) -> Response:
    # one dump of the view gives both the body and the ETag's SbuOut fields (the same values SbuOut would
    # dump): no second validation, no second serialisation by the response model
    data = _VIEW.to_python(await get_view(session, principal.org_id, sbu_id), mode="json")
    return version.answer_dumped(data, _VERSIONED)


@router.patch(
    "/sbus/{sbu_id}",
    response_model=SbuView,
    responses={409: {"description": "retired SBU or archived plan"}, 412: {"description": "stale If-Match"}},
)
async def patch_sbu(
    sbu_id: PathId, body: SbuPatch, principal: Supervisor, session: DbSession, version: Version
) -> SbuView:
    """Change need, demand, budget, revenue target or owner (supervisor or admin). Customer, channel and
    product never change (422): derive a new SBU."""
    sbu = await service.update_sbu(session, principal, sbu_id, body, version.check)
    return await _shaped(session, sbu, version)


@router.post(
    "/sbus/{sbu_id}/derive",
    status_code=status.HTTP_201_CREATED,
    response_model=SbuView,
    responses={409: {"description": "retired SBU, archived plan, or the new triple already has a live SBU"}},
)
async def derive_sbu(
    sbu_id: PathId, body: SbuDerive, principal: Supervisor, session: DbSession, response: Response, version: Version
) -> SbuView:
    """A new business model from this SBU (supervisor or admin): the new SBU keeps `derived_from`, this one
    is retired."""
    sbu = await service.derive_sbu(session, principal, sbu_id, body)
    response.headers["Location"] = f"/v1/sbus/{sbu.id}"
    return await _shaped(session, sbu, version)


@router.post("/sbus/{sbu_id}/retire", response_model=SbuView, responses={409: {"description": "already retired"}})
async def retire_sbu(
    sbu_id: PathId, body: SbuRetire, principal: Supervisor, session: DbSession, version: Version
) -> SbuView:
    """Retire an SBU with a reason (supervisor or admin)."""
    return await _shaped(session, await service.open_and_retire_sbu(session, principal, sbu_id, body), version)
