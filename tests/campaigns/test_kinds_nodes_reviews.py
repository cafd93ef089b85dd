"""Custom campaign kinds, event nodes with spend and pacing, and reviews with their snapshot."""

from __future__ import annotations

import httpx
import pytest

from services.campaigns.kinds.builtin import BUILTIN_KINDS
from services.plans.client_fake import FakePlans
from tests.campaigns.support import new_campaign, row
from tests.support import Tenant, assert_problem

SCHEMA = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 50}}, "required": ["city"]}


async def test_builtins_listed_for_every_reader(campaigns: httpx.AsyncClient, tenant: Tenant) -> None:
    for role in ("admin", "executive", "supervisor", "specialist", "analyst"):
        listed = await campaigns.get("/v1/campaign-kinds", headers=tenant.auth(role))
        assert listed.status_code == 200
        builtins = [k["key"] for k in listed.json()["items"] if k["builtin"]]
        assert builtins == ["visual", "sem", "social", "edm", "service", "live_broadcast"]
    assert_problem(await campaigns.get("/v1/campaign-kinds", headers=tenant.auth("integration")), 403)


async def test_supervisor_adds_kinds_seen_only_in_their_org(
    campaigns: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    body = {"key": "trade_show", "name": "Trade show", "settings_schema": SCHEMA}
    created = await campaigns.post("/v1/campaign-kinds", json=body, headers=tenant.auth("supervisor"))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/campaign-kinds/trade_show"
    assert created.json() == {**body, "builtin": False}
    mine = await campaigns.get("/v1/campaign-kinds", headers=tenant.auth("analyst"))
    assert [k["key"] for k in mine.json()["items"]][-1] == "trade_show"
    assert (await campaigns.get("/v1/campaign-kinds/trade_show", headers=tenant.auth())).json()["name"] == "Trade show"
    theirs = await campaigns.get("/v1/campaign-kinds", headers=other_tenant.auth())
    assert "trade_show" not in [k["key"] for k in theirs.json()["items"]]
    assert_problem(await campaigns.get("/v1/campaign-kinds/trade_show", headers=other_tenant.auth()), 404)
    assert (await campaigns.get("/v1/campaign-kinds/sem", headers=other_tenant.auth())).json()["builtin"] is True
    assert_problem(await campaigns.post("/v1/campaign-kinds", json=body, headers=tenant.auth("supervisor")), 409)
    again = await campaigns.post("/v1/campaign-kinds", json=body, headers=other_tenant.auth("supervisor"))
    assert again.status_code == 201


@pytest.mark.parametrize("key", sorted(BUILTIN_KINDS))
async def test_builtin_keys_are_taken(campaigns: httpx.AsyncClient, tenant: Tenant, key: str) -> None:
    body = {"key": key, "name": "Mine", "settings_schema": SCHEMA}
    assert_problem(await campaigns.post("/v1/campaign-kinds", json=body, headers=tenant.auth("supervisor")), 409)


@pytest.mark.parametrize(
    ("schema", "loc"),
    [
        ({"type": "banana"}, ["body", "settings_schema", "type"]),
        (
            {"type": "object", "properties": {"a": {"minLength": -1}}},
            ["body", "settings_schema", "properties", "a", "minLength"],
        ),
        ({"type": "object", "required": "city"}, ["body", "settings_schema", "required"]),
        ({"$ref": "https://example.com/schema.json"}, ["body", "settings_schema", "$ref"]),
        ({"properties": {"a": {"$ref": "#/$defs/missing"}}}, ["body", "settings_schema", "properties", "a", "$ref"]),
        ({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}, ["body", "settings_schema"]),
        ({"type": "string", "pattern": "("}, ["body", "settings_schema", "pattern"]),
    ],
)
async def test_settings_schema_must_be_a_json_schema(
    campaigns: httpx.AsyncClient,
    tenant: Tenant,
    schema: dict,
    loc: list,  # type: ignore[type-arg]
) -> None:
    body = {"key": "odd_kind", "name": "Odd", "settings_schema": schema}
    problem = assert_problem(
        await campaigns.post("/v1/campaign-kinds", json=body, headers=tenant.auth("supervisor")), 422
    )
    assert problem["errors"][0]["loc"] == loc


@pytest.mark.parametrize("key", ["Sem", "a", "has space", "x" * 65, "9lives"])
async def test_kind_key_shape(campaigns: httpx.AsyncClient, tenant: Tenant, key: str) -> None:
    body = {"key": key, "name": "Odd", "settings_schema": SCHEMA}
    assert_problem(await campaigns.post("/v1/campaign-kinds", json=body, headers=tenant.auth("supervisor")), 422)


async def test_event_node_spend_and_pacing(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, other_tenant: Tenant
) -> None:
    node = await campaigns.post(
        "/v1/event-nodes",
        json={
            "name": "September New Trade Festival",
            "platform": "alibaba.com",
            "starts_on": "2026-09-01",
            "ends_on": "2026-09-30",
            "budget": {"amount": "10000", "currency": "USD"},
        },
        headers=tenant.auth("supervisor"),
    )
    assert node.status_code == 201, node.text
    node_id = node.json()["id"]
    assert node.headers["location"] == f"/v1/event-nodes/{node_id}"
    linked = [await new_campaign(campaigns, fake_plans, tenant, event_node_id=node_id) for _ in range(2)]
    await new_campaign(campaigns, fake_plans, tenant)  # not linked
    for campaign, cost in zip(linked, ("300", "200"), strict=True):
        await campaigns.put(
            f"/v1/campaigns/{campaign['id']}/metrics",
            json={"rows": [row("2026-09-02", cost=cost)]},
            headers=tenant.auth("specialist"),
        )
    got = await campaigns.get(
        f"/v1/event-nodes/{node_id}", params={"as_of": "2026-09-06"}, headers=tenant.auth("analyst")
    )
    body = got.json()
    assert body["spend"] == {"amount": "500.00", "currency": "USD"} and body["campaign_count"] == 2
    assert body["pacing"] == "0.25"  # (500/10000)/(6/30)
    assert "etag" in got.headers
    listed = await campaigns.get("/v1/event-nodes", headers=tenant.auth())
    assert node_id in [n["id"] for n in listed.json()["items"]]
    assert node_id not in [
        n["id"] for n in (await campaigns.get("/v1/event-nodes", headers=other_tenant.auth())).json()["items"]
    ]
    wrong = await campaigns.post(
        "/v1/campaigns",
        json={
            "sbu_id": fake_plans.add_sbu(tenant.org_id),
            "kind": "sem",
            "name": "x",
            "budget": {"amount": "1", "currency": "EUR"},
            "starts_on": "2026-09-01",
            "ends_on": "2026-09-02",
            "event_node_id": node_id,
            "settings": {"keywords": [{"text": "a", "match_type": "exact"}]},
        },
        headers=tenant.auth("specialist"),
    )
    assert_problem(wrong, 422)
    bad = {
        "name": "x",
        "platform": "y",
        "starts_on": "2026-09-02",
        "ends_on": "2026-09-01",
        "budget": {"amount": "1", "currency": "USD"},
    }
    assert_problem(await campaigns.post("/v1/event-nodes", json=bad, headers=tenant.auth("supervisor")), 422)


async def test_reviews_keep_the_snapshot_they_judged(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    metrics = f"/v1/campaigns/{campaign['id']}/metrics"
    await campaigns.put(metrics, json={"rows": [row("2026-09-01", clicks=40)]}, headers=tenant.auth("specialist"))
    url = f"/v1/campaigns/{campaign['id']}/reviews"
    review = await campaigns.post(
        url,
        json={"loop": "pdca", "phase": "check", "findings": "CTR low on mobile", "actions": "new creatives"},
        headers=tenant.auth("specialist"),
    )
    assert review.status_code == 201, review.text
    assert review.json()["snapshot"]["totals"]["clicks"] == 40
    assert review.json()["snapshot"]["kpis"]["ctr"] == "0.04"
    await campaigns.put(metrics, json={"rows": [row("2026-09-02", clicks=60)]}, headers=tenant.auth("specialist"))
    dr = await campaigns.post(
        url,
        json={"loop": "dr", "phase": "review", "findings": "ok", "actions": "keep"},
        headers=tenant.auth("specialist"),
    )
    assert dr.json()["snapshot"]["totals"]["clicks"] == 100
    got = await campaigns.get(review.headers["location"], headers=tenant.auth("analyst"))
    assert got.json()["snapshot"]["totals"]["clicks"] == 40  # frozen
    listed = await campaigns.get(url, headers=tenant.auth())
    assert [r["phase"] for r in listed.json()["items"]] == ["check", "review"]
    wrong_phase = {"loop": "dr", "phase": "plan", "findings": "", "actions": ""}
    assert_problem(await campaigns.post(url, json=wrong_phase, headers=tenant.auth("specialist")), 422)


async def test_a_loop_reached_only_by_some_settings_is_a_422(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    schema = {"$defs": {"x": {"$ref": "#/$defs/x"}}, "properties": {"a": {"$ref": "#/$defs/x"}}}
    created = await campaigns.post(
        "/v1/campaign-kinds",
        json={"key": "loopy", "name": "Loopy", "settings_schema": schema},
        headers=tenant.auth("supervisor"),
    )
    assert created.status_code == 201, created.text
    body = {
        "sbu_id": fake_plans.add_sbu(tenant.org_id),
        "kind": "loopy",
        "name": "x",
        "budget": {"amount": "1", "currency": "USD"},
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-02",
        "settings": {"a": 1},
    }
    problem = assert_problem(await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist")), 422)
    assert problem["errors"][0]["loc"] == ["body", "settings"]
