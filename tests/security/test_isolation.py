"""The tenant isolation matrix (OWASP API1): every operation of the three OpenAPI documents, walked with
organisation A's objects — by organisation B's admin (404, and A unchanged), by each of A's roles (403 exactly
where the role table says the role may not act) and with no token (401).

New routes join the walk by themselves: the operations come from ``app.openapi()``, and one whose path
parameter, body or role the walk does not know fails with a message saying what to add."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.security.operations import NO_OBJECT, NOT_ROLE_GUARDED, OWN_BY_KEY, PUBLIC, Operation, walk_order
from tests.security.operations import operations as read_operations
from tests.security.permissions import ROLES, allowed
from tests.security.support import BUILDERS, World, WorldGap
from tests.support import Tenant

SERVICES = ("plans", "campaigns", "compliance")
PROBLEM = "application/problem+json"


def gaps(world: World, ops: list[Operation]) -> list[str]:
    """What the walk cannot do yet: each line says what to add."""
    found = []
    for op in ops:
        if not op.params and op.key not in NO_OBJECT:
            found.append(
                f"{world.service}: {op} takes no path parameter; if it takes no object of an organisation, add it "
                "to NO_OBJECT in tests/security/operations.py with the reason, else give it its object's id"
            )
        if op.key not in NOT_ROLE_GUARDED:
            try:
                allowed(world.service, op.method, op.path)
            except LookupError as exc:
                found.append(str(exc))
        try:
            world.request(op)
        except WorldGap as exc:
            found.append(str(exc))
    return found


async def send(client: httpx.AsyncClient, request: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    return await client.request(**{**request, "headers": {**request["headers"], **headers}})


def shown(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:300]}"


async def snapshot(client: httpx.AsyncClient, world: World, ops: list[Operation]) -> dict[str, Any]:
    """Everything A's admin can read: each GET's status, body and ETag."""
    seen = {}
    for op in ops:
        if op.method == "GET":
            response = await send(client, world.request(op), world.tenant.auth())
            seen[str(op)] = (response.status_code, response.headers.get("etag"), response.text)
    return seen


async def settled(client: httpx.AsyncClient, world: World, ops: list[Operation]) -> dict[str, Any]:
    """A's reads once they have settled: a read may record what it found once (an experiment's analysis
    records its decision), so the first pass is not the reference."""
    await snapshot(client, world, ops)
    return await snapshot(client, world, ops)


async def setup(
    service: str, clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant
) -> tuple[World, list[Operation]]:
    world = await BUILDERS[service](clients, apps, tenant)
    ops = read_operations(service, apps[service])
    missing = gaps(world, ops)
    assert not missing, "the isolation walk does not know every operation yet:\n" + "\n".join(missing)
    return world, walk_order(ops)


@pytest.mark.parametrize("service", SERVICES)
async def test_another_organisation_gets_404_and_changes_nothing(
    service: str, clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant, other_tenant: Tenant
) -> None:
    world, ops = await setup(service, clients, apps, tenant)
    client = clients[service]
    before = await settled(client, world, ops)
    assert all(status == 200 for status, _, _ in before.values()), before
    failures, walked = [], 0
    for op in ops:
        if op.key in NO_OBJECT:
            continue
        walked += 1
        expected = OWN_BY_KEY.get(op.key, (404, ""))[0]
        response = await send(client, world.request(op), other_tenant.auth("admin"))
        if response.status_code != expected:
            failures.append(f"{op}: expected {expected}, got {shown(response)}")
        elif expected == 404 and not response.headers["content-type"].startswith(PROBLEM):
            failures.append(f"{op}: 404 without problem+json")
    assert walked >= 10
    assert not failures, f"{service}: organisation B reached A's objects:\n" + "\n".join(failures)
    after = await snapshot(client, world, ops)
    changed = [op for op in before if before[op] != after[op]]
    assert not changed, f"{service}: organisation B's calls changed what A sees: {changed}"


@pytest.mark.parametrize("service", SERVICES)
async def test_no_token_is_401_everywhere(
    service: str, clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant
) -> None:
    world, ops = await setup(service, clients, apps, tenant)
    client = clients[service]
    before = await settled(client, world, ops)
    failures = []
    for op in ops:
        if op.key in PUBLIC:
            continue
        response = await send(client, world.request(op), {})
        if response.status_code != 401 or not response.headers["content-type"].startswith(PROBLEM):
            failures.append(f"{op}: {shown(response)}")
        elif op.key not in NOT_ROLE_GUARDED and response.headers.get("www-authenticate") != "Bearer":
            failures.append(f"{op}: 401 without WWW-Authenticate: Bearer")
    assert not failures, f"{service}: answered without a token:\n" + "\n".join(failures)
    assert await snapshot(client, world, ops) == before


def role_order(may: frozenset[str]) -> list[str]:
    """Roles that may not act first (they change nothing), then those that may, admin last."""
    return sorted(ROLES, key=lambda role: (role in may, role == "admin", role))


async def fresh_target(client: httpx.AsyncClient, world: World, op: Operation) -> dict[str, str]:
    """A new object for a DELETE, made like the world's own (POST to the collection), so each role that may
    delete deletes something."""
    collection = op.path.rsplit("/", 1)[0]
    name = op.params[-1]
    segment = collection.rsplit("/", 1)[-1]
    if ("POST", collection) not in world.bodies:
        raise WorldGap(f"{world.service}: {op} needs a fresh object: add a body for POST {collection} to the world")
    request = world.request(Operation(world.service, "POST", collection, {}))
    response = await send(client, request, world.tenant.auth())
    assert response.status_code == 201, f"fresh object for {op}: {shown(response)}"
    return {f"{segment}/{name}": response.json()["id"]}


@pytest.mark.parametrize("service", SERVICES)
async def test_each_role_is_refused_exactly_where_the_role_table_says(
    service: str, clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant
) -> None:
    world, ops = await setup(service, clients, apps, tenant)
    client = clients[service]
    failures = []
    for op in ops:
        if op.key in NOT_ROLE_GUARDED:
            continue
        may = allowed(service, op.method, op.path)
        for role in role_order(may):
            overrides = await fresh_target(client, world, op) if op.method == "DELETE" and role in may else None
            response = await send(client, world.request(op, overrides), tenant.auth(role))
            if role not in may and response.status_code != 403:
                failures.append(f"{op} as {role}: expected 403, got {shown(response)}")
            elif role in may and not (200 <= response.status_code < 300 or response.status_code == 409):
                failures.append(
                    f"{op} as {role}: expected 2xx (or 409 for a state already changed), got {shown(response)}"
                )
    assert not failures, f"{service}: the roles do not match the role table:\n" + "\n".join(failures)


async def test_bodies_naming_another_organisations_objects_are_refused(
    clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant, other_tenant: Tenant
) -> None:
    """B names A's objects inside a body, on B's own plan and campaigns: refused like unknown ids (422), and A's
    objects stay as they were."""
    a_plans = await BUILDERS["plans"](clients, apps, tenant)
    a_campaigns = await BUILDERS["campaigns"](clients, apps, tenant)
    b_plans = await BUILDERS["plans"](clients, apps, other_tenant)
    plans, campaigns = clients["plans"], clients["campaigns"]
    a = a_plans.params
    b_base = f"/v1/plans/{b_plans.params['plan_id']}"
    attempts: list[tuple[httpx.AsyncClient, str, str, dict[str, Any]]] = [
        (plans, "PUT", f"{b_base}/targeting", {"segment_ids": [a["segments/item_id"]]}),
        (plans, "PUT", f"{b_base}/positioning", {"target_segment_id": a["segments/item_id"], "statement": "x"}),
        (
            plans,
            "POST",
            f"{b_base}/swot-items",
            {"quadrant": "threat", "description": "x", "weight": "0.1", "factor_id": a["environment-factors/item_id"]},
        ),
        (plans, "POST", f"{b_base}/customers", {"name": "x", "segment_id": a["segments/item_id"]}),
        (
            plans,
            "POST",
            f"{b_base}/sbus",
            {**b_plans.bodies[("POST", "/v1/plans/{plan_id}/sbus")], "product_id": a["products/item_id"]},
        ),
        (
            plans,
            "POST",
            f"/v1/sbus/{b_plans.params['sbu_id']}/derive",
            {"customer_id": a["customers/item_id"], "reason": "x"},
        ),
        (campaigns, "POST", "/v1/campaigns", {**a_campaigns.bodies[("POST", "/v1/campaigns")], "event_node_id": None}),
    ]
    b_campaign = {**a_campaigns.bodies[("POST", "/v1/campaigns")], "sbu_id": b_plans.params["sbu_id"]}
    attempts.append((campaigns, "POST", "/v1/campaigns", b_campaign))  # A's event node on B's campaign
    ops = {s: walk_order(read_operations(s, apps[s])) for s in ("plans", "campaigns")}
    worlds = {"plans": a_plans, "campaigns": a_campaigns}
    before = {s: await settled(clients[s], worlds[s], ops[s]) for s in worlds}
    failures = []
    for client, method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=other_tenant.auth())
        if response.status_code != 422:
            failures.append(f"{method} {url}: expected 422, got {shown(response)}")
    assert not failures, "organisation B could name A's objects:\n" + "\n".join(failures)
    for service, world in worlds.items():
        assert await snapshot(clients[service], world, ops[service]) == before[service]
