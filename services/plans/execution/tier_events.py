"""``membership_tier.created|updated|deleted``: compliance applies a plan's tiers to the buyers it knows, so
every change of a tier is announced with everything needed to apply it (never the benefits' text)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.contracts import (
    MembershipTierChanged,
    MembershipTierCreated,
    MembershipTierDeleted,
    MembershipTierUpdated,
    TierSpend,
)
from services.plans.events import publish
from services.plans.execution.models import MembershipTier
from shared.db import utcnow

TIER_EVENTS: dict[str, type[MembershipTierChanged]] = {
    "created": MembershipTierCreated,
    "updated": MembershipTierUpdated,
    "deleted": MembershipTierDeleted,
}


def tier_event(event: type[MembershipTierChanged], tier: MembershipTier) -> MembershipTierChanged:
    spend = tier.min_spend
    return event(
        tier_id=tier.id,
        plan_id=tier.plan_id,
        name=tier.name,
        level=tier.level,
        min_orders=tier.min_orders,
        min_spend=TierSpend(amount=spend["amount"], currency=spend["currency"]) if spend else None,
        window_days=tier.window_days,
        # the receiver keeps the newest version: a late delivery of an older one changes nothing
        changed_at=utcnow(),
    )


async def tier_written(session: AsyncSession, action: str, tier: MembershipTier) -> None:
    await publish(session, tier.org_id, tier_event(TIER_EVENTS[action], tier))
