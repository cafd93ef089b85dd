from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.campaigns.campaigns import service
from services.campaigns.campaigns.models import Campaign
from services.campaigns.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    KindRef,
    MetricsIn,
    MetricsOut,
    Status,
    TransitionIn,
    campaign_out,
)
from services.campaigns.context import CampaignsCtx
from services.campaigns.performance.schemas import CampaignPerformanceOut, SbuPerformanceOut
from services.campaigns.performance.service import campaign_performance, sbu_performance
from services.campaigns.schema_types import Uuid
from shared.auth import Principal, Reader, require
from shared.db import DbSession, scoped, utcnow
from shared.etag import Version, Versioned
from shared.pagination import Pagination, paginate
from shared.schemas import IsoDate, Page, PathId

router = APIRouter(prefix="/v1", tags=["campaigns"])
CampaignWriter = Annotated[Principal, Depends(require("specialist"))]
MetricsWriter = Annotated[Principal, Depends(require("specialist", "integration"))]
AsOf = Annotated[IsoDate | None, Query(description="pacing as of this day (default today, UTC)")]


def _shown(version: Versioned, campaign: Campaign) -> CampaignOut:
    out = campaign_out(campaign)
    return version.answer(out)


@router.post(
    "/campaigns",
    response_model=CampaignOut,
    status_code=201,
    responses={
        409: {"description": "utm_campaign already used in this organisation"},
        503: {"description": "plans cannot be reached to check the SBU (Retry-After)"},
    },
)
async def create_campaign(
    body: CampaignIn,
    principal: CampaignWriter,
    session: DbSession,
    response: Response,
    version: Version,
    ctx: CampaignsCtx,
) -> CampaignOut:
    campaign = await service.create_campaign(session, ctx.plans(), principal, body)
    response.headers["Location"] = f"/v1/campaigns/{campaign.id}"
    return _shown(version, campaign)


@router.get("/campaigns", response_model=Page[CampaignOut])
async def list_campaigns(
    principal: Reader,
    session: DbSession,
    page: Pagination,
    sbu_id: Annotated[Uuid | None, Query(description="only the campaigns of this SBU")] = None,
    status: Annotated[Status | None, Query(description="only campaigns in this status")] = None,
    kind: Annotated[KindRef | None, Query(description="only campaigns of this kind (built-in or your own)")] = None,
) -> Page[CampaignOut]:
    """The organisation's campaigns, oldest first."""
    stmt = scoped(Campaign, principal.org_id)
    if sbu_id is not None:
        stmt = stmt.where(Campaign.sbu_id == sbu_id)
    if status is not None:
        stmt = stmt.where(Campaign.status == status)
    if kind is not None:
        stmt = stmt.where(Campaign.kind == kind)
    rows, cursor = await paginate(session, stmt, Campaign, page)
    return Page(items=[campaign_out(c) for c in rows], next_cursor=cursor)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: PathId, principal: Reader, session: DbSession, version: Version) -> CampaignOut:
    return _shown(version, await service.get_campaign(session, principal.org_id, campaign_id))


@router.patch(
    "/campaigns/{campaign_id}",
    response_model=CampaignOut,
    responses={409: {"description": "utm_campaign already used"}, 412: {"description": "stale If-Match"}},
)
async def patch_campaign(
    campaign_id: PathId,
    body: CampaignPatch,
    principal: CampaignWriter,
    session: DbSession,
    version: Version,
) -> CampaignOut:
    return _shown(version, await service.update_campaign(session, principal.org_id, campaign_id, body, version.check))


@router.post(
    "/campaigns/{campaign_id}/transitions",
    response_model=CampaignOut,
    responses={409: {"description": "the lifecycle does not allow this move"}, 412: {"description": "stale If-Match"}},
)
async def transition(
    campaign_id: PathId,
    body: TransitionIn,
    principal: CampaignWriter,
    session: DbSession,
    version: Version,
) -> CampaignOut:
    """Move the campaign to ``to``; with If-Match, only from the state that ETag shows."""
    return _shown(version, await service.transition(session, principal.org_id, campaign_id, body.to, version.check))


@router.put("/campaigns/{campaign_id}/metrics", response_model=MetricsOut)
async def put_metrics(campaign_id: PathId, body: MetricsIn, principal: MetricsWriter, session: DbSession) -> MetricsOut:
    """Upsert daily rows by (date, variant); up to 1,000 rows, written in one statement."""
    campaign = await service.get_campaign(session, principal.org_id, campaign_id)
    return MetricsOut(campaign_id=campaign.id, upserted=await service.record_metrics(session, campaign, body))


@router.get("/campaigns/{campaign_id}/performance", response_model=CampaignPerformanceOut)
async def get_performance(
    campaign_id: PathId, principal: Reader, session: DbSession, as_of: AsOf = None
) -> CampaignPerformanceOut:
    campaign = await service.get_campaign(session, principal.org_id, campaign_id)
    return await campaign_performance(session, campaign, as_of or utcnow().date())


@router.get(
    "/sbus/{sbu_id}/performance",
    response_model=SbuPerformanceOut,
    responses={409: {"description": "the SBU's campaigns count in several currencies"}},
)
async def get_sbu_performance(
    sbu_id: PathId, principal: Reader, session: DbSession, as_of: AsOf = None
) -> SbuPerformanceOut:
    return await sbu_performance(session, principal.org_id, sbu_id, as_of or utcnow().date())
