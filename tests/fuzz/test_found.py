"""What the fuzzer found, kept as plain API tests: each was a 500 or a request taken against its schema."""

from __future__ import annotations

import httpx
import pytest

from tests.security.support import campaigns_world, compliance_world, plans_world
from tests.support import Tenant, assert_problem


@pytest.fixture
def services(  # type: ignore[no-untyped-def]
    plans: httpx.AsyncClient,
    campaigns: httpx.AsyncClient,
    compliance: httpx.AsyncClient,
    plans_app,
    campaigns_app,
    compliance_app,
) -> tuple[dict[str, httpx.AsyncClient], dict]:  # type: ignore[type-arg]
    """(clients, apps) for building a world of real objects (tests/security/support.py)."""
    clients = {"plans": plans, "campaigns": campaigns, "compliance": compliance}
    return clients, {"plans": plans_app, "campaigns": campaigns_app, "compliance": compliance_app}


async def test_a_patch_of_needs_without_evidence_keeps_the_default(plans: httpx.AsyncClient, services, tenant) -> None:  # type: ignore[no-untyped-def]
    world = await plans_world(*services, tenant)
    url = f"/v1/plans/{world.params['plan_id']}/customers/{world.params['customers/item_id']}"
    r = await plans.patch(url, json={"needs": [{"statement": "quiet", "demand": "weak"}]}, headers=tenant.auth())
    assert r.status_code == 200, r.text  # was a 500: the stored need lacked its evidence
    assert r.json()["needs"] == [{"statement": "quiet", "demand": "weak", "evidence": ""}]
    assert (await plans.get(url, headers=tenant.auth())).json()["needs"][0]["evidence"] == ""


async def test_plan_fields_every_plan_has_cannot_be_nulled(plans: httpx.AsyncClient, services, tenant) -> None:  # type: ignore[no-untyped-def]
    world = await plans_world(*services, tenant)
    url = f"/v1/plans/{world.params['plan_id']}"
    for field in ("name", "period_start", "period_end", "base_currency", "trade_direction", "description"):
        body = assert_problem(await plans.patch(url, json={field: None}, headers=tenant.auth()), 422)  # was a 500
        assert body["errors"][0]["loc"] == ["body", field]
    assert (await plans.patch(url, json={"budget": None}, headers=tenant.auth())).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("environment-factors", {"scope": "macro", "category": "c", "description": "d", "impact": False}),
        ("segments", {"name": "s", "countries": ["US"], "attractiveness": "5", "fit": 5}),
        ("membership-tiers", {"name": "t", "level": True}),
        (
            "status-snapshots",
            {"as_of": "2027-01-01", "customer_count": 2**31, "repurchase_rate": "0", "member_activity_rate": "0"},
        ),
        (
            "status-snapshots",
            {"as_of": 1700000000, "customer_count": 1, "repurchase_rate": "0", "member_activity_rate": "0"},
        ),
        ("swot-items", {"quadrant": "threat", "description": "d", "weight": "0" * 39 + "1"}),
    ],
)
async def test_integers_days_and_decimals_are_what_the_schema_says(
    plans: httpx.AsyncClient,
    services,
    tenant,
    path: str,
    body: dict,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    world = await plans_world(*services, tenant)
    url = f"/v1/plans/{world.params['plan_id']}/{path}"
    assert_problem(await plans.post(url, json=body, headers=tenant.auth()), 422)


async def test_ids_in_paths_are_bounded(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_problem(await plans.get("/v1/plans/" + "a" * 65, headers=tenant.auth()), 422)
    assert_problem(await plans.get("/v1/plans/" + "a" * 64, headers=tenant.auth()), 404)


async def test_event_node_platform_fits_its_column(campaigns: httpx.AsyncClient, services, tenant) -> None:  # type: ignore[no-untyped-def]
    world = await campaigns_world(*services, tenant)
    node = {**world.bodies[("POST", "/v1/event-nodes")], "platform": "p" * 101}
    assert_problem(await campaigns.post("/v1/event-nodes", json=node, headers=tenant.auth()), 422)  # a 500 on PG
    node["platform"] = "p" * 100
    assert (await campaigns.post("/v1/event-nodes", json=node, headers=tenant.auth())).status_code == 201
    for as_of in ("0", "1000000000", "2026-9-1"):  # were read as Unix times (or taken loosely)
        r = await campaigns.get("/v1/event-nodes", params={"as_of": as_of}, headers=tenant.auth())
        assert_problem(r, 422)


async def test_compliance_dates_times_and_quantities(compliance: httpx.AsyncClient, services, tenant) -> None:  # type: ignore[no-untyped-def]
    world = await compliance_world(*services, tenant)
    assert_problem(await compliance.get("/v1/compliance/reports/daily", params={"date": "0"},
                                        headers=tenant.auth()), 422)  # fmt: skip
    payment = {**world.bodies[("POST", "/v1/compliance/payments")], "paid_at": 1700000000}
    assert_problem(await compliance.post("/v1/compliance/payments", json=payment, headers=tenant.auth()), 422)
    payment["paid_at"] = "2026-09-01T08:00:00"  # no offset
    assert_problem(await compliance.post("/v1/compliance/payments", json=payment, headers=tenant.auth()), 422)
    waybill = {**world.bodies[("POST", "/v1/compliance/waybills")], "weight_kg": "0"}
    body = assert_problem(await compliance.post("/v1/compliance/waybills", json=waybill, headers=tenant.auth()), 422)
    assert body["errors"][0]["loc"] == ["body", "weight_kg"]
    item = {**world.bodies[("PUT", "/v1/compliance/items/{item_no}")], "qty1_per_unit": "1" * 11}
    assert_problem(await compliance.put("/v1/compliance/items/NEW-1", json=item, headers=tenant.auth()), 422)


async def test_trimmed_text_is_bounded_as_sent(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    """Whitespace was trimmed before the length was checked: 202 characters passed a 200-character limit."""
    padded = {"name": " \u00a0" + "*" * 200, "role": "analyst"}
    assert_problem(await plans.post("/v1/api-keys", json=padded, headers=tenant.auth()), 422)
    trimmed = await plans.post("/v1/api-keys", json={"name": "  walk  ", "role": "analyst"}, headers=tenant.auth())
    assert trimmed.status_code == 201 and trimmed.json()["name"] == "walk"
    assert_problem(
        await plans.post("/v1/api-keys", json={"name": "   ", "role": "analyst"}, headers=tenant.auth()), 422
    )
