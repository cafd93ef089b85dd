"""Every campaigns route: who may call it (403 otherwise), 401 without a token, and another organisation's
objects are 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.plans.client_fake import FakePlans
from tests.campaigns.support import campaign_body, new_campaign, row, unique_utm
from tests.support import Tenant, assert_problem

READERS = {"admin", "executive", "supervisor", "specialist", "analyst"}
ROLES = READERS | {"integration"}


@dataclass
class World:
    campaign: dict[str, Any]
    experiment: dict[str, Any]
    node: dict[str, Any]
    review: dict[str, Any]
    sbu_id: str


async def build_world(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> World:
    campaign = await new_campaign(campaigns, fake_plans, tenant, utm_campaign=unique_utm())
    cid = campaign["id"]
    await campaigns.put(
        f"/v1/campaigns/{cid}/metrics",
        # the experiment's arms have enough data for a decision (no_winner)
        json={"rows": [row("2026-09-01"), row("2026-09-01", "a"), row("2026-09-01", "b")]},
        headers=tenant.auth("specialist"),
    )
    experiment = await campaigns.post(
        f"/v1/campaigns/{cid}/experiments",
        json={"name": "t", "metric": "ctr", "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}]},
        headers=tenant.auth("specialist"),
    )
    node = await campaigns.post(
        "/v1/event-nodes",
        json={
            "name": "Black Friday",
            "platform": "amazon",
            "starts_on": "2026-11-27",
            "ends_on": "2026-11-30",
            "budget": {"amount": "100", "currency": "USD"},
        },
        headers=tenant.auth("supervisor"),
    )
    review = await campaigns.post(
        f"/v1/campaigns/{cid}/reviews",
        json={"loop": "dr", "phase": "do", "findings": "f", "actions": "a"},
        headers=tenant.auth("specialist"),
    )
    return World(campaign, experiment.json(), node.json(), review.json(), campaign["sbu_id"])


@dataclass
class Route:
    method: str
    path: str
    allowed: set[str]
    body: Any = None
    scoped: bool = True  # names an object of the organisation (another org gets 404)


def routes(w: World, fake_plans: FakePlans, tenant: Tenant) -> list[Route]:
    c = f"/v1/campaigns/{w.campaign['id']}"
    experiment = {"name": "t2", "metric": "ctr", "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}]}
    node = {
        "name": "11.11",
        "platform": "aliexpress",
        "starts_on": "2026-11-01",
        "ends_on": "2026-11-11",
        "budget": {"amount": "10", "currency": "USD"},
    }
    kind = {"key": "k_" + unique_utm().replace("-", "_"), "name": "K", "settings_schema": {"type": "object"}}
    return [
        Route("GET", "/v1/campaign-kinds", READERS, scoped=False),
        Route("POST", "/v1/campaign-kinds", {"admin", "supervisor"}, kind, scoped=False),
        Route("GET", "/v1/campaign-kinds/sem", READERS, scoped=False),
        Route("GET", "/v1/campaigns", READERS, scoped=False),
        Route(
            "POST",
            "/v1/campaigns",
            {"admin", "specialist"},
            campaign_body(fake_plans.add_sbu(tenant.org_id)),
            scoped=False,
        ),
        Route("GET", c, READERS),
        Route("PATCH", c, {"admin", "specialist"}, {"name": "renamed"}),
        Route("POST", f"{c}/transitions", {"admin", "specialist"}, {"to": "scheduled"}),
        Route("PUT", f"{c}/metrics", {"admin", "specialist", "integration"}, {"rows": [row("2026-09-02")]}),
        Route(
            "POST",
            "/v1/campaigns/metrics/imports",
            {"admin", "specialist", "integration"},
            {"data": [{"campaign_id": "1", "date_start": "2026-09-02", "date_stop": "2026-09-02", "spend": "1"}]},
            scoped=False,
        ),
        Route("GET", f"{c}/performance", READERS),
        Route("GET", f"/v1/sbus/{w.sbu_id}/performance", READERS),
        Route("POST", f"{c}/experiments", {"admin", "specialist"}, experiment),
        Route("GET", f"{c}/experiments", READERS),
        Route("GET", f"/v1/experiments/{w.experiment['id']}", READERS),
        Route("GET", f"/v1/experiments/{w.experiment['id']}/analysis", READERS),
        Route("POST", f"/v1/experiments/{w.experiment['id']}/decision", {"admin", "specialist"}),
        Route("GET", f"/v1/experiments/{w.experiment['id']}/plan", READERS),
        Route("POST", "/v1/event-nodes", {"admin", "supervisor"}, node, scoped=False),
        Route("GET", "/v1/event-nodes", READERS, scoped=False),
        Route("GET", f"/v1/event-nodes/{w.node['id']}", READERS),
        Route(
            "POST",
            f"{c}/reviews",
            {"admin", "specialist"},
            {"loop": "pdca", "phase": "plan", "findings": "", "actions": ""},
        ),
        Route("GET", f"{c}/reviews", READERS),
        Route("GET", f"{c}/reviews/{w.review['id']}", READERS),
    ]


async def call(client: httpx.AsyncClient, route: Route, headers: dict[str, str]) -> httpx.Response:
    return await client.request(route.method, route.path, json=route.body, headers=headers)


ROUTE_COUNT = 24


@pytest.mark.parametrize("index", range(ROUTE_COUNT))
async def test_roles_and_organisations(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, other_tenant: Tenant, index: int
) -> None:
    world = await build_world(campaigns, fake_plans, tenant)
    table = routes(world, fake_plans, tenant)
    assert len(table) == ROUTE_COUNT
    route = table[index]
    assert_problem(await call(campaigns, route, {}), 401)
    for role in sorted(ROLES - route.allowed):
        assert_problem(await call(campaigns, route, tenant.auth(role)), 403)
    if route.scoped:
        for role in sorted(route.allowed):
            assert_problem(await call(campaigns, route, other_tenant.auth(role)), 404)
    for role in sorted(route.allowed):
        response = await call(campaigns, route, tenant.auth(role))
        assert response.status_code in (200, 201), (role, response.text)
        if route.method == "POST" and route.body is not None and "key" in route.body:
            route.body = {**route.body, "key": route.body["key"] + "x"}  # kind keys are unique per org
        if route.path.endswith("/transitions"):
            break  # one legal move is enough; the next role would find the campaign scheduled already


def test_every_route_of_the_contract_is_covered() -> None:
    from services.campaigns.app import create_app

    spec = create_app().openapi()
    # /v1/subscriptions is the shared event mechanism, walked in tests/shared
    served = {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        for m in ops
        if p.startswith("/v1") and not p.startswith("/v1/subscriptions")
    }
    assert len(served) == ROUTE_COUNT


async def test_unknown_ids_are_404_not_500(campaigns: httpx.AsyncClient, tenant: Tenant) -> None:
    for path in (
        "/v1/campaigns/nope",
        "/v1/experiments/" + "x" * 64,
        "/v1/event-nodes/1",
        "/v1/experiments/00000000-0000-4000-8000-000000000000/analysis",
    ):
        assert_problem(await campaigns.get(path, headers=tenant.auth()), 404)
