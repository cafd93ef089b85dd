"""The membership tiers plans announces (``membership_tier.*``), kept as plans last described them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers.models import Tier
from services.compliance.customers.register import mark_changed
from services.plans.contracts import MembershipTierChanged


async def apply_tier(session: AsyncSession, org_id: str, data: MembershipTierChanged, deleted: bool) -> bool:
    """Keep plans' newest word on a tier; an event older than what is stored changes nothing."""
    tier = await session.get(Tier, data.tier_id)
    if tier is not None and (tier.org_id != org_id or tier.changed_at >= data.changed_at):
        return False
    if tier is None:
        tier = Tier(id=data.tier_id, org_id=org_id)
        session.add(tier)
    spend = data.min_spend
    tier.plan_id = data.plan_id
    tier.name = (data.name or "")[:200]
    tier.level = data.level
    tier.min_orders = data.min_orders or 0
    tier.min_spend_amount = spend.amount if spend else None
    tier.min_spend_currency = spend.currency if spend else None
    tier.window_days = data.window_days or 365
    tier.changed_at = data.changed_at
    tier.deleted = deleted
    await session.flush()
    await mark_changed(session, org_id)
    return True
