"""Writes that respect If-Match and state moves that happen once, under concurrency (the version is in the
UPDATE's WHERE clause, so two requests holding one ETag cannot both win)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from services.campaigns.events import EVENTS as CAMPAIGN_EVENTS
from services.plans.events import EVENTS as PLAN_EVENTS
from shared.context import context_of
from tests.plans.support import money, new_plan, post, ready_strategy, sbu_body, tactics
from tests.support import Tenant, assert_problem

N = 10


async def _sbu(plans: httpx.AsyncClient, tenant: Tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = await new_plan(plans, tenant)
    segment = await ready_strategy(plans, tenant, plan["id"])
    parts = await tactics(plans, tenant, plan["id"], segment["id"])
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(*parts), tenant, "supervisor")
    return plan, sbu


async def _count(app: Any, tables: Any, org_id: str, event_type: str) -> int:
    E = tables.OutboxEvent
    async with context_of(app).sessionmaker() as session:
        stmt = select(func.count()).select_from(E).where(E.org_id == org_id, E.type == event_type)
        return int(await session.scalar(stmt) or 0)


def _statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


async def test_concurrent_patches_with_one_etag_give_one_200_and_nine_412(plans, tenant):
    _, sbu = await _sbu(plans, tenant)
    got = await plans.get(f"/v1/sbus/{sbu['id']}", headers=tenant.auth("analyst"))
    etag = got.headers["etag"]
    headers = {**tenant.auth("supervisor"), "If-Match": etag}
    responses = await asyncio.gather(
        *(
            plans.patch(f"/v1/sbus/{sbu['id']}", json={"budget": money(f"{1000 + i}")}, headers=headers)
            for i in range(N)
        )
    )
    assert _statuses(responses) == [200] + [412] * (N - 1), [r.text for r in responses]
    for r in responses:
        if r.status_code == 412:
            assert_problem(r, 412)
    winner = next(r for r in responses if r.status_code == 200).json()
    now = (await plans.get(f"/v1/sbus/{sbu['id']}", headers=tenant.auth("analyst"))).json()
    assert now["budget"] == winner["budget"]


async def test_concurrent_retires_publish_one_sbu_retired(plans, plans_app, tenant):
    _, sbu = await _sbu(plans, tenant)
    responses = await asyncio.gather(
        *(
            plans.post(f"/v1/sbus/{sbu['id']}/retire", json={"reason": "no demand"}, headers=tenant.auth("supervisor"))
            for _ in range(N)
        )
    )
    statuses = _statuses(responses)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 409, 503}, [r.text for r in responses]
    assert await _count(plans_app, PLAN_EVENTS, tenant.org_id, "sbu.retired") == 1


async def test_two_concurrent_derives_of_one_sbu_one_wins(plans, plans_app, tenant):
    plan, sbu = await _sbu(plans, tenant)
    base = f"/v1/plans/{plan['id']}"
    channels = [
        await post(
            plans,
            f"{base}/channels",
            {"name": f"Store {i}", "platform": "amazon", "mode": "platform", "business_model": "B2C",
             "countries": ["US"]},
            tenant,
            "supervisor",
        )
        for i in range(2)
    ]  # fmt: skip
    responses = await asyncio.gather(
        *(
            plans.post(
                f"/v1/sbus/{sbu['id']}/derive",
                json={"channel_id": c["id"], "reason": "new channel"},
                headers=tenant.auth("supervisor"),
            )
            for c in channels
        )
    )
    statuses = _statuses(responses)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409, 503}, [r.text for r in responses]
    assert await _count(plans_app, PLAN_EVENTS, tenant.org_id, "sbu.retired") == 1
    live = await plans.get(f"{base}/sbus?status=active", headers=tenant.auth("analyst"))
    drafts = await plans.get(f"{base}/sbus?status=draft", headers=tenant.auth("analyst"))
    assert len(live.json()["items"]) + len(drafts.json()["items"]) == 1


async def test_plan_patch_with_one_etag_has_one_winner(plans, tenant):
    plan = await new_plan(plans, tenant)
    etag = (await plans.get(f"/v1/plans/{plan['id']}", headers=tenant.auth("analyst"))).headers["etag"]
    headers = {**tenant.auth("executive"), "If-Match": etag}
    responses = await asyncio.gather(
        *(plans.patch(f"/v1/plans/{plan['id']}", json={"description": f"v{i}"}, headers=headers) for i in range(N))
    )
    assert _statuses(responses) == [200] + [412] * (N - 1), [r.text for r in responses]


async def _campaign(campaigns: httpx.AsyncClient, fake_sbu: str, tenant: Tenant) -> dict[str, Any]:
    body = {
        "sbu_id": fake_sbu,
        "kind": "sem",
        "name": "sem push",
        "budget": {"amount": "3000.00", "currency": "USD"},
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-30",
        "settings": {
            "keywords": [{"text": "golf simulator", "match_type": "exact", "max_cpc": "1.20"}],
            "daily_budget": "50.00",
        },
    }
    r = await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_campaign_patches_and_transitions_are_compare_and_set(plans, campaigns, campaigns_app, tenant):
    _, sbu = await _sbu(plans, tenant)
    campaign = await _campaign(campaigns, sbu["id"], tenant)
    url = f"/v1/campaigns/{campaign['id']}"
    etag = (await campaigns.get(url, headers=tenant.auth("analyst"))).headers["etag"]
    headers = {**tenant.auth("specialist"), "If-Match": etag}
    responses = await asyncio.gather(
        *(campaigns.patch(url, json={"name": f"push {i}"}, headers=headers) for i in range(N))
    )
    assert _statuses(responses) == [200] + [412] * (N - 1), [r.text for r in responses]

    moves = await asyncio.gather(
        *(campaigns.post(f"{url}/transitions", json={"to": "scheduled"}, headers=tenant.auth("specialist"))
          for _ in range(N))
    )  # fmt: skip
    statuses = _statuses(moves)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 409, 503}, [r.text for r in moves]
    assert await _count(campaigns_app, CAMPAIGN_EVENTS, tenant.org_id, "campaign.status_changed") == 1

    # a transition holding a stale ETag is refused too
    stale = await campaigns.post(
        f"{url}/transitions", json={"to": "running"}, headers={**tenant.auth("specialist"), "If-Match": etag}
    )
    assert_problem(stale, 412)
