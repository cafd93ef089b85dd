"""``membership_tier.created|updated|deleted``: compliance applies a plan's tiers to the buyers it knows, so
every change of a tier is announced with everything needed to apply it (never the benefits' text)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.events import publish
from services.plans.execution.models import MembershipTier
from shared.db import utcnow
from shared.schemas import format_decimal

TIER_EVENTS = ("membership_tier.created", "membership_tier.updated", "membership_tier.deleted")


def tier_event(tier: MembershipTier) -> dict[str, Any]:
    spend = tier.min_spend
    return {
        "tier_id": tier.id,
        "plan_id": tier.plan_id,
        "name": tier.name,
        "level": tier.level,
        "min_orders": tier.min_orders,
        "min_spend": {"amount": format_decimal(spend["amount"]), "currency": spend["currency"]} if spend else None,
        "window_days": tier.window_days,
        # the receiver keeps the newest version: a late delivery of an older one changes nothing
        "changed_at": utcnow().isoformat(),
    }


async def tier_written(session: AsyncSession, action: str, tier: MembershipTier) -> None:
    await publish(session, tier.org_id, f"membership_tier.{action}", tier_event(tier))
