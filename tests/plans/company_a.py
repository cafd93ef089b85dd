"""Company A from the seeds (001/002): golf training simulator kits for high-end business people, used in the
office, sold through the official flagship store on Alibaba International Station, priced at no more than
twice the cost of a round of golf."""

from __future__ import annotations

from typing import Any

import httpx

from tests.plans.builders import innovation, money, post
from tests.support import Tenant, assert_problem

ROUND_OF_GOLF = 300  # USD at a premium course
POSITIONING = (
    "For high-end business people who love golf but have no time for the course, the GS-200 is the "
    "office golf trainer that costs no more than two rounds of golf."
)


async def build_strategy(plans: httpx.AsyncClient, a: Tenant) -> dict[str, Any]:
    plan = await post(
        plans,
        "/v1/plans",
        {
            "name": "Company A — golf training simulator kits 2027",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "base_currency": "USD",
            "trade_direction": "export",
            "budget": money("100000"),
        },
        a,
        "executive",
    )
    base = f"/v1/plans/{plan['id']}"
    macro = await post(
        plans,
        f"{base}/environment-factors",
        {
            "scope": "macro",
            "category": "society",
            "description": "executives work longer hours and golf less",
            "impact": 4,
        },
        a,
        "executive",
    )
    await post(
        plans,
        f"{base}/environment-factors",
        {
            "scope": "micro",
            "category": "competition",
            "description": "cheap copies appear on marketplaces",
            "impact": -3,
        },
        a,
        "executive",
    )
    swot = {}
    for quadrant, text, weight in (
        ("strength", "patented swing sensor accurate to 1°", "0.9"),
        ("strength", "kit fits a 3 m office", "0.6"),
        ("weakness", "unknown brand outside China", "0.7"),
        ("opportunity", "busy executives want to practise without going to the course", "0.8"),
        ("threat", "cheap copies undercut the price", "0.5"),
    ):
        body = {"quadrant": quadrant, "description": text, "weight": weight}
        if quadrant == "opportunity":
            body["factor_id"] = macro["id"]
        swot[text] = await post(plans, f"{base}/swot-items", body, a, "executive")
    business = await post(
        plans,
        f"{base}/segments",
        {
            "name": "High-end business people",
            "countries": ["US", "GB", "DE"],
            "size_estimate": 250000,
            "growth_rate": "0.06",
            "attractiveness": 9,
            "fit": 9,
        },
        a,
        "executive",
    )
    golfers = await post(
        plans,
        f"{base}/segments",
        {"name": "Professional golfers", "countries": ["US"], "attractiveness": 4, "fit": 2},
        a,
        "executive",
    )
    put = await plans.put(f"{base}/targeting", json={"segment_ids": [business["id"]]}, headers=a.auth("executive"))
    assert put.status_code == 200, put.text
    put = await plans.put(
        f"{base}/positioning",
        json={
            "target_segment_id": business["id"],
            "statement": POSITIONING,
            "frame_of_reference": "indoor golf trainers",
            "points_of_difference": ["used in the office", "priced under two rounds of golf"],
            "reasons_to_believe": ["patented sensor"],
        },
        headers=a.auth("executive"),
    )
    assert put.status_code == 200, put.text
    await innovation(plans, a, plan["id"])
    return {"plan": plan, "base": base, "business": business, "golfers": golfers, "swot": swot}


async def build_tactics(plans: httpx.AsyncClient, a: Tenant, s: dict[str, Any]) -> dict[str, Any]:
    base = s["base"]
    executives = await post(
        plans,
        f"{base}/customers",
        {
            "name": "High-end business people",
            "segment_id": s["business"]["id"],
            "needs": [
                {
                    "statement": "practise golf in the office",
                    "demand": "strong",
                    "evidence": "interviews with 40 executives",
                }
            ],
        },
        a,
        "supervisor",
    )
    pros = await post(
        plans,
        f"{base}/customers",
        {
            "name": "Professional golfers",
            "segment_id": s["golfers"]["id"],
            "needs": [
                {
                    "statement": "practise golf in the office",
                    "demand": "pseudo",
                    "evidence": "professionals train on the course, not in an office",
                }
            ],
        },
        a,
        "supervisor",
    )
    alibaba = await post(
        plans,
        f"{base}/channels",
        {
            "name": "Alibaba International Station flagship store",
            "platform": "alibaba_international",
            "mode": "platform",
            "business_model": "B2B",
            "countries": ["US", "GB", "DE"],
        },
        a,
        "supervisor",
    )
    amazon = await post(
        plans,
        f"{base}/channels",
        {
            "name": "Amazon US store",
            "platform": "amazon",
            "mode": "platform",
            "business_model": "B2C",
            "countries": ["US"],
        },
        a,
        "supervisor",
    )
    ceiling = money(f"{2 * ROUND_OF_GOLF}")
    product = {
        "sku": "GS-200",
        "name": "Golf training simulator kit",
        "hs_code": "9506390000",
        "unit_cost": money("210"),
        "price_ceiling": ceiling,
        "pricing_note": "no more than twice the cost of a round of golf",
    }
    too_dear = await plans.post(
        f"{base}/products", json={**product, "price": money("650")}, headers=a.auth("supervisor")
    )
    detail = assert_problem(too_dear, 422)["detail"]
    assert "650.00 USD" in detail and "600.00 USD" in detail, detail
    kit = await post(plans, f"{base}/products", {**product, "price": money("580")}, a, "supervisor")
    return {"executives": executives, "pros": pros, "alibaba": alibaba, "amazon": amazon, "kit": kit}


def sbu(customer: dict, channel: dict, product: dict, need: str, demand: str, budget: str) -> dict[str, Any]:
    return {
        "customer_id": customer["id"],
        "channel_id": channel["id"],
        "product_id": product["id"],
        "need": need,
        "demand": demand,
        "budget": money(budget),
        "revenue_target": money("150000"),
        "owner": "Li Wei",
    }
