"""Plan, strategy, SBU, grid, audit and report routes: the owning role, a role that may not write (403),
another organisation (404)."""

from __future__ import annotations

import httpx

from shared.context import context_of
from tests.plans.support import PLAN, money, new_plan, post, ready_strategy, sbu_body, tactics
from tests.support import Tenant, assert_problem


async def test_plan_crud_and_roles(plans: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    for role in ("supervisor", "specialist", "analyst", "integration"):
        assert_problem(await plans.post("/v1/plans", json=PLAN, headers=tenant.auth(role)), 403)
    plan = await new_plan(plans, tenant, budget=money("50000"))
    assert plan["status"] == "draft" and plan["budget"] == money("50000.00") and plan["strategy_locked_until"] is None
    url = f"/v1/plans/{plan['id']}"

    got = await plans.get(url, headers=tenant.auth("specialist"))
    assert got.status_code == 200 and got.json() == plan
    listed = await plans.get("/v1/plans", params={"status": "draft"}, headers=tenant.auth("analyst"))
    assert plan["id"] in [p["id"] for p in listed.json()["items"]]
    assert plan["id"] not in [
        p["id"] for p in (await plans.get("/v1/plans", headers=other_tenant.auth())).json()["items"]
    ]
    for method in ("GET", "PATCH", "DELETE"):
        assert_problem(
            await plans.request(
                method, url, json={"name": "x"} if method == "PATCH" else None, headers=other_tenant.auth()
            ),
            404,
        )
    for suffix in ("/health", "/audit", "/swot", "/targeting", "/sbu-grid", "/report", "/sbus"):
        assert_problem(await plans.get(url + suffix, headers=other_tenant.auth()), 404)
    assert_problem(await plans.post(url + "/activate", headers=other_tenant.auth()), 404)

    assert_problem(await plans.patch(url, json={"name": "x"}, headers=tenant.auth("supervisor")), 403)
    assert_problem(
        await plans.patch(url, json={"name": "x"}, headers={**tenant.auth("executive"), "If-Match": '"x"'}), 412
    )
    bad = await plans.patch(url, json={"period_end": "2026-01-01"}, headers=tenant.auth("executive"))
    assert_problem(bad, 422)
    bad = await plans.patch(url, json={"budget": money("10", "EUR")}, headers=tenant.auth("executive"))
    assert "base currency" in assert_problem(bad, 422)["detail"]
    assert_problem(await plans.patch(url, json={"status": "active"}, headers=tenant.auth("executive")), 422)
    renamed = await plans.patch(
        url, json={"name": "Company A 2027"}, headers={**tenant.auth("executive"), "If-Match": got.headers["etag"]}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Company A 2027"
    assert (await plans.get(url, headers=tenant.auth())).json()["name"] == "Company A 2027"

    assert_problem(await plans.post(url + "/activate", headers=tenant.auth("supervisor")), 403)
    assert_problem(await plans.delete(url, headers=tenant.auth("supervisor")), 403)
    assert (await plans.delete(url, headers=tenant.auth("executive"))).status_code == 204
    assert_problem(await plans.get(url, headers=tenant.auth()), 404)


async def test_plan_validation(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    for bad in (
        {**PLAN, "period_end": "2026-12-31"},
        {**PLAN, "base_currency": "usd"},
        {**PLAN, "trade_direction": "both"},
        {**PLAN, "budget": money("100", "EUR")},
        {**PLAN, "org_id": tenant.org_id},
        {**PLAN, "period_start": "1900-01-01"},
    ):
        assert_problem(await plans.post("/v1/plans", json=bad, headers=tenant.auth("executive")), 422)


async def test_strategy_routes(plans: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    base = f"/v1/plans/{plan['id']}"
    segment = await post(
        plans,
        f"{base}/segments",
        {"name": "Execs", "countries": ["US"], "attractiveness": 8, "fit": 9},
        tenant,
        "executive",
    )
    targeting = {"segment_ids": [segment["id"]]}
    positioning = {
        "target_segment_id": segment["id"],
        "statement": "Your office, your golf course",
        "points_of_difference": ["fits a 3 m office"],
    }
    assert_problem(await plans.put(f"{base}/targeting", json=targeting, headers=tenant.auth("supervisor")), 403)
    assert_problem(await plans.put(f"{base}/targeting", json=targeting, headers=other_tenant.auth()), 404)
    # the positioning must name a targeted segment
    assert_problem(await plans.put(f"{base}/positioning", json=positioning, headers=tenant.auth("executive")), 422)
    assert_problem(await plans.get(f"{base}/positioning", headers=tenant.auth("analyst")), 404)
    put = await plans.put(f"{base}/targeting", json=targeting, headers=tenant.auth("executive"))
    assert put.status_code == 200 and put.json()["segment_ids"] == [segment["id"]]
    bad = await plans.put(f"{base}/targeting", json={"segment_ids": ["nope"]}, headers=tenant.auth("executive"))
    assert_problem(bad, 422)
    assert (await plans.get(f"{base}/targeting", headers=tenant.auth("analyst"))).json()["segment_ids"] == [
        segment["id"]
    ]
    assert_problem(await plans.put(f"{base}/positioning", json=positioning, headers=tenant.auth("supervisor")), 403)
    assert_problem(await plans.put(f"{base}/positioning", json=positioning, headers=other_tenant.auth()), 404)
    put = await plans.put(f"{base}/positioning", json=positioning, headers=tenant.auth("executive"))
    assert put.status_code == 200 and put.json()["statement"] == positioning["statement"]
    got = await plans.get(f"{base}/positioning", headers=tenant.auth("analyst"))
    assert got.json()["points_of_difference"] == ["fits a 3 m office"]
    assert_problem(await plans.get(f"{base}/positioning", headers=other_tenant.auth()), 404)
    # a segment the positioning names cannot be deleted
    assert_problem(await plans.delete(f"{base}/segments/{segment['id']}", headers=tenant.auth("executive")), 409)


async def test_swot_matrix_and_tows_pairings(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    base = f"/v1/plans/{plan['id']}"
    factor = await post(
        plans,
        f"{base}/environment-factors",
        {"scope": "micro", "category": "competition", "description": "few office simulators", "impact": 4},
        tenant,
        "executive",
    )
    items = {}
    for quadrant, weight in (
        ("strength", "0.9"),
        ("strength", "0.5"),
        ("weakness", "0.4"),
        ("opportunity", "0.8"),
        ("threat", "0.3"),
    ):
        body = {"quadrant": quadrant, "description": f"{quadrant} {weight}", "weight": weight}
        if quadrant == "opportunity":
            body["factor_id"] = factor["id"]
        items[(quadrant, weight)] = await post(plans, f"{base}/swot-items", body, tenant, "executive")
    bad = await plans.post(
        f"{base}/swot-items",
        json={"quadrant": "threat", "description": "x", "weight": "0.1", "factor_id": "0" * 36},
        headers=tenant.auth("executive"),
    )
    assert assert_problem(bad, 422)["errors"][0]["loc"] == ["body", "factor_id"]

    swot = (await plans.get(f"{base}/swot", headers=tenant.auth("specialist"))).json()
    assert [i["weight"] for i in swot["strengths"]] == ["0.90", "0.50"]
    assert len(swot["weaknesses"]) == len(swot["opportunities"]) == len(swot["threats"]) == 1
    assert [(p["internal"]["description"], p["external"]["description"], p["score"]) for p in swot["so"]] == [
        ("strength 0.9", "opportunity 0.8", "0.72"),
        ("strength 0.5", "opportunity 0.8", "0.40"),
    ]
    assert len(swot["st"]) == 2 and len(swot["wo"]) == 1 and len(swot["wt"]) == 1
    assert swot["wt"][0]["score"] == "0.12"


async def test_sbu_routes(plans: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    segment = await ready_strategy(plans, tenant, plan["id"])
    customer, channel, product = await tactics(plans, tenant, plan["id"], segment["id"])
    body = sbu_body(customer, channel, product)
    collection = f"/v1/plans/{plan['id']}/sbus"
    for role in ("executive", "specialist", "analyst"):
        assert_problem(await plans.post(collection, json=body, headers=tenant.auth(role)), 403)
    assert_problem(await plans.post(collection, json=body, headers=other_tenant.auth()), 404)
    bad = await plans.post(collection, json={**body, "budget": money("10", "EUR")}, headers=tenant.auth("supervisor"))
    assert "base currency" in assert_problem(bad, 422)["detail"]
    sbu = await post(plans, collection, body, tenant, "supervisor")
    assert sbu["status"] == "draft" and sbu["org_id"] == tenant.org_id and sbu["plan_id"] == plan["id"]
    url = f"/v1/sbus/{sbu['id']}"

    got = await plans.get(url, headers=tenant.auth("specialist"))
    assert got.status_code == 200 and got.json() == sbu
    assert_problem(await plans.get(url, headers=other_tenant.auth()), 404)
    assert_problem(await plans.get(url, headers=tenant.auth("integration")), 403)
    listed = await plans.get(collection, params={"status": "draft"}, headers=tenant.auth("analyst"))
    assert [s["id"] for s in listed.json()["items"]] == [sbu["id"]]

    assert_problem(await plans.patch(url, json={"owner": "x"}, headers=tenant.auth("executive")), 403)
    assert_problem(await plans.patch(url, json={"owner": "x"}, headers=other_tenant.auth()), 404)
    assert_problem(
        await plans.patch(url, json={"owner": "x"}, headers={**tenant.auth("supervisor"), "If-Match": '"x"'}), 412
    )
    changed = await plans.patch(
        url,
        json={"owner": "Zhang Min", "budget": money("12000")},
        headers={**tenant.auth("supervisor"), "If-Match": got.headers["etag"]},
    )
    assert changed.status_code == 200 and changed.json()["owner"] == "Zhang Min"
    assert changed.json()["budget"] == money("12000.00")
    assert_problem(await plans.patch(url, json={"owner": None}, headers=tenant.auth("supervisor")), 422)

    derive = {"channel_id": channel["id"], "reason": "x"}
    assert_problem(await plans.post(f"{url}/derive", json=derive, headers=tenant.auth("analyst")), 403)
    assert_problem(await plans.post(f"{url}/derive", json=derive, headers=other_tenant.auth()), 404)
    assert_problem(await plans.post(f"{url}/derive", json=derive, headers=tenant.auth("supervisor")), 422)  # no change
    retire = {"reason": "season over"}
    assert_problem(await plans.post(f"{url}/retire", json=retire, headers=tenant.auth("analyst")), 403)
    assert_problem(await plans.post(f"{url}/retire", json=retire, headers=other_tenant.auth()), 404)
    retired = await plans.post(f"{url}/retire", json=retire, headers=tenant.auth("supervisor"))
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert retired.json()["retired_reason"] == "season over"
    assert_problem(await plans.post(f"{url}/retire", json=retire, headers=tenant.auth("supervisor")), 409)
    assert_problem(await plans.patch(url, json={"owner": "x"}, headers=tenant.auth("supervisor")), 409)
    # the triple is free again once its SBU is retired
    again = await post(plans, collection, body, tenant, "supervisor")
    assert again["id"] != sbu["id"]

    grid = await plans.get(f"/v1/plans/{plan['id']}/sbu-grid", headers=tenant.auth("analyst"))
    assert grid.status_code == 200 and len(grid.json()["cells"]) == 2
    assert_problem(await plans.get(f"/v1/plans/{plan['id']}/sbu-grid", headers=tenant.auth("integration")), 403)


async def test_get_sbu_is_one_query(plans: httpx.AsyncClient, tenant: Tenant, plans_app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    plan = await new_plan(plans, tenant)
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = context_of(plans_app).engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        got = await plans.get(f"/v1/sbus/{sbu['id']}", headers=tenant.auth("specialist"))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert got.status_code == 200
    assert {"org_id", "status", "plan_id"} <= got.json().keys()
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, statements
