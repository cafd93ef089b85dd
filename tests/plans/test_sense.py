"""Inputs checked for sense: rates and growth as fractions in documented ranges, and readiness findings for a plan
that looks complete but is not a 13N1 plan (no innovation task), enters a segment twice, or builds SBUs for
customers outside every targeted segment."""

from __future__ import annotations

import httpx
import pytest

from tests.plans.support import money, new_plan, post, ready_strategy, sbu_body, tactics
from tests.support import Tenant, assert_problem

SEGMENT = {"name": "Executives in Europe", "countries": ["DE", "GB"], "attractiveness": 8, "fit": 7}


@pytest.mark.parametrize(("growth", "ok"), [("0.06", True), ("-1", True), ("3", True), ("8", False), ("-1.5", False)])
async def test_growth_is_a_fraction_a_year(plans: httpx.AsyncClient, tenant: Tenant, growth: str, ok: bool) -> None:
    plan = await new_plan(plans, tenant)
    response = await plans.post(
        f"/v1/plans/{plan['id']}/segments", json={**SEGMENT, "growth_rate": growth}, headers=tenant.auth("executive")
    )
    if ok:
        assert response.status_code == 201, response.text
    else:
        assert "growth_rate" in str(assert_problem(response, 422))


async def test_the_ranges_are_documented(plans: httpx.AsyncClient) -> None:
    schemas = (await plans.get("/openapi.json")).json()["components"]["schemas"]
    growth = schemas["SegmentIn"]["properties"]["growth_rate"]
    assert "0.06 is 6 %" in str(growth) and "800 %" in str(growth)
    assert "a fraction from 0 to 1" in str(schemas["SwotItemIn"]["properties"]["weight"])


async def _findings(plans: httpx.AsyncClient, tenant: Tenant, plan_id: str) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    health = (await plans.get(f"/v1/plans/{plan_id}/health", headers=tenant.auth("analyst"))).json()
    found: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for f in health["findings"]:
        found.setdefault(f["code"], []).append(f)
    return found


async def test_a_plan_without_an_innovation_task_is_not_ready(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    segment = await ready_strategy(plans, tenant, plan["id"])
    parts = await tactics(plans, tenant, plan["id"], segment["id"])
    await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(*parts), tenant, "supervisor")
    assert "no_innovation_task" not in await _findings(plans, tenant, plan["id"])
    (innovation,) = (await plans.get(f"/v1/plans/{plan['id']}/innovations", headers=tenant.auth("analyst"))).json()[
        "items"
    ]
    deleted = await plans.delete(
        f"/v1/plans/{plan['id']}/innovations/{innovation['id']}", headers=tenant.auth("executive")
    )
    assert deleted.status_code == 204, deleted.text
    (finding,) = (await _findings(plans, tenant, plan["id"]))["no_innovation_task"]
    assert finding["severity"] == "error" and "13N1" in finding["message"]
    refused = await plans.post(f"/v1/plans/{plan['id']}/activate", json={}, headers=tenant.auth("executive"))
    assert "no_innovation_task" in refused.text and refused.status_code == 409


async def test_a_segment_entered_twice_is_found(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    base = f"/v1/plans/{plan['id']}/segments"
    first = await post(plans, base, SEGMENT, tenant, "executive")
    await post(plans, base, {**SEGMENT, "name": "  executives in EUROPE "}, tenant, "executive")  # same name
    await post(plans, base, {**SEGMENT, "name": "EU bosses", "countries": ["GB", "DE"]}, tenant, "executive")
    await post(plans, base, {**SEGMENT, "name": "US bosses", "countries": ["US"]}, tenant, "executive")
    duplicates = (await _findings(plans, tenant, plan["id"]))["duplicate_segment"]
    assert len(duplicates) == 2 and all(d["severity"] == "error" for d in duplicates)
    assert all(first["id"] in d["message"] for d in duplicates)
    assert {"the same name" in d["message"] for d in duplicates} == {True, False}


async def test_an_sbu_whose_customer_is_in_no_targeted_segment_is_found(
    plans: httpx.AsyncClient, tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant)
    await ready_strategy(plans, tenant, plan["id"])
    outsider = await post(plans, f"/v1/plans/{plan['id']}/segments", SEGMENT, tenant, "executive")  # not targeted
    parts = await tactics(plans, tenant, plan["id"], outsider["id"])
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(*parts, budget=money("10")), tenant, "supervisor")
    (finding,) = (await _findings(plans, tenant, plan["id"]))["customer_not_targeted"]
    assert finding["ref"] == {"type": "sbu", "id": sbu["id"]} and finding["severity"] == "error"
