"""On start-up compliance points its order events at plans, which keeps the customs picture of its report from
them (orders by state, the rules that failed). Compliance calls no one: this only writes its own subscription
row, and the relay delivers as it does to every subscriber. The secret is derived from the service secret, so
plans verifies the deliveries without storing anything."""

from __future__ import annotations

from fastapi import FastAPI

from services.compliance.events import EVENTS, STATE_EVENTS
from shared.events import derive_webhook_secret
from shared.subscriptions import upsert_system_subscription


async def announce_orders_to_plans(app: FastAPI) -> None:
    settings = app.state.settings
    async with app.state.sessionmaker() as session, session.begin():
        await upsert_system_subscription(
            session,
            EVENTS,
            "plans",
            f"{settings.plans_url.rstrip('/')}/internal/events/compliance",
            list(STATE_EVENTS.values()),
            derive_webhook_secret(app.state.service_secret, "compliance->plans"),
        )
