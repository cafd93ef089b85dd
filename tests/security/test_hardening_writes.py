"""Writes that respect If-Match and state moves that happen once, under concurrency (the version is in the
UPDATE's WHERE clause, so two requests holding one ETag cannot both win)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import httpx
import pytest
from sqlalchemy import func, select

from services.campaigns.events import EVENTS as CAMPAIGN_EVENTS
from services.compliance.events import EVENTS as COMPLIANCE_EVENTS
from services.plans.events import EVENTS as PLAN_EVENTS
from shared.context import context_of
from tests.compliance.support import EBP, ITEM, PAY, Seller, buyer_id, new_order_no, profile_of, shopify_order
from tests.plans.support import money, new_plan, post, ready_strategy, sbu_body, tactics
from tests.support import Tenant, assert_problem

N = 20


async def _sbu(plans: httpx.AsyncClient, tenant: Tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = await new_plan(plans, tenant)
    segment = await ready_strategy(plans, tenant, plan["id"])
    parts = await tactics(plans, tenant, plan["id"], segment["id"])
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(*parts), tenant, "supervisor")
    return plan, sbu


async def _count(app: Any, tables: Any, org_id: str, event_type: str) -> int:
    E = tables.OutboxEvent
    async with context_of(app).sessionmaker() as session:
        stmt = select(func.count()).select_from(E).where(E.org_id == org_id, E.type == event_type)
        return int(await session.scalar(stmt) or 0)


def _statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


async def test_concurrent_sbu_patches_with_one_etag_give_one_200(plans, tenant):
    _, sbu = await _sbu(plans, tenant)
    got = await plans.get(f"/v1/sbus/{sbu['id']}", headers=tenant.auth("analyst"))
    etag = got.headers["etag"]
    headers = {**tenant.auth("supervisor"), "If-Match": etag}
    responses = await asyncio.gather(
        *(
            plans.patch(f"/v1/sbus/{sbu['id']}", json={"budget": money(f"{1000 + i}")}, headers=headers)
            for i in range(N)
        )
    )
    assert _statuses(responses) == [200] + [412] * (N - 1), [r.text for r in responses]
    for r in responses:
        if r.status_code == 412:
            assert_problem(r, 412)
    winner = next(r for r in responses if r.status_code == 200).json()
    now = (await plans.get(f"/v1/sbus/{sbu['id']}", headers=tenant.auth("analyst"))).json()
    assert now["budget"] == winner["budget"]


async def test_concurrent_retires_publish_one_sbu_retired(plans, plans_app, tenant):
    _, sbu = await _sbu(plans, tenant)
    responses = await asyncio.gather(
        *(
            plans.post(f"/v1/sbus/{sbu['id']}/retire", json={"reason": "no demand"}, headers=tenant.auth("supervisor"))
            for _ in range(N)
        )
    )
    statuses = _statuses(responses)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 409, 503}, [r.text for r in responses]
    assert await _count(plans_app, PLAN_EVENTS, tenant.org_id, "sbu.retired") == 1


async def test_two_concurrent_derives_of_one_sbu_one_wins(plans, plans_app, tenant):
    plan, sbu = await _sbu(plans, tenant)
    base = f"/v1/plans/{plan['id']}"
    channels = [
        await post(
            plans,
            f"{base}/channels",
            {"name": f"Store {i}", "platform": "amazon", "mode": "platform", "business_model": "B2C",
             "countries": ["US"]},
            tenant,
            "supervisor",
        )
        for i in range(2)
    ]  # fmt: skip
    responses = await asyncio.gather(
        *(
            plans.post(
                f"/v1/sbus/{sbu['id']}/derive",
                json={"channel_id": c["id"], "reason": "new channel"},
                headers=tenant.auth("supervisor"),
            )
            for c in channels
        )
    )
    statuses = _statuses(responses)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409, 503}, [r.text for r in responses]
    assert await _count(plans_app, PLAN_EVENTS, tenant.org_id, "sbu.retired") == 1
    live = await plans.get(f"{base}/sbus?status=active", headers=tenant.auth("analyst"))
    drafts = await plans.get(f"{base}/sbus?status=draft", headers=tenant.auth("analyst"))
    assert len(live.json()["items"]) + len(drafts.json()["items"]) == 1


async def test_plan_patch_with_one_etag_has_one_winner(plans, tenant):
    plan = await new_plan(plans, tenant)
    etag = (await plans.get(f"/v1/plans/{plan['id']}", headers=tenant.auth("analyst"))).headers["etag"]
    headers = {**tenant.auth("executive"), "If-Match": etag}
    responses = await asyncio.gather(
        *(plans.patch(f"/v1/plans/{plan['id']}", json={"description": f"v{i}"}, headers=headers) for i in range(N))
    )
    assert _statuses(responses) == [200] + [412] * (N - 1), [r.text for r in responses]


async def _campaign(campaigns: httpx.AsyncClient, fake_sbu: str, tenant: Tenant) -> dict[str, Any]:
    body = {
        "sbu_id": fake_sbu,
        "kind": "sem",
        "name": "sem push",
        "budget": {"amount": "3000.00", "currency": "USD"},
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-30",
        "settings": {
            "keywords": [{"text": "golf simulator", "match_type": "exact", "max_cpc": "1.20"}],
            "daily_budget": "50.00",
        },
    }
    r = await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_campaign_patches_and_transitions_are_compare_and_set(plans, campaigns, campaigns_app, tenant):
    _, sbu = await _sbu(plans, tenant)
    campaign = await _campaign(campaigns, sbu["id"], tenant)
    url = f"/v1/campaigns/{campaign['id']}"
    etag = (await campaigns.get(url, headers=tenant.auth("analyst"))).headers["etag"]
    headers = {**tenant.auth("specialist"), "If-Match": etag}
    responses = await asyncio.gather(
        *(campaigns.patch(url, json={"name": f"push {i}"}, headers=headers) for i in range(N))
    )
    assert _statuses(responses) == [200] + [412] * (N - 1), [r.text for r in responses]

    moves = await asyncio.gather(
        *(campaigns.post(f"{url}/transitions", json={"to": "scheduled"}, headers=tenant.auth("specialist"))
          for _ in range(N))
    )  # fmt: skip
    statuses = _statuses(moves)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 409, 503}, [r.text for r in moves]
    assert await _count(campaigns_app, CAMPAIGN_EVENTS, tenant.org_id, "campaign.status_changed") == 1

    # a transition holding a stale ETag is refused too
    stale = await campaigns.post(
        f"{url}/transitions", json={"to": "running"}, headers={**tenant.auth("specialist"), "If-Match": etag}
    )
    assert_problem(stale, 412)


# ---------------------------------------------------------------------------------------------------------------
# Every resource that answers an ETag: N writers holding one ETag, one winner (compare-and-set, shared.db).
# On PostgreSQL the writers really overlap (the losers' UPDATE waits on the winner's row lock, then matches no
# row); on SQLite the writes serialise, and the outcome must be the same.


class Target(NamedTuple):
    """A resource to race on: where it is read, how it is written (method, URL, role) and the i-th writer's
    body, and the field of the answer that shows which writer won."""

    read: str
    method: str
    write: str
    role: str
    body: Callable[[int], dict[str, Any] | None]
    shows: str | None


Make = Callable[[dict[str, httpx.AsyncClient], Tenant], Awaitable[Target]]


async def _plan_child(
    clients: dict[str, httpx.AsyncClient], tenant: Tenant, path: str, body: dict[str, Any], field: str, role: str
) -> Target:
    plans = clients["plans"]
    plan = await new_plan(plans, tenant)
    obj = await post(plans, f"/v1/plans/{plan['id']}/{path}", body, tenant, role)
    url = f"/v1/plans/{plan['id']}/{path}/{obj['id']}"
    return Target(url, "PATCH", url, role, lambda i: {field: f"{field} {i}"}, field)


def _child(path: str, body: dict[str, Any], field: str, role: str = "supervisor") -> Make:
    async def make(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
        return await _plan_child(clients, tenant, path, body, field, role)

    return make


async def _plan(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    plan = await new_plan(clients["plans"], tenant)
    url = f"/v1/plans/{plan['id']}"
    return Target(url, "PATCH", url, "executive", lambda i: {"description": f"v{i}"}, "description")


async def _sbu_target(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    _, sbu = await _sbu(clients["plans"], tenant)
    url = f"/v1/sbus/{sbu['id']}"
    return Target(url, "PATCH", url, "supervisor", lambda i: {"owner": f"Owner {i}"}, "owner")


async def _positioning(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    plans = clients["plans"]
    plan = await new_plan(plans, tenant)
    segment = await ready_strategy(plans, tenant, plan["id"])
    url = f"/v1/plans/{plan['id']}/positioning"
    return Target(
        url, "PUT", url, "executive", lambda i: {"target_segment_id": segment["id"], "statement": f"s{i}"}, "statement"
    )


async def _campaign_target(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    _, sbu = await _sbu(clients["plans"], tenant)
    campaign = await _campaign(clients["campaigns"], sbu["id"], tenant)
    url = f"/v1/campaigns/{campaign['id']}"
    return Target(url, "PATCH", url, "specialist", lambda i: {"name": f"push {i}"}, "name")


async def _item(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    url = "/v1/compliance/items/SCARF-CAS"
    r = await clients["compliance"].put(url, json=ITEM, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return Target(url, "PUT", url, "admin", lambda i: {**ITEM, "gname": f"Wool scarf {i}"}, "gname")


async def _profile(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    url, own = "/v1/compliance/customs-profile", profile_of(tenant)  # its own e-port id: one organisation's
    r = await clients["compliance"].put(url, json=own, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return Target(url, "PUT", url, "admin", lambda i: {**own, "ebc_name": f"Seller {i}"}, "ebc_name")


async def _institution(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    body = {"pay_code": PAY, "name": "XBM Pay", "licence_no": "Z2000000000001", "scopes": ["internet_payment"],
            "status": "active"}  # fmt: skip
    r = await clients["compliance"].post("/v1/compliance/payment-institutions", json=body, headers=tenant.auth())
    assert r.status_code == 201, r.text
    url = f"/v1/compliance/payment-institutions/{r.json()['id']}"
    return Target(url, "PATCH", url, "admin", lambda i: {"name": f"Pay {i}"}, "name")


async def _source_secret(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    body = {"name": "Shop", "kind": "shopify", "role": "platform", "ebp_code": EBP, "ebp_name": "XBM Shop"}
    r = await clients["compliance"].post("/v1/compliance/sources", json=body, headers=tenant.auth())
    assert r.status_code == 201, r.text
    url = f"/v1/compliance/sources/{r.json()['id']}"
    return Target(url, "POST", f"{url}/secret", "admin", lambda i: None, "previous_secret_until")


async def _incomplete_order(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
    seller = await Seller(clients["compliance"], tenant).setup(profile=False)
    order_no = new_order_no()
    order = shopify_order(order_no, buyer=buyer_id(1))
    order["note_attributes"] = [a for a in order["note_attributes"] if a["name"] != "buyer_id_number"]
    r = await seller.send_order(order)
    assert r.status_code in (200, 201) and r.json()["state"] == "incomplete", r.text
    url = f"/v1/compliance/orders/{EBP}/{order_no}"
    return Target(url, "PATCH", url, "integration", lambda i: {"buyer": {"id_number": buyer_id(100 + i)}}, None)


def _subscription(service: str, event_type: str) -> Make:
    async def make(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> Target:
        body = {"url": f"http://127.0.0.1:9/hooks/{service}", "event_types": [event_type]}
        r = await clients[service].post("/v1/subscriptions", json=body, headers=tenant.auth())
        assert r.status_code == 201, r.text
        url = f"/v1/subscriptions/{r.json()['id']}"
        return Target(url, "PATCH", url, "admin", lambda i: {"description": f"hook {i}"}, "description")

    return make


TARGETS: dict[str, tuple[str, Make]] = {
    "plan": ("plans", _plan),
    "sbu": ("plans", _sbu_target),
    "environment factor": ("plans", _child("environment-factors", {"scope": "micro", "category": "competition",
                                           "description": "few rivals", "impact": 4}, "description", "executive")),
    "swot item": ("plans", _child("swot-items", {"quadrant": "strength", "description": "brand", "weight": "0.5"},
                                  "description", "executive")),
    "segment": ("plans", _child("segments", {"name": "Executives", "countries": ["US"], "attractiveness": 8,
                                             "fit": 9}, "name", "executive")),
    "positioning": ("plans", _positioning),
    "customer": ("plans", _child("customers", {"name": "Business people", "segment_id": None,
                                               "needs": [{"statement": "practise", "demand": "strong"}]}, "name")),
    "channel": ("plans", _child("channels", {"name": "Store", "platform": "amazon", "mode": "platform",
                                             "business_model": "B2C", "countries": ["US"]}, "name")),
    "product": ("plans", _child("products", {"sku": "GS-200", "name": "Kit", "unit_cost": money("300"),
                                             "price": money("500")}, "name")),
    "innovation": ("plans", _child("innovations", {"title": "Live demos", "layer": "tactical",
                                                   "hypothesis": "demos sell", "budget": money("100")}, "title")),
    "review": ("plans", _child("reviews", {"loop": "pdca", "phase": "check", "findings": "ok"}, "findings")),
    "status snapshot": ("plans", _child("status-snapshots", {"as_of": "2027-01-01", "customer_count": 10,
                                                             "repurchase_rate": "0.3", "member_activity_rate": "0.2"},
                                        "notes")),
    "membership tier": ("plans", _child("membership-tiers", {"name": "Regular", "level": 1, "min_orders": 1},
                                        "name")),
    "service channel": ("plans", _child("service-channels", {"kind": "email", "role": "core"}, "name")),
    "plans subscription": ("plans", _subscription("plans", PLAN_EVENTS.event_types[0])),
    "campaign": ("campaigns", _campaign_target),
    "campaigns subscription": ("campaigns", _subscription("campaigns", CAMPAIGN_EVENTS.event_types[0])),
    "item record": ("compliance", _item),
    "customs profile": ("compliance", _profile),
    "payment institution": ("compliance", _institution),
    "source secret": ("compliance", _source_secret),
    "order completion": ("compliance", _incomplete_order),
    "compliance subscription": ("compliance", _subscription("compliance", COMPLIANCE_EVENTS.event_types[0])),
}  # fmt: skip


@pytest.mark.parametrize("name", list(TARGETS))
async def test_concurrent_writes_with_one_etag_have_one_winner(name, plans, campaigns, compliance, tenant):
    service, make = TARGETS[name]
    clients = {"plans": plans, "campaigns": campaigns, "compliance": compliance}
    client = clients[service]
    target = await make(clients, tenant)
    read = await client.get(target.read, headers=tenant.auth())
    assert read.status_code == 200, read.text
    etag = read.headers["etag"]
    headers = {**tenant.auth(target.role), "If-Match": etag}
    responses = await asyncio.gather(
        *(client.request(target.method, target.write, json=target.body(i), headers=headers) for i in range(N))
    )
    assert _statuses(responses) == [200] + [412] * (N - 1), [(r.status_code, r.text[:200]) for r in responses]
    for r in responses:
        if r.status_code == 412:
            assert_problem(r, 412)
    winner = next(r for r in responses if r.status_code == 200)
    now = await client.get(target.read, headers=tenant.auth())
    assert now.headers["etag"] != etag  # the write changed the version clients hold
    if target.shows is not None:  # what is stored is the winner's write, whole
        assert now.json()[target.shows] == winner.json()[target.shows]
    else:
        assert now.json()["state"] != "incomplete"
    # the ETag the winner's answer names (when it gives one) is the one a reader gets now
    if "etag" in winner.headers:
        assert winner.headers["etag"] == now.headers["etag"]
    # and a write holding the old ETag is still refused afterwards
    late = await client.request(target.method, target.write, json=target.body(N), headers=headers)
    assert_problem(late, 412)


DELETABLE: dict[str, tuple[str, Make]] = {
    "plan": ("plans", _plan),
    "segment": ("plans", TARGETS["segment"][1]),
    "plans subscription": ("plans", TARGETS["plans subscription"][1]),
    "compliance subscription": ("compliance", TARGETS["compliance subscription"][1]),
}


@pytest.mark.parametrize("name", list(DELETABLE))
async def test_concurrent_deletes_with_one_etag_delete_once(name, plans, campaigns, compliance, tenant):
    """A DELETE names the version it read too: one request deletes, each other one is refused (412 when it read
    the row before the delete committed, 404 when after), never a second 204 for one row."""
    service, make = DELETABLE[name]
    clients = {"plans": plans, "campaigns": campaigns, "compliance": compliance}
    client = clients[service]
    target = await make(clients, tenant)
    etag = (await client.get(target.read, headers=tenant.auth())).headers["etag"]
    headers = {**tenant.auth(target.role), "If-Match": etag}
    responses = await asyncio.gather(*(client.delete(target.read, headers=headers) for _ in range(N)))
    statuses = _statuses(responses)
    assert statuses.count(204) == 1 and set(statuses) <= {204, 404, 412}, [r.text for r in responses]
    for r in responses:
        if r.status_code != 204:
            assert_problem(r, r.status_code)
    assert_problem(await client.get(target.read, headers=tenant.auth()), 404)
