"""Campaigns bound to SBUs that plans (mocked by respx) knows, their settings, lifecycle and edits."""

from __future__ import annotations

import httpx
import pytest

from services.plans.client_fake import FakePlans
from tests.campaigns.support import BUILTIN_SETTINGS, campaign_body, new_campaign, unique_utm
from tests.support import Tenant, assert_problem


@pytest.mark.parametrize("kind", sorted(BUILTIN_SETTINGS))
async def test_create_a_campaign_of_every_builtin_kind(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, kind: str
) -> None:
    sbu_id = fake_plans.add_sbu(tenant.org_id)
    created = await campaigns.post("/v1/campaigns", json=campaign_body(sbu_id, kind), headers=tenant.auth("specialist"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/v1/campaigns/{body['id']}"
    assert body["kind"] == kind and body["status"] == "draft" and body["sbu_id"] == sbu_id
    assert body["budget"] == {"amount": "3000.00", "currency": "USD"}
    assert body["settings"] == BUILTIN_SETTINGS[kind]
    got = await campaigns.get(created.headers["location"], headers=tenant.auth("analyst"))
    assert got.status_code == 200 and got.json() == body and got.headers["etag"] == created.headers["etag"]


async def test_create_a_campaign_of_a_custom_kind(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    schema = {
        "type": "object",
        "properties": {"marketplace": {"enum": ["amazon", "ebay"]}, "coupon_pct": {"type": "integer", "maximum": 50}},
        "required": ["marketplace"],
        "additionalProperties": False,
    }
    kind = await campaigns.post(
        "/v1/campaign-kinds",
        json={"key": "coupon_drop", "name": "Coupon drop", "settings_schema": schema},
        headers=tenant.auth("supervisor"),
    )
    assert kind.status_code == 201, kind.text
    sbu_id = fake_plans.add_sbu(tenant.org_id)
    body = campaign_body(sbu_id, "coupon_drop", settings={"marketplace": "amazon", "coupon_pct": 20})
    created = await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist"))
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "coupon_drop"

    bad = {**body, "settings": {"marketplace": "amazon", "coupon_pct": 80}}
    problem = assert_problem(await campaigns.post("/v1/campaigns", json=bad, headers=tenant.auth("specialist")), 422)
    assert problem["errors"][0]["loc"] == ["body", "settings", "coupon_pct"]


@pytest.mark.parametrize(
    ("kind", "settings", "loc"),
    [
        (
            "sem",
            {"keywords": [{"text": "golf", "match_type": "fuzzy"}]},
            ["body", "settings", "keywords", 0, "match_type"],
        ),
        ("edm", {"audience": "all"}, ["body", "settings"]),
        ("social", {"platform": "myspace"}, ["body", "settings", "platform"]),
        ("service", {"channel": "email", "sla_minutes": 0}, ["body", "settings", "sla_minutes"]),
        ("visual", {"page": "/", "extra": 1}, ["body", "settings"]),
    ],
)
async def test_settings_are_validated_against_the_kind_schema(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, kind: str, settings: dict, loc: list
) -> None:
    body = campaign_body(fake_plans.add_sbu(tenant.org_id), kind, settings=settings)
    problem = assert_problem(await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist")), 422)
    assert problem["errors"][0]["loc"] == loc
    if kind == "edm":
        assert "subject_lines" in problem["errors"][0]["msg"]


async def test_unknown_kind_is_422(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    body = campaign_body(fake_plans.add_sbu(tenant.org_id), "carrier_pigeon")
    problem = assert_problem(await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist")), 422)
    assert problem["errors"][0]["loc"] == ["body", "kind"]


async def test_sbu_must_be_known_in_this_org_and_live(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, other_tenant: Tenant
) -> None:
    headers = tenant.auth("specialist")
    for sbu_id in (
        "00000000-0000-4000-8000-000000000000",  # unknown to plans
        fake_plans.add_sbu(other_tenant.org_id),  # another organisation's
        fake_plans.add_sbu(tenant.org_id, status="retired"),
    ):
        problem = assert_problem(
            await campaigns.post("/v1/campaigns", json=campaign_body(sbu_id), headers=headers), 422
        )
        assert problem["errors"][0]["loc"] == ["body", "sbu_id"]
    listed = await campaigns.get("/v1/campaigns", headers=headers)
    assert listed.json()["items"] == []
    draft_sbu = fake_plans.add_sbu(tenant.org_id, status="draft")
    assert (await campaigns.post("/v1/campaigns", json=campaign_body(draft_sbu), headers=headers)).status_code == 201


async def test_sbu_id_must_look_like_an_id(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    calls = fake_plans.sbu_calls
    body = campaign_body("../auth/jwks")
    assert_problem(await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist")), 422)
    assert fake_plans.sbu_calls == calls


async def test_plans_unreachable_is_503_with_retry_after_and_nothing_stored(
    campaigns_plans_down: httpx.AsyncClient, campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    sbu_id = fake_plans.add_sbu(tenant.org_id)
    response = await campaigns_plans_down.post(
        "/v1/campaigns", json=campaign_body(sbu_id), headers=tenant.auth("specialist")
    )
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    listed = await campaigns.get("/v1/campaigns", params={"sbu_id": sbu_id}, headers=tenant.auth())
    assert listed.json()["items"] == []


async def test_dates_budget_and_event_node_are_checked(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, other_tenant: Tenant
) -> None:
    sbu_id = fake_plans.add_sbu(tenant.org_id)
    headers = tenant.auth("specialist")
    late = campaign_body(sbu_id, starts_on="2026-09-30", ends_on="2026-09-01")
    assert_problem(await campaigns.post("/v1/campaigns", json=late, headers=headers), 422)
    negative = campaign_body(sbu_id, budget={"amount": "-1", "currency": "USD"})
    assert_problem(await campaigns.post("/v1/campaigns", json=negative, headers=headers), 422)
    node = await campaigns.post(
        "/v1/event-nodes",
        json={
            "name": "11.11",
            "platform": "aliexpress",
            "starts_on": "2026-11-01",
            "ends_on": "2026-11-11",
            "budget": {"amount": "5000", "currency": "USD"},
        },
        headers=other_tenant.auth("supervisor"),
    )
    foreign = campaign_body(sbu_id, event_node_id=node.json()["id"])
    problem = assert_problem(await campaigns.post("/v1/campaigns", json=foreign, headers=headers), 422)
    assert problem["errors"][0]["loc"] == ["body", "event_node_id"]
    same_day = campaign_body(sbu_id, starts_on="2026-09-01", ends_on="2026-09-01")
    assert (await campaigns.post("/v1/campaigns", json=same_day, headers=headers)).status_code == 201


async def test_utm_campaign_unique_per_org(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, other_tenant: Tenant
) -> None:
    utm = unique_utm()
    await new_campaign(campaigns, fake_plans, tenant, utm_campaign=utm)
    again = campaign_body(fake_plans.add_sbu(tenant.org_id), utm_campaign=utm)
    assert_problem(await campaigns.post("/v1/campaigns", json=again, headers=tenant.auth("specialist")), 409)
    await new_campaign(campaigns, fake_plans, other_tenant, utm_campaign=utm)  # another org may reuse it


async def test_an_sbu_counts_in_one_currency(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    first = await new_campaign(campaigns, fake_plans, tenant)
    other = campaign_body(first["sbu_id"], budget={"amount": "10", "currency": "EUR"})
    problem = assert_problem(await campaigns.post("/v1/campaigns", json=other, headers=tenant.auth("specialist")), 422)
    assert problem["errors"][0]["loc"] == ["body", "budget", "currency"]


async def test_lifecycle(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    url = f"/v1/campaigns/{campaign['id']}/transitions"
    headers = tenant.auth("specialist")

    async def move(to: str) -> httpx.Response:
        return await campaigns.post(url, json={"to": to}, headers=headers)

    problem = assert_problem(await move("running"), 409)
    assert problem["current"] == "draft" and problem["allowed"] == ["cancelled", "scheduled"]
    for to in ("scheduled", "running", "paused", "running", "paused", "completed"):
        moved = await move(to)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == to
    for to in ("running", "cancelled", "draft"):
        assert_problem(await move(to), 409)
    assert_problem(await move("finished"), 422)
    got = await campaigns.get(f"/v1/campaigns/{campaign['id']}", headers=headers)
    assert got.json()["status"] == "completed"


@pytest.mark.parametrize("path", [[], ["scheduled"], ["scheduled", "running"], ["scheduled", "running", "paused"]])
async def test_cancelled_from_any_state_before_completed(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, path: list[str]
) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    url = f"/v1/campaigns/{campaign['id']}/transitions"
    for to in path:
        assert (await campaigns.post(url, json={"to": to}, headers=tenant.auth("specialist"))).status_code == 200
    cancelled = await campaigns.post(url, json={"to": "cancelled"}, headers=tenant.auth("specialist"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


async def test_patch_with_if_match(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    campaign = await new_campaign(campaigns, fake_plans, tenant)
    url = f"/v1/campaigns/{campaign['id']}"
    headers = tenant.auth("specialist")
    etag = (await campaigns.get(url, headers=headers)).headers["etag"]
    patched = await campaigns.patch(
        url,
        json={"name": "SEM autumn", "budget": {"amount": "4000", "currency": "USD"}},
        headers={**headers, "If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "SEM autumn" and patched.json()["budget"]["amount"] == "4000.00"
    assert_problem(await campaigns.patch(url, json={"name": "x"}, headers={**headers, "If-Match": etag}), 412)
    assert_problem(
        await campaigns.patch(url, json={"budget": {"amount": "1", "currency": "EUR"}}, headers=headers), 422
    )
    assert_problem(await campaigns.patch(url, json={"ends_on": "2026-08-01"}, headers=headers), 422)
    bad = await campaigns.patch(url, json={"settings": {"keywords": []}}, headers=headers)
    assert assert_problem(bad, 422)["errors"][0]["loc"] == ["body", "settings", "keywords"]
    assert_problem(await campaigns.patch(url, json={"status": "running"}, headers=headers), 422)
    assert_problem(await campaigns.patch(url, json={"sbu_id": campaign["sbu_id"]}, headers=headers), 422)
    got = await campaigns.get(url, headers=headers)
    assert got.json()["name"] == "SEM autumn" and got.json()["ends_on"] == "2026-09-30"


async def test_patch_utm_clash_is_409(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    utm = unique_utm()
    await new_campaign(campaigns, fake_plans, tenant, utm_campaign=utm)
    second = await new_campaign(campaigns, fake_plans, tenant)
    response = await campaigns.patch(
        f"/v1/campaigns/{second['id']}", json={"utm_campaign": utm}, headers=tenant.auth("specialist")
    )
    assert_problem(response, 409)


async def test_list_filters_and_pages(campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant) -> None:
    sbu_id = fake_plans.add_sbu(tenant.org_id)
    made = [await new_campaign(campaigns, fake_plans, tenant, kind="edm", sbu_id=sbu_id) for _ in range(3)]
    await campaigns.post(
        f"/v1/campaigns/{made[0]['id']}/transitions", json={"to": "scheduled"}, headers=tenant.auth("specialist")
    )
    first = await campaigns.get("/v1/campaigns", params={"sbu_id": sbu_id, "limit": 2}, headers=tenant.auth())
    assert [c["id"] for c in first.json()["items"]] == [c["id"] for c in made[:2]]
    rest = await campaigns.get(
        "/v1/campaigns", params={"sbu_id": sbu_id, "cursor": first.json()["next_cursor"]}, headers=tenant.auth()
    )
    assert [c["id"] for c in rest.json()["items"]] == [made[2]["id"]] and rest.json()["next_cursor"] is None
    scheduled = await campaigns.get(
        "/v1/campaigns", params={"sbu_id": sbu_id, "status": "scheduled"}, headers=tenant.auth()
    )
    assert [c["id"] for c in scheduled.json()["items"]] == [made[0]["id"]]


async def test_idempotency_key_replays_the_creation(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant
) -> None:
    body = campaign_body(fake_plans.add_sbu(tenant.org_id), utm_campaign=unique_utm())
    headers = {**tenant.auth("specialist"), "Idempotency-Key": unique_utm()}
    first = await campaigns.post("/v1/campaigns", json=body, headers=headers)
    again = await campaigns.post("/v1/campaigns", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["location"] == first.headers["location"]
    other = await campaigns.post("/v1/campaigns", json={**body, "name": "other"}, headers=headers)
    assert_problem(other, 422)
    listed = await campaigns.get("/v1/campaigns", params={"sbu_id": body["sbu_id"]}, headers=tenant.auth())
    assert len(listed.json()["items"]) == 1
