"""Plans' events: what it publishes with each change, and campaigns' figures arriving in the SBU grid."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from services.plans.events import EVENTS
from shared.context import context_of
from shared.events.outbox import derive_webhook_secret
from shared.events.relay import signed_headers
from tests.plans.support import new_plan, post, ready_strategy, sbu_body, tactics
from tests.support import SERVICE_SECRET, Tenant, assert_problem


async def _published(app: Any, org_id: str) -> list[tuple[str, dict[str, Any]]]:
    E = EVENTS.OutboxEvent
    async with context_of(app).sessionmaker() as session:
        rows = (await session.execute(select(E).where(E.org_id == org_id).order_by(E.created_at))).scalars()
        return [(r.type, r.payload) for r in rows]


async def _plan_with_sbu(plans: httpx.AsyncClient, tenant: Tenant) -> tuple[dict, dict, tuple[dict, dict, dict]]:
    plan = await new_plan(plans, tenant)
    segment = await ready_strategy(plans, tenant, plan["id"])
    parts = await tactics(plans, tenant, plan["id"], segment["id"])
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(*parts), tenant, "supervisor")
    return plan, sbu, parts


async def test_changes_publish_their_events(plans: httpx.AsyncClient, plans_app, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    plan, sbu, _ = await _plan_with_sbu(plans, tenant)
    activated = await plans.post(f"/v1/plans/{plan['id']}/activate", json={}, headers=tenant.auth("executive"))
    assert activated.status_code == 200, activated.text
    retired = await plans.post(
        f"/v1/sbus/{sbu['id']}/retire", json={"reason": "no demand"}, headers=tenant.auth("supervisor")
    )
    assert retired.status_code == 200, retired.text

    published = await _published(plans_app, tenant.org_id)
    assert [t for t, _ in published] == ["sbu.created", "plan.activated", "sbu.retired"]
    assert published[0][1]["sbu_id"] == sbu["id"] and published[0][1]["plan_id"] == plan["id"]
    assert published[1][1]["plan_id"] == plan["id"] and published[1][1]["strategy_locked_until"] == "2027-12-31"
    assert published[2][1] | {"reason": "no demand", "status": "retired"} == published[2][1]


async def test_derive_publishes_the_new_sbu_and_the_retired_one(
    plans: httpx.AsyncClient, plans_app, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    plan, sbu, _ = await _plan_with_sbu(plans, tenant)
    amazon = await post(
        plans,
        f"/v1/plans/{plan['id']}/channels",
        {"name": "Amazon US", "platform": "amazon", "mode": "platform", "business_model": "B2C", "countries": ["US"]},
        tenant,
        "supervisor",
    )
    refused = await plans.post(f"/v1/sbus/{sbu['id']}/retire", json={}, headers=tenant.auth("supervisor"))
    assert_problem(refused, 422)
    derived = await plans.post(
        f"/v1/sbus/{sbu['id']}/derive",
        json={"channel_id": amazon["id"], "reason": "B2C on Amazon"},
        headers=tenant.auth("supervisor"),
    )
    assert derived.status_code == 201, derived.text
    published = await _published(plans_app, tenant.org_id)
    assert [t for t, _ in published] == ["sbu.created", "sbu.retired", "sbu.created"]
    assert published[1][1]["sbu_id"] == sbu["id"]
    assert published[2][1]["sbu_id"] == derived.json()["id"] and published[2][1]["derived_from"] == sbu["id"]


def _performance(
    tenant: Tenant, sbu_id: str, spend: str, revenue: str, as_of: datetime, webhook_id: str
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "id": webhook_id,
            "type": "sbu.performance_changed",
            "timestamp": as_of.isoformat(),
            "org_id": tenant.org_id,
            "data": {
                "sbu_id": sbu_id,
                "currency": "USD",
                "spend": spend,
                "revenue": revenue,
                "roas": None,
                "as_of": as_of.isoformat(),
            },
        }
    ).encode()
    return body, signed_headers(derive_webhook_secret(SERVICE_SECRET, "campaigns->plans"), webhook_id, body)


async def test_campaigns_figures_reach_the_sbu_grid_in_order(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    plan, sbu, _ = await _plan_with_sbu(plans, tenant)
    now = datetime.now(UTC)
    newer = _performance(tenant, sbu["id"], "300.00", "1200.00", now, "evt-perf-2")
    older = _performance(tenant, sbu["id"], "100.00", "100.00", now - timedelta(minutes=5), "evt-perf-1")

    assert (await plans.post("/internal/events/campaigns", content=newer[0], headers=newer[1])).json() == {
        "status": "applied"
    }
    assert (await plans.post("/internal/events/campaigns", content=newer[0], headers=newer[1])).json() == {
        "status": "duplicate"
    }
    assert (await plans.post("/internal/events/campaigns", content=older[0], headers=older[1])).json() == {
        "status": "stale"
    }

    grid = (await plans.get(f"/v1/plans/{plan['id']}/sbu-grid", headers=tenant.auth("analyst"))).json()
    cell = grid["cells"][0]
    assert cell["performance_known"] is True
    assert cell["spend"] == {"amount": "300.00", "currency": "USD"} and cell["roas"] == "4.00"

    forged = (newer[0], {**newer[1], "webhook-signature": "v1,AAAA"})
    assert_problem(await plans.post("/internal/events/campaigns", content=forged[0], headers=forged[1]), 401)
