"""Every plan-owned object route: the owning role writes, a role that may not write gets 403, another
organisation gets 404; ETags and If-Match on the single resource."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.plans.support import money, new_plan, post
from tests.support import Tenant, assert_problem

KINDS: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
    # path, writer, a role that may not write, create body, patch body
    (
        "environment-factors",
        "executive",
        "supervisor",
        {"scope": "macro", "category": "economy", "description": "US office spending recovers", "impact": 3},
        {"impact": -2},
    ),
    (
        "swot-items",
        "executive",
        "supervisor",
        {"quadrant": "strength", "description": "patented swing sensor", "weight": "0.7"},
        {"weight": "0.20"},
    ),
    (
        "segments",
        "executive",
        "supervisor",
        {"name": "US executives", "countries": ["US", "CA"], "attractiveness": 8, "fit": 7, "growth_rate": "0.12"},
        {"fit": 3},
    ),
    (
        "customers",
        "supervisor",
        "executive",
        {
            "name": "High-end business people",
            "needs": [{"statement": "practise in the office", "demand": "strong", "evidence": "survey"}],
        },
        {"description": "C-level, 40-60"},
    ),
    (
        "channels",
        "supervisor",
        "executive",
        {
            "name": "Flagship store",
            "platform": "alibaba_international",
            "mode": "platform",
            "business_model": "B2B",
            "countries": ["US"],
        },
        {"countries": ["US", "GB"]},
    ),
    (
        "products",
        "supervisor",
        "analyst",
        {
            "sku": "GS-200",
            "name": "Golf training simulator kit",
            "unit_cost": money("300"),
            "price": money("480"),
            "price_ceiling": money("500"),
        },
        {"price": money("490.00")},
    ),
    (
        "innovations",
        "executive",
        "specialist",
        {
            "title": "Live broadcast demos",
            "layer": "combat",
            "hypothesis": "live demos convert",
            "budget": money("2000"),
        },
        {"status": "running"},
    ),
    (
        "reviews",
        "specialist",
        "analyst",
        {"loop": "pdca", "phase": "check", "findings": "CTR below target", "actions": "new visuals"},
        {"actions": "A/B test the hero image"},
    ),
    (
        "status-snapshots",
        "supervisor",
        "specialist",
        {"as_of": "2027-03-31", "customer_count": 420, "repurchase_rate": "0.18", "member_activity_rate": "0.35"},
        {"customer_count": 433},
    ),
    (
        "membership-tiers",
        "supervisor",
        "executive",
        {"name": "Gold", "level": 2, "min_orders": 3, "min_spend": money("1500"), "benefits": ["free calibration"]},
        {"benefits": ["free calibration", "priority support"]},
    ),
    ("service-channels", "supervisor", "analyst", {"kind": "whatsapp", "role": "core"}, {"role": "auxiliary"}),
]


@pytest.mark.parametrize(("path", "writer", "other_role", "create", "patch"), KINDS, ids=[k[0] for k in KINDS])
async def test_plan_object_routes(
    plans: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    path: str,
    writer: str,
    other_role: str,
    create: dict[str, Any],
    patch: dict[str, Any],
) -> None:
    plan = await new_plan(plans, tenant)
    collection = f"/v1/plans/{plan['id']}/{path}"

    assert_problem(await plans.post(collection, json=create, headers=tenant.auth(other_role)), 403)
    assert_problem(await plans.post(collection, json=create, headers=tenant.auth("integration")), 403)
    created = await plans.post(collection, json=create, headers=tenant.auth(writer))
    assert created.status_code == 201, created.text
    item = created.json()
    url = created.headers["location"]
    assert url == f"{collection}/{item['id']}" and created.headers["etag"]
    admin_too = await plans.post(
        collection, json={**create, **({"sku": "GS-300"} if path == "products" else {})}, headers=tenant.auth("admin")
    )
    assert admin_too.status_code == 201, admin_too.text

    listed = await plans.get(collection, headers=tenant.auth("analyst"))
    assert listed.status_code == 200 and [i["id"] for i in listed.json()["items"]] == [
        item["id"],
        admin_too.json()["id"],
    ]
    assert_problem(await plans.get(collection, headers=tenant.auth("integration")), 403)
    paged = await plans.get(collection, params={"limit": 1}, headers=tenant.auth("analyst"))
    assert len(paged.json()["items"]) == 1 and paged.json()["next_cursor"]

    got = await plans.get(url, headers=tenant.auth("analyst"))
    assert got.status_code == 200 and got.json() == item
    etag = got.headers["etag"]

    # another organisation sees nothing, whatever its role
    for method, kwargs in (("GET", {}), ("PATCH", {"json": patch}), ("DELETE", {})):
        assert_problem(await plans.request(method, url, headers=other_tenant.auth(), **kwargs), 404)
    assert_problem(await plans.get(collection, headers=other_tenant.auth()), 404)
    assert_problem(await plans.post(collection, json=create, headers=other_tenant.auth()), 404)

    assert_problem(await plans.patch(url, json=patch, headers=tenant.auth(other_role)), 403)
    assert_problem(await plans.patch(url, json=patch, headers={**tenant.auth(writer), "If-Match": '"stale"'}), 412)
    changed = await plans.patch(url, json=patch, headers={**tenant.auth(writer), "If-Match": etag})
    assert changed.status_code == 200, changed.text
    for key, value in patch.items():
        assert changed.json()[key] == value
    assert changed.headers["etag"] != etag

    assert_problem(await plans.delete(url, headers=tenant.auth(other_role)), 403)
    assert_problem(await plans.delete(url, headers={**tenant.auth(writer), "If-Match": etag}), 412)
    deleted = await plans.delete(url, headers=tenant.auth(writer))
    assert deleted.status_code == 204
    assert_problem(await plans.get(url, headers=tenant.auth("analyst")), 404)


async def test_unknown_ids_are_404_not_500(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    for url in (
        f"/v1/plans/{uuid.uuid4()}",
        "/v1/plans/not-a-uuid",
        f"/v1/plans/{plan['id']}/segments/{uuid.uuid4()}",
        f"/v1/sbus/{uuid.uuid4()}",
        f"/v1/plans/{uuid.uuid4()}/swot",
        f"/v1/plans/{uuid.uuid4()}/report",
    ):
        assert_problem(await plans.get(url, headers=tenant.auth("analyst")), 404)


async def test_an_object_of_another_plan_is_not_found_here(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    first, second = await new_plan(plans, tenant), await new_plan(plans, tenant)
    segment = await post(
        plans,
        f"/v1/plans/{first['id']}/segments",
        {"name": "A", "countries": ["US"], "attractiveness": 5, "fit": 5},
        tenant,
        "executive",
    )
    assert_problem(await plans.get(f"/v1/plans/{second['id']}/segments/{segment['id']}", headers=tenant.auth()), 404)
    bad = await plans.post(
        f"/v1/plans/{second['id']}/customers",
        json={"name": "x", "segment_id": segment["id"]},
        headers=tenant.auth("supervisor"),
    )
    assert assert_problem(bad, 422)["errors"][0]["loc"] == ["body", "segment_id"]


async def test_bad_input_is_422_and_null_for_a_required_field_too(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    base = f"/v1/plans/{plan['id']}"
    for path, body in (
        ("environment-factors", {"scope": "macro", "category": "x", "description": "x", "impact": 6}),
        ("swot-items", {"quadrant": "strength", "description": "x", "weight": "1.5"}),
        ("segments", {"name": "x", "countries": ["usa"], "attractiveness": 5, "fit": 5}),
        ("segments", {"name": "x", "countries": ["US"], "attractiveness": 11, "fit": 5}),
        ("reviews", {"loop": "dr", "phase": "check"}),
        ("channels", {"name": "x", "platform": "Amazon US", "mode": "platform", "business_model": "B2C"}),
        (
            "status-snapshots",
            {"as_of": "2027-01-01", "customer_count": 1, "repurchase_rate": "2", "member_activity_rate": "0"},
        ),
    ):
        role = "executive" if path in ("environment-factors", "swot-items", "segments") else "supervisor"
        role = "specialist" if path == "reviews" else role
        assert_problem(await plans.post(f"{base}/{path}", json=body, headers=tenant.auth(role)), 422)
    segment = await post(
        plans,
        f"{base}/segments",
        {"name": "A", "countries": ["US"], "attractiveness": 5, "fit": 5},
        tenant,
        "executive",
    )
    body = assert_problem(
        await plans.patch(f"{base}/segments/{segment['id']}", json={"name": None}, headers=tenant.auth("executive")),
        422,
    )
    assert body["errors"][0]["loc"] == ["body", "name"]
