"""Company A's plan end to end: strategy, tactics, SBUs, readiness, activation, the strategy lock and the audit."""

from __future__ import annotations

import httpx

from tests.plans.builders import post
from tests.plans.company_a import build_strategy, build_tactics, sbu
from tests.support import Tenant, assert_problem


async def test_company_a_builds_end_to_end(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    a = tenant
    s = await build_strategy(plans, a)
    base, plan_id = s["base"], s["plan"]["id"]
    health = (await plans.get(f"{base}/health", headers=a.auth("analyst"))).json()
    assert health["ready"] is True and [f["code"] for f in health["findings"]] == ["no_sbus"]

    t = await build_tactics(plans, a, s)
    office = sbu(t["executives"], t["alibaba"], t["kit"], "practise golf in the office", "strong", "40000")
    flagship = await post(plans, f"{base}/sbus", office, a, "supervisor")

    # one live SBU per customer × channel × product
    duplicate = await plans.post(f"{base}/sbus", json={**office, "owner": "Someone else"}, headers=a.auth("supervisor"))
    assert flagship["id"] in assert_problem(duplicate, 409)["detail"]

    # professional golfers: the need becomes a pseudo-demand, and activation is refused while that SBU lives
    pros = await post(
        plans,
        f"{base}/sbus",
        sbu(t["pros"], t["alibaba"], t["kit"], "practise golf in the office", "pseudo", "20000"),
        a,
        "supervisor",
    )
    health = (await plans.get(f"{base}/health", headers=a.auth("analyst"))).json()
    assert health["ready"] is False
    codes = {(f["code"], f["ref"]["id"]) for f in health["findings"] if f["severity"] == "error"}
    assert codes == {("pseudo_demand_sbu", pros["id"]), ("customer_not_targeted", pros["id"])}
    refused = await plans.post(f"{base}/activate", headers=a.auth("executive"))
    body = assert_problem(refused, 409)
    assert {f["code"] for f in body["findings"]} == {"pseudo_demand_sbu", "customer_not_targeted"}
    assert all(f["ref"] == {"type": "sbu", "id": pros["id"]} for f in body["findings"])
    assert (await plans.get(f"/v1/plans/{plan_id}", headers=a.auth())).json()["status"] == "draft"

    retired = await plans.post(
        f"/v1/sbus/{pros['id']}/retire",
        json={"reason": "pseudo-demand: pros train on courses"},
        headers=a.auth("supervisor"),
    )
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert (await plans.get(f"{base}/health", headers=a.auth("analyst"))).json()["ready"] is True

    activated = await plans.post(f"{base}/activate", headers=a.auth("executive"))
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active" and activated.json()["strategy_locked_until"] == "2027-12-31"
    assert (await plans.get(f"/v1/sbus/{flagship['id']}", headers=a.auth())).json()["status"] == "active"
    assert_problem(await plans.post(f"{base}/activate", headers=a.auth("executive")), 409)

    # a channel change is a new business model: PATCH refuses it, derive makes it
    patch = await plans.patch(
        f"/v1/sbus/{flagship['id']}", json={"channel_id": t["amazon"]["id"]}, headers=a.auth("supervisor")
    )
    assert "derive" in assert_problem(patch, 422)["detail"]
    derived = await plans.post(
        f"/v1/sbus/{flagship['id']}/derive",
        json={"channel_id": t["amazon"]["id"], "reason": "move to Amazon B2C"},
        headers=a.auth("supervisor"),
    )
    assert derived.status_code == 201, derived.text
    amazon = derived.json()
    assert amazon["derived_from"] == flagship["id"] and amazon["status"] == "active"
    assert amazon["channel_id"] == t["amazon"]["id"] and amazon["customer_id"] == t["executives"]["id"]
    assert amazon["budget"] == flagship["budget"] and derived.headers["location"] == f"/v1/sbus/{amazon['id']}"
    old = (await plans.get(f"/v1/sbus/{flagship['id']}", headers=a.auth())).json()
    assert old["status"] == "retired" and "move to Amazon B2C" in old["retired_reason"]

    # the strategy is locked: a strategic write needs an executive's override reason
    item = s["swot"]["unknown brand outside China"]
    url = f"{base}/swot-items/{item['id']}"
    locked = await plans.patch(url, json={"weight": "0.40"}, headers=a.auth("executive"))
    assert "locked until 2027-12-31" in assert_problem(locked, 409)["detail"]
    assert_problem(await plans.put(f"{base}/targeting", json={"segment_ids": []}, headers=a.auth("executive")), 409)
    assert_problem(
        await plans.patch(url, json={"weight": "0.40", "override_reason": "x"}, headers=a.auth("supervisor")), 403
    )
    override = await plans.patch(
        url, json={"weight": "0.40", "override_reason": "brand awareness survey Q1"}, headers=a.auth("executive")
    )
    assert override.status_code == 200 and override.json()["weight"] == "0.40"
    # the tactical layer stays writable within the period
    assert (
        await plans.patch(f"/v1/sbus/{amazon['id']}", json={"owner": "Amazon team"}, headers=a.auth("supervisor"))
    ).status_code == 200

    audit = (await plans.get(f"{base}/audit", headers=a.auth("analyst"))).json()["items"]
    assert [(e["action"], e["entity"]) for e in audit] == [
        ("activate", "plan"),
        ("retire", "sbu"),
        ("create", "sbu"),
        ("update", "swot_item"),
        ("update", "sbu"),
    ]
    swot_change = audit[3]
    assert swot_change["override"] is True and swot_change["reason"] == "brand awareness survey Q1"
    assert swot_change["actor_role"] == "executive" and swot_change["actor"]
    assert swot_change["before"]["weight"] == "0.70" and swot_change["after"]["weight"] == "0.40"
    assert audit[2]["after"]["derived_from"] == flagship["id"] and audit[2]["reason"] == "move to Amazon B2C"
    assert audit[4]["before"]["owner"] == "Li Wei" and audit[4]["after"]["owner"] == "Amazon team"
    assert all(e["created_at"] for e in audit)

    # archived plans no longer change; active ones cannot be deleted
    assert_problem(await plans.delete(f"/v1/plans/{plan_id}", headers=a.auth("executive")), 409)
    archived = await plans.patch(f"/v1/plans/{plan_id}", json={"status": "archived"}, headers=a.auth("executive"))
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert_problem(
        await plans.post(f"/v1/sbus/{amazon['id']}/retire", json={"reason": "x"}, headers=a.auth("supervisor")), 409
    )


async def test_plan_budget_and_targeting_findings(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    s = await build_strategy(plans, tenant)
    t = await build_tactics(plans, tenant, s)
    await post(
        plans,
        f"{s['base']}/sbus",
        sbu(t["executives"], t["alibaba"], t["kit"], "practise golf in the office", "strong", "90000"),
        tenant,
        "supervisor",
    )
    await post(
        plans,
        f"{s['base']}/sbus",
        sbu(t["executives"], t["amazon"], t["kit"], "a gift for the boss", "weak", "20000"),
        tenant,
        "supervisor",
    )
    health = (await plans.get(f"{s['base']}/health", headers=tenant.auth("analyst"))).json()
    assert [f["code"] for f in health["findings"]] == ["sbu_budget_over_plan"] and not health["ready"]
    assert "110000" in health["findings"][0]["message"]
    # untargeting the positioned segment breaks targeting and positioning
    put = await plans.put(
        f"{s['base']}/targeting", json={"segment_ids": [s["golfers"]["id"]]}, headers=tenant.auth("executive")
    )
    assert put.status_code == 200
    codes = {f["code"] for f in (await plans.get(f"{s['base']}/health", headers=tenant.auth())).json()["findings"]}
    assert {"positioning_not_targeted", "customer_not_targeted", "sbu_budget_over_plan"} <= codes


async def test_lock_covers_deletes_and_the_lock_date_itself(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    s = await build_strategy(plans, tenant)
    base = s["base"]
    factor = await post(
        plans,
        f"{base}/environment-factors",
        {"scope": "macro", "category": "law", "description": "US de minimis suspended", "impact": -4},
        tenant,
        "executive",
    )
    activated = await plans.post(
        f"{base}/activate", json={"strategy_locked_until": "2027-06-30"}, headers=tenant.auth("executive")
    )
    assert activated.status_code == 200 and activated.json()["strategy_locked_until"] == "2027-06-30"
    url = f"{base}/environment-factors/{factor['id']}"
    assert_problem(await plans.delete(url, headers=tenant.auth("executive")), 409)
    deleted = await plans.delete(
        url, params={"override_reason": "duplicate of the tariff factor"}, headers=tenant.auth("executive")
    )
    assert deleted.status_code == 204
    plan_url = f"/v1/plans/{s['plan']['id']}"
    assert_problem(
        await plans.patch(plan_url, json={"strategy_locked_until": "2027-01-31"}, headers=tenant.auth("executive")), 409
    )
    unlocked = await plans.patch(
        plan_url,
        json={"strategy_locked_until": "2027-01-31", "override_reason": "board review moved the strategy date"},
        headers=tenant.auth("admin"),
    )
    assert unlocked.status_code == 200 and unlocked.json()["strategy_locked_until"] == "2027-01-31"
    audit = (await plans.get(f"{base}/audit", headers=tenant.auth("analyst"))).json()["items"]
    assert [(e["action"], e["entity"], e["override"]) for e in audit[1:]] == [
        ("delete", "environment_factor", True),
        ("update", "plan", True),
    ]
    assert audit[1]["before"]["description"] == "US de minimis suspended" and audit[1]["after"] is None
    assert audit[2]["actor_role"] == "admin" and audit[2]["reason"] == "board review moved the strategy date"
