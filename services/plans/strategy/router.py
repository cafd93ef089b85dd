"""The strategic layer, written by executives and admins; while the plan's strategy is locked a write needs
`override_reason` (and lands in the audit as an override): the rule is in ``planning/strategy_lock.py``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from services.plans.planning.child_router import child_router
from services.plans.planning.strategy_lock import LOCKED, STRATEGISTS
from services.plans.strategy import service
from services.plans.strategy.schemas import PositioningIn, PositioningOut, SwotOut, TargetingIn, TargetingOut
from shared.auth import Principal, Reader, require
from shared.db import DbSession
from shared.etag import Version
from shared.schemas import PathId

router = APIRouter(prefix="/v1/plans/{plan_id}", tags=["strategic layer"])
Strategist = Annotated[Principal, Depends(require(*STRATEGISTS))]


@router.get("/swot", response_model=SwotOut)
async def get_swot(plan_id: PathId, principal: Reader, session: DbSession) -> Any:
    """The SWOT matrix by quadrant (heaviest first) and the TOWS strategy options `so`, `st`, `wo`, `wt`."""
    return await service.swot_matrix(session, principal, plan_id)


@router.get("/targeting", response_model=TargetingOut)
async def get_targeting(plan_id: PathId, principal: Reader, session: DbSession) -> TargetingOut:
    return await service.get_targeting(session, principal, plan_id)


@router.put("/targeting", response_model=TargetingOut, responses=LOCKED)
async def put_targeting(plan_id: PathId, body: TargetingIn, principal: Strategist, session: DbSession) -> TargetingOut:
    """Choose the target market: exactly the listed segments are targeted (executive or admin)."""
    return await service.set_targeting(session, principal, plan_id, body)


@router.get("/positioning", response_model=PositioningOut)
async def get_positioning(plan_id: PathId, principal: Reader, session: DbSession, version: Version) -> PositioningOut:
    return version.answer(PositioningOut.model_validate(await service.get_positioning(session, principal, plan_id)))


@router.put("/positioning", response_model=PositioningOut, responses={**LOCKED, 412: {"description": "stale If-Match"}})
async def put_positioning(
    plan_id: PathId, body: PositioningIn, principal: Strategist, session: DbSession, version: Version
) -> PositioningOut:
    """Set the brand positioning; it must name a targeted segment (executive or admin)."""
    return version.answer(
        PositioningOut.model_validate(await service.set_positioning(session, principal, plan_id, body, version.check))
    )


routers = [router, *(child_router(k) for k in (service.FACTORS, service.SWOT_ITEMS, service.SEGMENTS))]
