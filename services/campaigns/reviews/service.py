"""PDCA / DR reviews of a campaign, each freezing the performance it judged."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.models import Campaign
from services.campaigns.performance.service import campaign_performance
from services.campaigns.reviews.models import CampaignReview
from services.campaigns.reviews.schemas import ReviewIn
from shared.db import get_scoped, utcnow
from shared.errors import NotFound


async def add_review(session: AsyncSession, campaign: Campaign, body: ReviewIn) -> CampaignReview:
    snapshot = await campaign_performance(session, campaign, utcnow().date())
    review = CampaignReview(
        org_id=campaign.org_id,
        campaign_id=campaign.id,
        loop=body.loop,
        phase=body.phase,
        findings=body.findings,
        actions=body.actions,
        snapshot=snapshot.model_dump(mode="json"),
    )
    session.add(review)
    await session.flush()
    return review


async def get_review(session: AsyncSession, campaign: Campaign, review_id: str) -> CampaignReview:
    review = await get_scoped(session, CampaignReview, review_id, campaign.org_id)
    if review.campaign_id != campaign.id:
        raise NotFound(f"review {review_id} not found")
    return review
