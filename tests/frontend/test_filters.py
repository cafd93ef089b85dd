"""Every list of the three services documents its filters, applies them, and refuses unknown ones and bad values
with the same 422 — a frontend never gets "everything" back because of a typo."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.compliance.support import Seller, buyer_id, new_order_no, waybill
from tests.plans.support import new_plan
from tests.support import Tenant, assert_problem

pytestmark = pytest.mark.db

SERVICES = ("plans", "campaigns", "compliance")


def list_operations(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """GET operations under /v1 answering a page of ``items`` (read from the document, not listed by hand)."""
    schemas = doc["components"]["schemas"]
    found = []
    for path, item in doc["paths"].items():
        get = item.get("get")
        if not path.startswith("/v1/") or get is None:
            continue
        ref = get["responses"]["200"].get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if ref is None:
            continue
        properties = schemas[ref.rsplit("/", 1)[1]].get("properties", {})
        if "items" in properties and "next_cursor" in properties:
            found.append((path, get.get("parameters", [])))
    return found


def _fill(path: str) -> str:
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + str(uuid.uuid4()) + out[end + 1 :]
    return out


@pytest.mark.parametrize("service", SERVICES)
async def test_every_list_refuses_an_unknown_filter(
    clients: dict[str, httpx.AsyncClient], tenant: Tenant, service: str
) -> None:
    client = clients[service]
    doc = (await client.get("/openapi.json")).json()
    lists = list_operations(doc)
    assert len(lists) >= 3, [p for p, _ in lists]
    for path, parameters in lists:
        declared = {p["name"] for p in parameters if p["in"] == "query"}
        assert {"limit", "cursor"} <= declared, f"{path} is not paginated like every other list"
        for p in parameters:
            if p["in"] == "query" and p["name"] not in ("limit", "cursor"):
                assert p.get("description"), f"{path}: filter {p['name']} is not documented"
        response = await client.get(_fill(path), params={"nmae": "x"}, headers=tenant.auth())
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["query", "nmae"], (path, body)
        assert "nmae" in body["detail"]
        bad_limit = await client.get(_fill(path), params={"limit": "0"}, headers=tenant.auth())
        assert_problem(bad_limit, 422)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=20))
async def test_unknown_filter_names_are_refused_whatever_they_are(
    plans: httpx.AsyncClient, tenant: Tenant, name: str
) -> None:
    if name in ("limit", "cursor", "status", "name"):
        return
    response = await plans.get("/v1/plans", params={name: "1"}, headers=tenant.auth("analyst"))
    assert_problem(response, 422)


async def test_plans_filter_by_status_and_name(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    a = await new_plan(plans, tenant, name="Spring 100% push")
    b = await new_plan(plans, tenant, name="Autumn push")
    await new_plan(plans, tenant, name="Winter")
    auth = tenant.auth("analyst")

    async def names(**params: str) -> list[str]:
        r = await plans.get("/v1/plans", params=params, headers=auth)
        assert r.status_code == 200, r.text
        return [p["name"] for p in r.json()["items"]]

    assert await names(name="PUSH") == [a["name"], b["name"]]
    assert await names(name="100%") == [a["name"]]  # % is a character, not a wildcard
    assert await names(name="_") == []
    assert await names(name="push", status="active") == []
    assert len(await names(status="draft")) == 3
    assert_problem(await plans.get("/v1/plans", params={"status": "bogus"}, headers=auth), 422)
    assert_problem(await plans.get("/v1/plans", params={"name": ""}, headers=auth), 422)


async def test_campaign_kinds_are_paginated(campaigns: httpx.AsyncClient, tenant: Tenant) -> None:
    auth = tenant.auth("analyst")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "4"} | ({"cursor": cursor} if cursor else {})
        r = await campaigns.get("/v1/campaign-kinds", params=params, headers=auth)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 4
        seen += [k["key"] for k in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["visual", "sem", "social", "edm", "service", "live_broadcast"]
    one = (await campaigns.get("/v1/campaign-kinds", params={"limit": "1"}, headers=auth)).json()
    assert [k["key"] for k in one["items"]] == ["visual"] and one["next_cursor"]
    assert_problem(await campaigns.get("/v1/campaign-kinds", params={"cursor": "nope"}, headers=auth), 422)


async def test_campaigns_refuse_a_bad_status(campaigns: httpx.AsyncClient, tenant: Tenant) -> None:
    auth = tenant.auth("analyst")
    assert_problem(await campaigns.get("/v1/campaigns", params={"status": "bogus"}, headers=auth), 422)
    assert_problem(await campaigns.get("/v1/campaigns", params={"sbu_id": "not-a-uuid"}, headers=auth), 422)
    ok = await campaigns.get("/v1/campaigns", params={"status": "running", "kind": "sem"}, headers=auth)
    assert ok.status_code == 200 and ok.json()["items"] == []


async def test_orders_filter_by_state_direction_and_date_and_exceptions_by_rule(
    compliance: httpx.AsyncClient, tenant: Tenant
) -> None:
    seller = await Seller(compliance, tenant).setup()
    good, bad = new_order_no(), new_order_no()
    assert (await seller.deliver_all(good, buyer=buyer_id(90)))["state"] == "declared"
    view = await seller.deliver_all(bad, buyer=buyer_id(90), ship=waybill(bad, name="Somebody Else"))
    assert view["state"] == "mismatch"
    failing = [c["rule"] for c in view["checks"] if not c["passed"]]
    assert failing
    auth = tenant.auth("analyst")

    async def orders(**params: str) -> list[str]:
        r = await compliance.get("/v1/compliance/orders", params=params, headers=auth)
        assert r.status_code == 200, r.text
        return [o["order_no"] for o in r.json()["items"]]

    assert await orders(state="mismatch") == [bad]
    assert await orders(state="declared") == [good]
    assert await orders(trade_direction="import") == [good, bad]
    assert await orders(trade_direction="export") == []
    today = datetime.now(UTC).date()
    assert await orders(**{"from": today.isoformat(), "to": today.isoformat()}) == [good, bad]
    assert await orders(**{"to": "2020-01-01"}) == []
    for params in ({"state": "bogus"}, {"trade_direction": "sideways"}, {"from": "yesterday"},
                   {"from": "2027-02-01", "to": "2027-01-01"}):  # fmt: skip
        assert_problem(await compliance.get("/v1/compliance/orders", params=params, headers=auth), 422)

    async def exceptions(**params: str) -> list[str]:
        r = await compliance.get("/v1/compliance/exceptions", params=params, headers=auth)
        assert r.status_code == 200, r.text
        return [e["order_no"] for e in r.json()["items"]]

    assert await exceptions(rule=failing[0]) == [bad]
    assert await exceptions(rule="no_such_rule") == []
    assert_problem(await compliance.get("/v1/compliance/exceptions", params={"rule": "a,b"}, headers=auth), 422)
