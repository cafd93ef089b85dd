"""Events compliance consumes: plans' ``membership_tier.*`` keep the register's copy of each plan's tiers.
Compliance calls no one: plans points its own subscription here, and compliance points its
``customers.summary_changed`` at plans, each in its own database (:func:`subscribe_on_start`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance import contracts
from services.compliance.customers.tiers import apply_tier
from services.compliance.events import EVENTS
from services.plans.contracts import (
    MembershipTierChanged,
    MembershipTierCreated,
    MembershipTierDeleted,
    MembershipTierUpdated,
)
from shared.app_context import AppContext
from shared.events.inbox import Inbox, Outcome, Received
from shared.events.outbox import derive_webhook_secret
from shared.events.subscriptions.system import ensure_system_subscription

INBOX = Inbox("compliance", EVENTS)


@INBOX.handles(MembershipTierCreated, MembershipTierUpdated, MembershipTierDeleted)
async def tier_changed(session: AsyncSession, event: Received[MembershipTierChanged]) -> Outcome:
    deleted = isinstance(event.data, MembershipTierDeleted)
    applied = await apply_tier(session, event.org_id, event.data, deleted)
    return {"status": "applied" if applied else "stale"}


router = INBOX.router()


async def subscribe_on_start(ctx: AppContext) -> None:
    """Point the order events (the report's customs picture) and ``customers.summary_changed`` (the computed
    customer status) at plans (idempotent, every start). Compliance calls no one: this only writes its own
    subscription row, and the relay delivers as it does to every subscriber; the secret is derived from the
    service secret, so plans verifies the deliveries without storing anything."""
    settings = ctx.settings
    await ensure_system_subscription(
        ctx,
        EVENTS,
        "plans",
        f"{settings.plans_url.rstrip('/')}/internal/events/compliance",
        [event.type for event in contracts.EVENTS],
        derive_webhook_secret(ctx.service_secret, "compliance->plans"),
    )
