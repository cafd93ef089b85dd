"""A plan key names one plan in its organisation: `xbm plan import` finds the plan by it, and a burst of imports
of the same file (scripts retrying at once) makes one plan, never two — on PostgreSQL as on SQLite."""

from __future__ import annotations

import asyncio

import httpx

from tests.plans.support import PLAN, new_plan
from tests.support import Tenant, assert_problem


async def test_a_key_is_found_and_unique_in_its_organisation(
    plans: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    plans_app,  # type: ignore[no-untyped-def]
) -> None:
    plan = await new_plan(plans, tenant, key="company-a-2027")
    assert plan["key"] == "company-a-2027"
    found = await plans.get("/v1/plans", params={"key": "company-a-2027"}, headers=tenant.auth("analyst"))
    assert [p["id"] for p in found.json()["items"]] == [plan["id"]]
    again = await plans.post("/v1/plans", json={**PLAN, "key": "company-a-2027"}, headers=tenant.auth("executive"))
    assert plan["id"] in assert_problem(again, 409)["detail"]
    # another organisation has its own keys, and does not see this one
    theirs = await new_plan(plans, other_tenant, key="company-a-2027")
    assert theirs["id"] != plan["id"]
    mine = await plans.get("/v1/plans", params={"key": "company-a-2027"}, headers=other_tenant.auth("analyst"))
    assert [p["id"] for p in mine.json()["items"]] == [theirs["id"]]
    for bad in ("", "has space", "x" * 101, "-leading"):
        refused = await plans.post("/v1/plans", json={**PLAN, "key": bad}, headers=tenant.auth("executive"))
        assert_problem(refused, 422)


async def test_a_burst_with_one_key_makes_one_plan(plans: httpx.AsyncClient, tenant: Tenant, plans_app) -> None:  # type: ignore[no-untyped-def]
    body = {**PLAN, "key": "burst-2027"}
    responses = await asyncio.gather(
        *(plans.post("/v1/plans", json=body, headers=tenant.auth("executive")) for _ in range(8))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, [r.text for r in responses]
    found = await plans.get("/v1/plans", params={"key": "burst-2027"}, headers=tenant.auth("analyst"))
    assert len(found.json()["items"]) == 1
