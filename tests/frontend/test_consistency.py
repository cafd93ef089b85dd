"""One vocabulary across the API: SBUs carry the labels a grid or a list shows, and a renamed field keeps its
old name as a documented, deprecated alias."""

from __future__ import annotations

import httpx
import pytest

from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.support import BOOTSTRAP_TOKEN, Tenant, assert_problem, exchange

pytestmark = pytest.mark.db


async def test_sbu_responses_carry_their_customer_channel_and_product_labels(
    plans: httpx.AsyncClient, tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant)
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    created = await post(
        plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor"
    )
    expected = {
        "customer": {"id": customer["id"], "name": customer["name"]},
        "channel": {"id": channel["id"], "name": channel["name"], "platform": channel["platform"],
                    "business_model": channel["business_model"]},
        "product": {"id": product["id"], "name": product["name"], "sku": product["sku"]},
    }  # fmt: skip
    assert {k: created[k] for k in expected} == expected
    got = await plans.get(f"/v1/sbus/{created['id']}", headers=tenant.auth("analyst"))
    assert {k: got.json()[k] for k in expected} == expected
    listed = await plans.get(f"/v1/plans/{plan['id']}/sbus", headers=tenant.auth("analyst"))
    assert [{k: s[k] for k in expected} for s in listed.json()["items"]] == [expected]

    # the labels are for showing: the SBU's ETag still guards its own fields
    stale = await plans.patch(
        f"/v1/sbus/{created['id']}", json={"owner": "Wang Fang"},
        headers={**tenant.auth("supervisor"), "If-Match": '"stale"'},
    )  # fmt: skip
    assert_problem(stale, 412)
    fresh = await plans.patch(
        f"/v1/sbus/{created['id']}", json={"owner": "Wang Fang"},
        headers={**tenant.auth("supervisor"), "If-Match": got.headers["etag"]},
    )  # fmt: skip
    assert fresh.status_code == 200 and fresh.json()["owner"] == "Wang Fang"
    assert fresh.json()["customer"] == expected["customer"]
    assert_problem(await plans.get("/v1/sbus/not-an-id", headers=tenant.auth("analyst")), 404)


async def test_the_bootstrap_answers_key_like_api_keys_do_and_keeps_admin_api_key(plans: httpx.AsyncClient) -> None:
    response = await plans.post("/v1/orgs", json={"name": "Alias Co"}, headers={"X-Bootstrap-Token": BOOTSTRAP_TOKEN})
    assert response.status_code == 201
    body = response.json()
    assert body["key"] == body["admin_api_key"]
    assert await exchange(plans, body["key"])
    schema = (await plans.get("/openapi.json")).json()["components"]["schemas"]["OrgCreated"]
    assert schema["properties"]["admin_api_key"]["deprecated"] is True
    assert "key" in schema["properties"]["admin_api_key"]["description"]
    assert set(schema["required"]) >= {"key", "admin_api_key"}


async def test_the_swot_matrix_names_quadrants_as_items_do(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    for quadrant, weight in (("strength", "0.9"), ("strength", "0.4"), ("threat", "0.7")):
        item = {"quadrant": quadrant, "description": f"a {quadrant}", "weight": weight}
        await post(plans, f"/v1/plans/{plan['id']}/swot-items", item, tenant, "executive")
    swot = (await plans.get(f"/v1/plans/{plan['id']}/swot", headers=tenant.auth("analyst"))).json()
    assert [i["weight"] for i in swot["quadrants"]["strength"]] == ["0.90", "0.40"]
    assert [i["quadrant"] for i in swot["quadrants"]["threat"]] == ["threat"]
    assert swot["quadrants"]["weakness"] == swot["quadrants"]["opportunity"] == []
    # the old plural names stay, with the same items
    assert swot["strengths"] == swot["quadrants"]["strength"] and swot["threats"] == swot["quadrants"]["threat"]
    schema = (await plans.get("/openapi.json")).json()["components"]["schemas"]["SwotOut"]["properties"]
    assert all(schema[old]["deprecated"] for old in ("strengths", "weaknesses", "opportunities", "threats"))
