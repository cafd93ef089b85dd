"""Plans: create, list, read, change, delete (drafts only), activate; readiness and the audit.

Who writes: executives and admins create, change, delete and activate plans (the plan frames the
strategic layer they own); every role but integration reads."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy import func

from services.plans.planning import service
from services.plans.planning.models import AuditEntry, Plan
from services.plans.planning.readiness import health_of
from services.plans.planning.schemas import ActivateIn, AuditOut, HealthOut, PlanCreate, PlanOut, PlanPatch
from shared.auth import Principal, Reader, require
from shared.db import DbSession, get_scoped, scoped
from shared.etag import Version, Versioned
from shared.pagination import Pagination, paginate
from shared.schemas import Page, PathId

router = APIRouter(prefix="/v1/plans", tags=["plans"])
Executive = Annotated[Principal, Depends(require("executive"))]


def _shaped(plan: Plan, version: Versioned) -> PlanOut:
    return version.answer(PlanOut.model_validate(plan))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PlanOut)
async def create_plan(
    body: PlanCreate, principal: Executive, session: DbSession, response: Response, version: Version
) -> PlanOut:
    """Create a draft plan (executive or admin)."""
    plan = await service.create_plan(session, principal.org_id, body)
    response.headers["Location"] = f"/v1/plans/{plan.id}"
    return _shaped(plan, version)


@router.get("", response_model=Page[PlanOut])
async def list_plans(
    principal: Reader,
    session: DbSession,
    page: Pagination,
    status: Annotated[
        Literal["draft", "active", "archived"] | None, Query(description="only plans in this status")
    ] = None,
    key: Annotated[str | None, Query(max_length=100, description="the plan with this key, if any")] = None,
    name: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="only plans whose name contains this text (any case)"),
    ] = None,
) -> Page[PlanOut]:
    """The organisation's plans, oldest first (every role but integration)."""
    stmt = scoped(Plan, principal.org_id)
    if status is not None:
        stmt = stmt.where(Plan.status == status)
    if key is not None:
        stmt = stmt.where(Plan.key == key)
    if name is not None:
        # a literal substring: the user's % and _ are characters, not wildcards
        pattern = "%" + name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(Plan.name).like(pattern, escape="\\"))
    rows, cursor = await paginate(session, stmt, Plan, page)
    return Page(items=[PlanOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{plan_id}", response_model=PlanOut)
async def get_plan(plan_id: PathId, principal: Reader, session: DbSession, version: Version) -> PlanOut:
    return _shaped(await get_scoped(session, Plan, plan_id, principal.org_id), version)


@router.patch(
    "/{plan_id}",
    response_model=PlanOut,
    responses={409: {"description": "archived plan, or strategy locked"}, 412: {"description": "stale If-Match"}},
)
async def patch_plan(
    plan_id: PathId, body: PlanPatch, principal: Executive, session: DbSession, version: Version
) -> PlanOut:
    """Change a plan (executive or admin). `status: archived` archives an active plan; changing
    `strategy_locked_until` while the strategy is locked needs `override_reason`."""
    return _shaped(await service.update_plan(session, principal, plan_id, body, version.check), version)


@router.delete(
    "/{plan_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "only a draft plan can be deleted"}, 412: {"description": "stale If-Match"}},
)
async def delete_plan(plan_id: PathId, principal: Executive, session: DbSession, version: Version) -> Response:
    """Delete a draft plan and everything in it (executive or admin)."""
    await service.delete_plan(session, principal, plan_id, version.check)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{plan_id}/activate",
    response_model=PlanOut,
    responses={409: {"description": "not ready (the failing findings are listed in `findings`) or not a draft"}},
)
async def activate_plan(
    plan_id: PathId, principal: Executive, session: DbSession, version: Version, body: ActivateIn | None = None
) -> PlanOut:
    """draft → active (executive or admin); locks the strategy until `strategy_locked_until` (default: the
    period end). Its draft SBUs become active."""
    locked_until = body.strategy_locked_until if body else None
    return _shaped(await service.activate_plan(session, principal, plan_id, locked_until), version)


@router.get("/{plan_id}/health", response_model=HealthOut)
async def plan_health(plan_id: PathId, principal: Reader, session: DbSession) -> HealthOut:
    """Readiness: `ready` is false while any finding is an error."""
    ready, findings = await health_of(session, principal.org_id, plan_id)
    return HealthOut(ready=ready, findings=findings)


@router.get("/{plan_id}/audit", response_model=Page[AuditOut])
async def plan_audit(plan_id: PathId, principal: Reader, session: DbSession, page: Pagination) -> Page[AuditOut]:
    """Every write on the plan while active: who, when, what, before and after, and the reason given."""
    await get_scoped(session, Plan, plan_id, principal.org_id)
    stmt = scoped(AuditEntry, principal.org_id).where(AuditEntry.plan_id == plan_id)
    rows, cursor = await paginate(session, stmt, AuditEntry, page)
    return Page(items=[AuditOut.model_validate(r) for r in rows], next_cursor=cursor)
