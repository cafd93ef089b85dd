"""Campaigns' events: what it publishes, the coalesced SBU figures, and the two events it consumes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from services.campaigns.events import EVENTS, ChangedSbu, announce_changed_sbus
from shared.context import context_of
from shared.events.outbox import derive_webhook_secret
from shared.events.relay import signed_headers
from tests.campaigns.conftest import SERVICE_SECRET
from tests.campaigns.support import FakePlans, new_campaign
from tests.support import Tenant, assert_problem


async def _events(app: Any, org_id: str, type: str) -> list[dict[str, Any]]:
    E = EVENTS.OutboxEvent
    async with context_of(app).sessionmaker() as session:
        rows = (
            await session.execute(select(E).where(E.org_id == org_id, E.type == type).order_by(E.created_at))
        ).scalars()
        return [r.payload for r in rows]


def _metrics(day: int, cost: str, revenue: str) -> dict[str, Any]:
    return {
        "rows": [
            {
                "date": f"2026-09-{day:02d}",
                "impressions": 100,
                "clicks": 10,
                "conversions": 1,
                "cost": {"amount": cost, "currency": "USD"},
                "revenue": {"amount": revenue, "currency": "USD"},
            }
        ]
    }


async def _start(campaigns: httpx.AsyncClient, tenant: Tenant, campaign_id: str) -> None:
    for to in ("scheduled", "running"):
        r = await campaigns.post(
            f"/v1/campaigns/{campaign_id}/transitions", json={"to": to}, headers=tenant.auth("specialist")
        )
        assert r.status_code == 200, r.text


async def test_a_status_change_publishes_campaign_status_changed(
    campaigns, campaigns_app, fake_plans: FakePlans, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    await _start(campaigns, tenant, campaign["id"])
    published = await _events(campaigns_app, tenant.org_id, "campaign.status_changed")
    assert [(e["from"], e["to"]) for e in published] == [("draft", "scheduled"), ("scheduled", "running")]
    assert all(e["campaign_id"] == campaign["id"] and e["sbu_id"] == campaign["sbu_id"] for e in published)


async def test_a_burst_of_metric_writes_announces_one_event_per_sbu(
    campaigns, campaigns_app, fake_plans: FakePlans, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    first = await new_campaign(campaigns, fake_plans, tenant)
    second = await new_campaign(campaigns, fake_plans, tenant, sbu_id=first["sbu_id"])
    for day in range(1, 6):
        for campaign in (first, second):
            r = await campaigns.put(
                f"/v1/campaigns/{campaign['id']}/metrics",
                json=_metrics(day, "10.00", "35.00"),
                headers=tenant.auth("specialist"),
            )
            assert r.status_code == 200, r.text
    async with context_of(campaigns_app).sessionmaker() as session:
        marks = (await session.execute(select(ChangedSbu).where(ChangedSbu.org_id == tenant.org_id))).scalars().all()
    assert [m.sbu_id for m in marks] == [first["sbu_id"]]

    await announce_changed_sbus(context_of(campaigns_app).sessionmaker)
    published = await _events(campaigns_app, tenant.org_id, "sbu.performance_changed")
    assert len(published) == 1
    assert published[0]["sbu_id"] == first["sbu_id"] and published[0]["currency"] == "USD"
    assert (published[0]["spend"], published[0]["revenue"], published[0]["roas"]) == ("100.00", "350.00", "3.50")
    await announce_changed_sbus(context_of(campaigns_app).sessionmaker)  # nothing changed since: nothing more
    assert len(await _events(campaigns_app, tenant.org_id, "sbu.performance_changed")) == 1


def _signed(source: str, type: str, org_id: str, data: dict[str, Any], webhook_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"id": webhook_id, "type": type, "timestamp": datetime.now(UTC).isoformat(), "org_id": org_id, "data": data}
    ).encode()
    secret = derive_webhook_secret(SERVICE_SECRET, f"{source}->campaigns")
    return body, signed_headers(secret, webhook_id, body)


async def test_sbu_retired_pauses_the_sbus_running_and_scheduled_campaigns(
    campaigns, campaigns_app, fake_plans: FakePlans, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    running = await new_campaign(campaigns, fake_plans, tenant)
    await _start(campaigns, tenant, running["id"])
    draft = await new_campaign(campaigns, fake_plans, tenant, sbu_id=running["sbu_id"])
    body, headers = _signed("plans", "sbu.retired", tenant.org_id, {"sbu_id": running["sbu_id"]}, "evt-retired-1")

    applied = await campaigns.post("/internal/events/plans", content=body, headers=headers)
    assert applied.json() == {"status": "applied", "paused": [running["id"]]}
    again = await campaigns.post("/internal/events/plans", content=body, headers=headers)
    assert again.json() == {"status": "duplicate"}
    statuses = {
        c: (await campaigns.get(f"/v1/campaigns/{c}", headers=tenant.auth())).json()["status"]
        for c in (running["id"], draft["id"])
    }
    assert statuses == {running["id"]: "paused", draft["id"]: "draft"}

    forged_body, forged = _signed("compliance", "sbu.retired", tenant.org_id, {"sbu_id": draft["sbu_id"]}, "evt-x")
    assert_problem(await campaigns.post("/internal/events/plans", content=forged_body, headers=forged), 401)


async def test_order_released_is_attributed_to_its_campaign(
    campaigns, campaigns_app, fake_plans: FakePlans, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    campaign = await new_campaign(campaigns, fake_plans, tenant, utm_campaign="golf-11-11")
    order = {
        "ebp_code": "1105910159",
        "order_no": "A1001",
        "utm_campaign": "golf-11-11",
        "amount": "980.50",
        "currency": "USD",
        "state": "released",
    }
    body, headers = _signed("compliance", "order.released", tenant.org_id, order, "evt-released-1")
    assert (await campaigns.post("/internal/events/compliance", content=body, headers=headers)).json() == {
        "status": "attributed"
    }
    redelivered = await campaigns.post("/internal/events/compliance", content=body, headers=headers)
    assert redelivered.json() == {"status": "duplicate"}
    other, other_headers = _signed(
        "compliance", "order.released", tenant.org_id, {**order, "order_no": "A1002"}, "evt-released-2"
    )
    assert (await campaigns.post("/internal/events/compliance", content=other, headers=other_headers)).json() == {
        "status": "attributed"
    }

    totals = (await campaigns.get(f"/v1/campaigns/{campaign['id']}/performance", headers=tenant.auth())).json()[
        "totals"
    ]
    assert totals["attributed_orders"] == 2
    assert totals["attributed_revenue"] == {"amount": "1961.00", "currency": "USD"}

    untracked, h = _signed("compliance", "order.released", tenant.org_id, {**order, "utm_campaign": None}, "evt-3")
    assert (await campaigns.post("/internal/events/compliance", content=untracked, headers=h)).json() == {
        "status": "ignored"
    }
