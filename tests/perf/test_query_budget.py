"""Query budgets of the hot endpoints: the exact number of SQL statements each request sends to its service's
database. A new statement on one of these paths, or one that repeats per row, item or campaign (an N+1), fails
here; raise a budget only on purpose, with the statement it pays for.

No request here sends an ``Idempotency-Key``, so the Idempotency middleware issues no statement of its own
(asserted below); tokens are verified without SQL (plans holds its keys, the others cache plans' JWKS)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.compliance.events import EVENTS
from services.compliance.orders.models import Order
from shared.context import context_of
from shared.events import outbox
from tests.campaigns.support import campaign_body
from tests.compliance.support import EBP, ITEM, PAY, Seller, buyer_id, new_order_no, payment, waybill
from tests.conftest import BACKEND
from tests.perf.sql import Statements, counting
from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.support import Tenant

#: statements per request, and what they are
BUDGETS = {
    # the SBU, scoped by org
    "sbu_get": 1,
    # lock the order number (upsert), store the order RETURNING the ids of its payment and waybill (none yet)
    "order_alone": 2,
    # lock, store (RETURNING the payment's and waybill's ids), the order, payment and waybill in one SELECT, item
    # records (one IN), institution, buyer's quota sum, UPDATE order (matched), order.matched, customs profile,
    # the messages it owes customs (one multi-row INSERT), INSERT declaration, UPDATE order (declared),
    # order.declared. Each event is its outbox INSERT and the INSERT … SELECT of its delivery to plans (which
    # compliance subscribes at start for the report's customs picture), from the cached subscriptions: one
    # statement on PostgreSQL (the event's INSERT as a CTE), two on SQLite. On PostgreSQL also the buyer's quota
    # lock (an advisory lock; SQLite's single writer needs none)
    "order_completing": 14 if BACKEND == "postgres" else 15,
    # the campaign, metric totals, attributed orders, the by-day series
    "campaign_performance": 4,
    # the SBU's campaigns grouped by currency, metric totals, attributed orders, the by-day series
    "sbu_performance": 4,
    # the campaign, one multi-row upsert, the SBU marked as changed
    "metrics_put": 3,
}


@pytest.fixture
async def subscriptions_cached(compliance_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The subscriptions cache read before the requests measured, and kept for the test however slow the
    machine: the budgets are of the steady state (a reload every few seconds is one statement, not per event)."""
    monkeypatch.setattr(outbox, "SUBSCRIPTIONS_CACHE_SECONDS", 3600.0)
    async with context_of(compliance_app).sessionmaker() as session:
        await outbox.subscription_cache(session, EVENTS).matching(session, EVENTS, "-", "order.matched")


async def measured(app: Any, call: Any) -> tuple[httpx.Response, Statements]:
    with counting(context_of(app).engine) as statements:
        response = await call()
    return response, statements


def within(name: str, statements: Statements) -> None:
    assert len(statements) == BUDGETS[name], (
        f"{name}: {len(statements)} statements, budget {BUDGETS[name]}:\n{statements.report()}"
    )
    assert not any("idempotency_keys" in s for s in statements.seen), statements.report()


# --- the counter itself ---------------------------------------------------------------------------------------


async def test_the_counter_sees_every_round_trip(compliance_app: Any, compliance: httpx.AsyncClient, tenant: Tenant):
    """An N+1 written on purpose: one statement per row is counted as such, on both backends."""
    await Seller(compliance, tenant).setup()
    async with context_of(compliance_app).sessionmaker() as session:
        with counting(context_of(compliance_app).engine) as statements:
            for _ in range(7):
                await session.execute(select(Order.id).where(Order.org_id == tenant.org_id).limit(1))
    assert len(statements) == 7, statements.report()


# --- plans ----------------------------------------------------------------------------------------------------


