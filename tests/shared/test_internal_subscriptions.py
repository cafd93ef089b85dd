"""Services subscribe to each other idempotently on start-up, authorised by the deployment's service secret."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from services.campaigns.context import campaigns_context
from services.campaigns.subscribe import _register
from services.plans.events import EVENTS as PLANS_EVENTS
from shared.context import context_of
from shared.events.outbox import derive_webhook_secret
from tests.support import SERVICE_SECRET, assert_problem


async def test_campaigns_subscribes_to_plans_idempotently(campaigns_app, plans_app, plans: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    S = PLANS_EVENTS.Subscription
    for _ in range(2):  # every start registers again; still one subscription
        await asyncio.wait_for(_register(campaigns_context(campaigns_app), "plans", "http://plans"), timeout=10)
    async with context_of(plans_app).sessionmaker() as session:
        subs = (await session.execute(select(S).where(S.system_name == "campaigns"))).scalars().all()
        count = await session.scalar(select(func.count()).select_from(S).where(S.system_name == "campaigns"))
    assert count == 1
    sub = subs[0]
    assert sub.org_id is None and sub.event_types == ["sbu.retired"]
    assert sub.url == f"{context_of(campaigns_app).settings.campaigns_url}/internal/events/plans"
    assert sub.secret == derive_webhook_secret(SERVICE_SECRET, "plans->campaigns")


async def test_internal_subscriptions_need_the_service_secret(plans: httpx.AsyncClient) -> None:
    body = {"url": "http://campaigns/x", "event_types": ["sbu.retired"], "secret": "whsec_" + "A" * 44}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        assert_problem(await plans.put("/internal/subscriptions/intruder", json=body, headers=headers), 401)
    unknown = await plans.put(
        "/internal/subscriptions/campaigns",
        json={**body, "event_types": ["order.released"]},
        headers={"Authorization": f"Bearer {SERVICE_SECRET}"},
    )
    assert_problem(unknown, 422)
    # internal routes are not part of the public contract
    assert not any(p.startswith("/internal") for p in (await plans.get("/openapi.json")).json()["paths"])
