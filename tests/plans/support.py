"""Builders for plans and their objects over the API (used by the plans tests)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Tenant


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


PLAN = {
    "name": "Company A — 2027 export plan",
    "period_start": "2027-01-01",
    "period_end": "2027-12-31",
    "base_currency": "USD",
    "trade_direction": "export",
}


async def post(client: httpx.AsyncClient, url: str, body: dict[str, Any], tenant: Tenant, role: str) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=tenant.auth(role))
    assert response.status_code == 201, f"{url}: {response.status_code} {response.text}"
    assert response.headers["location"].endswith(response.json()["id"])
    return response.json()


async def new_plan(plans: httpx.AsyncClient, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    return await post(plans, "/v1/plans", {**PLAN, **extra}, tenant, "executive")


async def ready_strategy(plans: httpx.AsyncClient, tenant: Tenant, plan_id: str) -> dict[str, Any]:
    """A complete strategic layer: one item per SWOT quadrant, a targeted segment and a positioning (and the
    innovation task readiness asks for)."""
    base = f"/v1/plans/{plan_id}"
    for quadrant in ("strength", "weakness", "opportunity", "threat"):
        await post(
            plans,
            f"{base}/swot-items",
            {"quadrant": quadrant, "description": quadrant, "weight": "0.5"},
            tenant,
            "executive",
        )
    segment = await post(
        plans,
        f"{base}/segments",
        {"name": "Executives", "countries": ["US"], "attractiveness": 8, "fit": 9},
        tenant,
        "executive",
    )
    put = await plans.put(f"{base}/targeting", json={"segment_ids": [segment["id"]]}, headers=tenant.auth("executive"))
    assert put.status_code == 200, put.text
    put = await plans.put(
        f"{base}/positioning",
        json={"target_segment_id": segment["id"], "statement": "The office golf coach"},
        headers=tenant.auth("executive"),
    )
    assert put.status_code == 200, put.text
    await innovation(plans, tenant, plan_id)
    return segment


async def innovation(plans: httpx.AsyncClient, tenant: Tenant, plan_id: str) -> dict[str, Any]:
    """13N1's last "1": one innovation task, without which a plan is not ready."""
    body = {"title": "Live demos", "layer": "tactical", "hypothesis": "demos sell", "budget": money("100")}
    return await post(plans, f"/v1/plans/{plan_id}/innovations", body, tenant, "executive")


async def tactics(
    plans: httpx.AsyncClient, tenant: Tenant, plan_id: str, segment_id: str | None
) -> tuple[dict, dict, dict]:
    base = f"/v1/plans/{plan_id}"
    customer = await post(
        plans,
        f"{base}/customers",
        {
            "name": "Business people",
            "segment_id": segment_id,
            "needs": [{"statement": "practise in the office", "demand": "strong"}],
        },
        tenant,
        "supervisor",
    )
    channel = await post(
        plans,
        f"{base}/channels",
        {
            "name": "Flagship store",
            "platform": "alibaba_international",
            "mode": "platform",
            "business_model": "B2B",
            "countries": ["US"],
        },
        tenant,
        "supervisor",
    )
    product = await post(
        plans,
        f"{base}/products",
        {"sku": "GS-200", "name": "Golf simulator kit", "unit_cost": money("300"), "price": money("500")},
        tenant,
        "supervisor",
    )
    return customer, channel, product


def sbu_body(customer: dict, channel: dict, product: dict, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer["id"],
        "channel_id": channel["id"],
        "product_id": product["id"],
        "need": "practise in the office",
        "demand": "strong",
        "budget": money("10000"),
        "revenue_target": money("60000"),
        "owner": "Li Wei",
        **extra,
    }
