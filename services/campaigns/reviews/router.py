from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.campaigns.campaigns.service import get_campaign
from services.campaigns.reviews import service
from services.campaigns.reviews.models import CampaignReview
from services.campaigns.reviews.schemas import ReviewIn, ReviewOut
from shared.auth import Principal, Reader, require
from shared.db import DbSession, scoped
from shared.etag import Version
from shared.pagination import Pagination, paginate
from shared.schemas import Page, PathId

router = APIRouter(prefix="/v1", tags=["campaign reviews"])
ReviewWriter = Annotated[Principal, Depends(require("specialist"))]


@router.post("/campaigns/{campaign_id}/reviews", response_model=ReviewOut, status_code=201)
async def add_review(
    campaign_id: PathId,
    body: ReviewIn,
    principal: ReviewWriter,
    session: DbSession,
    response: Response,
    version: Version,
) -> ReviewOut:
    campaign = await get_campaign(session, principal.org_id, campaign_id)
    out = ReviewOut.model_validate(await service.add_review(session, campaign, body))
    response.headers["Location"] = f"/v1/campaigns/{campaign.id}/reviews/{out.id}"
    return version.answer(out)


@router.get("/campaigns/{campaign_id}/reviews", response_model=Page[ReviewOut])
async def list_reviews(campaign_id: PathId, principal: Reader, session: DbSession, page: Pagination) -> Page[ReviewOut]:
    campaign = await get_campaign(session, principal.org_id, campaign_id)
    stmt = scoped(CampaignReview, principal.org_id).where(CampaignReview.campaign_id == campaign.id)
    rows, cursor = await paginate(session, stmt, CampaignReview, page)
    return Page(items=[ReviewOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/campaigns/{campaign_id}/reviews/{review_id}", response_model=ReviewOut)
async def get_review(
    campaign_id: PathId, review_id: PathId, principal: Reader, session: DbSession, version: Version
) -> ReviewOut:
    campaign = await get_campaign(session, principal.org_id, campaign_id)
    out = ReviewOut.model_validate(await service.get_review(session, campaign, review_id))
    return version.answer(out)
