"""Company A's plan end to end: strategy, tactics, SBUs, readiness, activation, the strategy lock and the audit.
The plan is examples/company-a/plan.yaml, imported layer by layer; the tests' probes act on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from shared.schemas import format_decimal
from tests.plans.example_plan import STRATEGY, CompanyA, amount, import_company_a, play_on
from tests.plans.support import money, post
from tests.support import Tenant, assert_problem


async def refuse_a_too_dear_product(plans: httpx.AsyncClient, a: Tenant, company: CompanyA) -> None:
    """The file's first product priced above its ceiling is refused, both figures named."""
    (product, *_) = company.bodies("products")
    ceiling = amount(product, "price_ceiling")
    too_dear = ceiling + Decimal("150")
    response = await plans.post(
        f"{company.base}/products",
        json={**product, "price": {"amount": str(too_dear), "currency": product["price_ceiling"]["currency"]}},
        headers=a.auth("supervisor"),
    )
    detail = assert_problem(response, 422)["detail"]
    currency = product["price_ceiling"]["currency"]
    assert f"{too_dear:.2f} {currency}" in detail and f"{ceiling:.2f} {currency}" in detail, detail


async def test_company_a_builds_end_to_end(
    plans: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = tenant
    company = await import_company_a(plans, a, *STRATEGY)
    play_on(monkeypatch, company.period_start)
    base, plan_id = company.base, company.plan["id"]
    health = (await plans.get(f"{base}/health", headers=a.auth("analyst"))).json()
    assert health["ready"] is True and [f["code"] for f in health["findings"]] == ["no_sbus"]

    await company.send(plans, a, "customers", "channels")
    await refuse_a_too_dear_product(plans, a, company)
    await company.send(plans, a)
    office, flagship = company.sent["sbus"][0], company.made["sbus"][0]

    # one live SBU per customer × channel × product
    duplicate = await plans.post(f"{base}/sbus", json={**office, "owner": "Someone else"}, headers=a.auth("supervisor"))
    assert flagship["id"] in assert_problem(duplicate, 409)["detail"]

    # professional golfers: the need becomes a pseudo-demand, and activation is refused while that SBU lives
    golfers, need = company.pseudo_demand()
    pseudo = {**office, "customer_id": golfers["id"], "need": need, "demand": "pseudo", "budget": money("5000")}
    pros = await post(plans, f"{base}/sbus", pseudo, a, "supervisor")
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
    assert activated.json()["status"] == "active" and activated.json()["strategy_locked_until"] == company.period_end
    assert (await plans.get(f"/v1/sbus/{flagship['id']}", headers=a.auth())).json()["status"] == "active"
    assert_problem(await plans.post(f"{base}/activate", headers=a.auth("executive")), 409)

    # a channel change is a new business model: PATCH refuses it, derive makes it (to the file's other channel)
    other = next(c for c in company.made["channels"] if c["id"] != office["channel_id"])
    reason = f"move to {other['name']} {other['business_model']}"
    patch = await plans.patch(
        f"/v1/sbus/{flagship['id']}", json={"channel_id": other["id"]}, headers=a.auth("supervisor")
    )
    assert "derive" in assert_problem(patch, 422)["detail"]
    derived = await plans.post(
        f"/v1/sbus/{flagship['id']}/derive",
        json={"channel_id": other["id"], "reason": reason},
        headers=a.auth("supervisor"),
    )
    assert derived.status_code == 201, derived.text
    moved = derived.json()
    assert moved["derived_from"] == flagship["id"] and moved["status"] == "active"
    assert moved["channel_id"] == other["id"] and moved["customer_id"] == office["customer_id"]
    assert moved["budget"] == flagship["budget"] and derived.headers["location"] == f"/v1/sbus/{moved['id']}"
    old = (await plans.get(f"/v1/sbus/{flagship['id']}", headers=a.auth())).json()
    assert old["status"] == "retired" and reason in old["retired_reason"]

    # the strategy is locked: a strategic write needs an executive's override reason
    (weakness, item), *_ = company.items("swot_items", quadrant="weakness")
    url = f"{base}/swot-items/{item['id']}"
    locked = await plans.patch(url, json={"weight": "0.40"}, headers=a.auth("executive"))
    assert f"locked until {company.period_end}" in assert_problem(locked, 409)["detail"]
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
        await plans.patch(f"/v1/sbus/{moved['id']}", json={"owner": "Site team"}, headers=a.auth("supervisor"))
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
    assert (
        swot_change["before"]["weight"] == f"{Decimal(str(weakness['weight'])):.2f}"
        and swot_change["after"]["weight"] == "0.40"
    )
    assert audit[2]["after"]["derived_from"] == flagship["id"] and audit[2]["reason"] == reason
    assert audit[4]["before"]["owner"] == office["owner"] and audit[4]["after"]["owner"] == "Site team"
    assert all(e["created_at"] for e in audit)

    # archived plans no longer change; active ones cannot be deleted
    assert_problem(await plans.delete(f"/v1/plans/{plan_id}", headers=a.auth("executive")), 409)
    archived = await plans.patch(f"/v1/plans/{plan_id}", json={"status": "archived"}, headers=a.auth("executive"))
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert_problem(
        await plans.post(f"/v1/sbus/{moved['id']}/retire", json={"reason": "x"}, headers=a.auth("supervisor")), 409
    )


async def test_plan_budget_and_targeting_findings(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    company = await import_company_a(plans, tenant)
    base = company.base
    # one more SBU (the weak need, on the file's other channel) takes the live SBU budgets past the plan budget
    office = company.sent["sbus"][0]
    budget = amount(company.parsed.plan, "budget")
    filed = sum((amount(body, "budget") for body in company.sent["sbus"]), Decimal(0))
    assert filed <= budget
    ((customer, _),) = [(b, m) for b, m in company.items("customers") if m["id"] == office["customer_id"]]
    (weak,) = [n for n in customer["needs"] if n["demand"] == "weak"]
    other = next(c for c in company.made["channels"] if c["id"] != office["channel_id"])
    extra = budget - filed + Decimal("10000")
    gift = {
        **office,
        "channel_id": other["id"],
        "need": weak["statement"],
        "demand": "weak",
        "budget": money(str(extra)),
    }
    await post(plans, f"{base}/sbus", gift, tenant, "supervisor")
    health = (await plans.get(f"{base}/health", headers=tenant.auth("analyst"))).json()
    assert [f["code"] for f in health["findings"]] == ["sbu_budget_over_plan"] and not health["ready"]
    assert format_decimal(filed + extra) in health["findings"][0]["message"]
    # untargeting the positioned segment breaks targeting and positioning
    golfers, *_ = company.untargeted_segments()
    put = await plans.put(f"{base}/targeting", json={"segment_ids": [golfers["id"]]}, headers=tenant.auth("executive"))
    assert put.status_code == 200
    codes = {f["code"] for f in (await plans.get(f"{base}/health", headers=tenant.auth())).json()["findings"]}
    assert {"positioning_not_targeted", "customer_not_targeted", "sbu_budget_over_plan"} <= codes


async def test_lock_covers_deletes_and_the_lock_date_itself(
    plans: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = await import_company_a(plans, tenant, *STRATEGY)
    play_on(monkeypatch, company.period_start)
    base = company.base
    # lock dates inside the file's period: mid-year, then the end of its first month
    year = company.period_start.year
    mid_year, first_month = date(year, 6, 30).isoformat(), date(year, 1, 31).isoformat()
    factor = await post(
        plans,
        f"{base}/environment-factors",
        {"scope": "macro", "category": "law", "description": "US de minimis suspended", "impact": -4},
        tenant,
        "executive",
    )
    activated = await plans.post(
        f"{base}/activate", json={"strategy_locked_until": mid_year}, headers=tenant.auth("executive")
    )
    assert activated.status_code == 200 and activated.json()["strategy_locked_until"] == mid_year
    url = f"{base}/environment-factors/{factor['id']}"
    assert_problem(await plans.delete(url, headers=tenant.auth("executive")), 409)
    deleted = await plans.delete(
        url, params={"override_reason": "duplicate of the tariff factor"}, headers=tenant.auth("executive")
    )
    assert deleted.status_code == 204
    plan_url = f"/v1/plans/{company.plan['id']}"
    assert_problem(
        await plans.patch(plan_url, json={"strategy_locked_until": first_month}, headers=tenant.auth("executive")), 409
    )
    unlocked = await plans.patch(
        plan_url,
        json={"strategy_locked_until": first_month, "override_reason": "board review moved the strategy date"},
        headers=tenant.auth("admin"),
    )
    assert unlocked.status_code == 200 and unlocked.json()["strategy_locked_until"] == first_month
    audit = (await plans.get(f"{base}/audit", headers=tenant.auth("analyst"))).json()["items"]
    assert [(e["action"], e["entity"], e["override"]) for e in audit[1:]] == [
        ("delete", "environment_factor", True),
        ("update", "plan", True),
    ]
    assert audit[1]["before"]["description"] == "US de minimis suspended" and audit[1]["after"] is None
    assert audit[2]["actor_role"] == "admin" and audit[2]["reason"] == "board review moved the strategy date"