async def test_sbu_get_is_one_statement(plans_app: Any, plans: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await new_plan(plans, tenant)
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor")

    response, statements = await measured(
        plans_app, lambda: plans.get(f"/v1/sbus/{sbu['id']}", headers=tenant.auth("analyst"))
    )
    assert response.status_code == 200 and response.json()["id"] == sbu["id"]
    within("sbu_get", statements)


# --- compliance -----------------------------------------------------------------------------------------------


def canonical_order(order_no: str, buyer: str, skus: list[str]) -> dict[str, Any]:
    """One line of 10.00 per SKU; freight 20.00; tax at 13 % VAT × 70 %, so the comparison passes."""
    goods = 10 * len(skus)
    tax = (goods + 20) * 0.091
    return {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "goods_value": f"{goods}.00", "freight": "20.00",
        "discount": "0", "tax_total": f"{tax:.2f}", "actual_paid": f"{goods + 20 + tax:.2f}", "currency": "CNY",
        "pay_code": PAY,
        "buyer": {"reg_no": "u1", "name": "Jiao Hongyu", "id_number": buyer, "telephone": "13522652231"},
        "consignee": {"name": "Jiao Hongyu", "telephone": "13522652231",
                      "address": "Beijing Haidian 1 Zhongguancun Street"},
        "items": [{"gnum": i, "item_no": sku, "name": "Wool scarf", "qty": "1", "price": "10", "total": "10"}
                  for i, sku in enumerate(skus, start=1)],
    }  # fmt: skip


async def test_order_ingest_budget_alone_and_completing_a_triple(
    compliance_app: Any, compliance: httpx.AsyncClient, tenant: Tenant, subscriptions_cached: None
) -> None:
    await Seller(compliance, tenant).setup()
    integration = tenant.auth("integration")
    skus = [f"SKU-{i:02d}" for i in range(30)]
    for sku in skus:
        r = await compliance.put(f"/v1/compliance/items/{sku}", json=ITEM, headers=tenant.auth())
        assert r.status_code == 201, r.text

    # warm: the JWKS is fetched once and cached
    assert (await compliance.get("/v1/compliance/items", headers=tenant.auth())).status_code == 200

    alone = canonical_order(new_order_no(), buyer_id(501), skus[:1])
    response, statements = await measured(
        compliance_app, lambda: compliance.post("/v1/compliance/orders", json=alone, headers=integration)
    )
    assert response.status_code == 201 and response.json()["state"] == "awaiting_documents", response.text
    within("order_alone", statements)

    for n, lines in enumerate((1, 30)):
        order_no, buyer = new_order_no(), buyer_id(510 + n)
        order = canonical_order(order_no, buyer, skus[:lines])
        paid = order["actual_paid"]
        for path, body in (("payments", payment(order_no, buyer=buyer, amount=paid)), ("waybills", waybill(order_no))):
            r = await compliance.post(f"/v1/compliance/{path}", json=body, headers=integration)
            assert r.status_code == 201, r.text
        response, statements = await measured(
            compliance_app, lambda o=order: compliance.post("/v1/compliance/orders", json=o, headers=integration)
        )
        # the same path whatever the number of lines: one IN for the item records, not one look-up per line
        assert response.status_code == 201 and response.json()["state"] == "declared", response.text
        within("order_completing", statements)


# --- campaigns ------------------------------------------------------------------------------------------------


async def _campaigns_on_one_sbu(
    plans: httpx.AsyncClient, campaigns: httpx.AsyncClient, tenant: Tenant, count: int
) -> tuple[str, list[str]]:
    plan = await new_plan(plans, tenant)
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor")
    ids = []
    for _ in range(count):
        r = await campaigns.post("/v1/campaigns", json=campaign_body(sbu["id"]), headers=tenant.auth("specialist"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return sbu["id"], ids


# the rows run for years from 2026-01-01, past the campaign's own dates: sent as a backfill
def metric_rows(n: int, start: date = date(2026, 1, 1)) -> list[dict[str, Any]]:
    return [
        {
            "date": (start + timedelta(days=i)).isoformat(),
            "impressions": 1000 + i,
            "clicks": 50,
            "cost": {"amount": "25.00", "currency": "USD"},
            "conversions": 5,
            "revenue": {"amount": "100.00", "currency": "USD"},
        }
        for i in range(n)
    ]


async def test_metrics_upsert_does_not_grow_with_rows(
    campaigns_app: Any, plans: httpx.AsyncClient, campaigns: httpx.AsyncClient, tenant: Tenant
) -> None:
    _, (campaign_id,) = await _campaigns_on_one_sbu(plans, campaigns, tenant, 1)
    counts = {}
    for n in (10, 1000, 1000):  # the second 1,000 updates every row
        response, statements = await measured(
            campaigns_app,
            lambda n=n: campaigns.put(
                f"/v1/campaigns/{campaign_id}/metrics",
                json={"rows": metric_rows(n), "backfill": True},
                headers=tenant.auth("specialist"),
            ),
        )
        assert response.status_code == 200 and response.json()["upserted"] == n, response.text
        within("metrics_put", statements)
        counts[n] = len(statements)
    assert counts[10] == counts[1000]


@pytest.mark.parametrize("campaign_count", [1, 12])
async def test_performance_budgets_do_not_grow_with_days_or_campaigns(
    campaigns_app: Any, plans: httpx.AsyncClient, campaigns: httpx.AsyncClient, tenant: Tenant, campaign_count: int
) -> None:
    sbu_id, ids = await _campaigns_on_one_sbu(plans, campaigns, tenant, campaign_count)
    for campaign_id in ids:
        r = await campaigns.put(
            f"/v1/campaigns/{campaign_id}/metrics",
            json={"rows": metric_rows(60), "backfill": True},
            headers=tenant.auth("specialist"),
        )
        assert r.status_code == 200, r.text
    reader = tenant.auth("analyst")
    params = {"as_of": "2026-01-31"}

    response, statements = await measured(
        campaigns_app, lambda: campaigns.get(f"/v1/campaigns/{ids[0]}/performance", params=params, headers=reader)
    )
    assert response.status_code == 200 and len(response.json()["by_day"]) == 60, response.text
    within("campaign_performance", statements)

    response, statements = await measured(
        campaigns_app, lambda: campaigns.get(f"/v1/sbus/{sbu_id}/performance", params=params, headers=reader)
    )
    body = response.json()
    assert response.status_code == 200 and body["campaign_count"] == campaign_count, response.text
    assert body["totals"]["impressions"] == campaign_count * sum(1000 + i for i in range(60))
    within("sbu_performance", statements)
