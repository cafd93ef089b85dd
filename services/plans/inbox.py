"""Events plans consumes: campaigns' ``sbu.performance_changed`` feeds the SBU grid's read model and, with
``campaign.status_changed`` and ``experiment.decided``, the report's campaign and experiment sections;
compliance's ``order.*`` events feed the report's customs picture and ``customers.summary_changed`` the computed
customer status. Plans calls no one: each publisher points its own subscription here, and plans points its
``membership_tier.*`` at compliance (:func:`subscribe_on_start`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.contracts import CampaignStatusChanged, ExperimentDecided, SbuPerformanceChanged
from services.compliance.contracts import STATE_EVENTS, CustomersSummaryChanged, OrderChanged
from services.plans.customer_status.service import apply_summary
from services.plans.events import EVENTS
from services.plans.execution.tier_events import TIER_EVENTS
from services.plans.outcomes.service import apply_campaign_status, apply_campaigns, apply_experiment, apply_order
from services.plans.sbus.service import apply_sbu_performance
from shared.app_context import AppContext
from shared.events.inbox import Inbox, Outcome, Received
from shared.events.outbox import derive_webhook_secret
from shared.events.subscriptions.system import ensure_system_subscription

INBOX = Inbox("plans", EVENTS)


@INBOX.handles(SbuPerformanceChanged)
async def sbu_performance_changed(session: AsyncSession, event: Received[SbuPerformanceChanged]) -> Outcome:
    data = event.data
    stored = await apply_sbu_performance(
        session, event.org_id, data.sbu_id, data.spend, data.revenue, data.currency, data.as_of, data.released_revenue
    )
    if stored:
        await apply_campaigns(session, event.org_id, data.sbu_id, data.campaigns, data.as_of)
    return {"status": "applied" if stored else "stale"}


@INBOX.handles(CampaignStatusChanged)
async def campaign_status_changed(session: AsyncSession, event: Received[CampaignStatusChanged]) -> Outcome:
    await apply_campaign_status(session, event.org_id, event.data.campaign_id, event.data.to)
    return {"status": "applied"}


@INBOX.handles(ExperimentDecided)
async def experiment_decided(session: AsyncSession, event: Received[ExperimentDecided]) -> Outcome:
    stored = await apply_experiment(session, event.org_id, event.data, event.occurred_at)
    return {"status": "applied" if stored else "stale"}


@INBOX.handles(*STATE_EVENTS.values())
async def order_changed(session: AsyncSession, event: Received[OrderChanged]) -> Outcome:
    """Compliance's order events: the report's customs picture."""
    stored = await apply_order(session, event.org_id, event.data, event.occurred_at)
    return {"status": "applied" if stored else "stale"}


@INBOX.handles(CustomersSummaryChanged)
async def customers_summary_changed(session: AsyncSession, event: Received[CustomersSummaryChanged]) -> Outcome:
    """Compliance's customer summaries: the computed customer status."""
    stored = await apply_summary(session, event.org_id, event.data)
    return {"status": "applied" if stored else "stale"}


router = INBOX.router()


async def subscribe_on_start(ctx: AppContext) -> None:
    """Point ``membership_tier.*`` at compliance (idempotent, every start)."""
    settings = ctx.settings
    await ensure_system_subscription(
        ctx,
        EVENTS,
        "compliance",
        f"{settings.compliance_url.rstrip('/')}/internal/events/plans",
        [event.type for event in TIER_EVENTS.values()],
        derive_webhook_secret(ctx.service_secret, "plans->compliance"),
    )
