"""On start-up campaigns subscribes to the events it consumes (plans' ``sbu.retired``, compliance's
``order.released``) and points its own ``sbu.performance_changed`` at plans — idempotently, every start.
Plans and compliance call no one, so campaigns registers both directions; the secrets are derived from the
deployment's service secret, so each side can verify the other without storing anything."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from services.campaigns.contracts import CampaignStatusChanged, ExperimentDecided, SbuPerformanceChanged
from services.campaigns.events import EVENTS
from services.campaigns.inbox import INBOX
from shared.events.outbox import derive_webhook_secret
from shared.events.subscriptions.system import upsert_system_subscription

if TYPE_CHECKING:  # the context starts these; its module imports this one
    from services.campaigns.context import CampaignsContext

log = logging.getLogger("xbm.campaigns.subscribe")


async def _register(ctx: CampaignsContext, publisher: str, base_url: str) -> None:
    secret = ctx.service_secret
    own = ctx.settings.campaigns_url.rstrip("/")
    body = {
        "url": f"{own}/internal/events/{publisher}",
        "event_types": INBOX.event_types(publisher),
        "secret": derive_webhook_secret(secret, f"{publisher}->campaigns"),
    }
    delay = 0.5
    while True:
        try:
            response = await ctx.http.put(
                f"{base_url.rstrip('/')}/internal/subscriptions/campaigns",
                json=body,
                headers={"Authorization": f"Bearer {secret}"},
                timeout=5,
            )
            if response.status_code == 200:
                log.info("subscribed to %s events %s", publisher, body["event_types"])
                return
            log.warning("%s refused the subscription: HTTP %s", publisher, response.status_code)
        except Exception as exc:  # not up yet, or unreachable: keep trying in the background
            log.info("cannot subscribe to %s yet (%s); retrying in %.0f s", publisher, type(exc).__name__, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30)


async def subscribe_on_start(ctx: CampaignsContext) -> None:
    settings = ctx.settings
    async with ctx.sessionmaker() as session, session.begin():
        await upsert_system_subscription(
            session,
            EVENTS,
            "plans",
            f"{settings.plans_url.rstrip('/')}/internal/events/campaigns",
            # plans keeps these as read models behind its SBU grid and report
            [SbuPerformanceChanged.type, CampaignStatusChanged.type, ExperimentDecided.type],
            derive_webhook_secret(ctx.service_secret, "campaigns->plans"),
        )
    ctx.subscription_tasks = [
        asyncio.create_task(_register(ctx, "plans", settings.plans_url)),
        asyncio.create_task(_register(ctx, "compliance", settings.compliance_url)),
    ]
