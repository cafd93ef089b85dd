"""The membership tiers plans announces (``membership_tier.*``), kept as plans last described them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers.models import Tier
from services.compliance.customers.register import mark_changed


async def apply_tier(session: AsyncSession, org_id: str, data: dict[str, Any], deleted: bool) -> bool:
    """Keep plans' newest word on a tier; an event older than what is stored changes nothing."""
    changed_at = datetime.fromisoformat(str(data["changed_at"]))
    tier = await session.get(Tier, str(data["tier_id"]))
    if tier is not None and (tier.org_id != org_id or tier.changed_at >= changed_at):
        return False
    if tier is None:
        tier = Tier(id=str(data["tier_id"]), org_id=org_id)
        session.add(tier)
    spend = data.get("min_spend") or None
    tier.plan_id = str(data["plan_id"])
    tier.name = str(data.get("name") or "")[:200]
    tier.level = int(data["level"])
    tier.min_orders = int(data.get("min_orders") or 0)
    tier.min_spend_amount = Decimal(str(spend["amount"])) if spend else None
    tier.min_spend_currency = str(spend["currency"]) if spend else None
    tier.window_days = int(data.get("window_days") or 365)
    tier.changed_at = changed_at
    tier.deleted = deleted
    await session.flush()
    await mark_changed(session, org_id)
    return True
