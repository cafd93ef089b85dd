"""Money in several currencies: a CNY cost beside a USD price, SBUs whose campaigns spend in USD and in CNY.

With the plan's exchange rates every comparison is converted and names its rate; without them the figures stay
side by side, nothing is summed across currencies, and readiness names the missing rate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
from hypothesis import given
from hypothesis import strategies as st

from services.plans.planning.fx import Rates
from services.plans.planning.price_rule import price_problem
from services.plans.sbus.service import apply_sbu_performance
from shared.context import context_of
from tests.plans.support import money, new_plan, post, ready_strategy, sbu_body
from tests.support import Tenant, assert_problem

CNY_RATE = {"currency": "CNY", "rate": "0.1387", "as_of": "2027-01-02", "source": "PBOC central parity"}
EUR_RATE = {"currency": "EUR", "rate": "1.08", "as_of": "2027-01-02", "source": "ECB reference rate"}
T0 = datetime(2027, 3, 1, 12, tzinfo=UTC)


async def _two_currency_plan(plans: httpx.AsyncClient, tenant: Tenant, fx_rates: list[dict]) -> dict:  # type: ignore[type-arg]
    """A USD plan: a kit costing CNY 420 priced at USD 199; two SBUs with USD budgets, their campaigns spending
    USD on one and CNY on the other."""
    plan = await new_plan(plans, tenant, fx_rates=fx_rates)
    base = f"/v1/plans/{plan['id']}"
    segment = await ready_strategy(plans, tenant, plan["id"])
    product = await post(
        plans,
        f"{base}/products",
        {
            "sku": "GSK-OFFICE",
            "name": "Golf simulator kit",
            "unit_cost": money("420", "CNY"),
            "price": money("199", "USD"),
            "price_ceiling": money("190", "EUR"),
        },
        tenant,
        "supervisor",
    )
    sbus = []
    for name, platform in (("Store US", "alibaba_international"), ("Store CN", "tmall_global")):
        customer = await post(
            plans,
            f"{base}/customers",
            {"name": f"Buyers {name}", "segment_id": segment["id"], "needs": [{"statement": "n", "demand": "strong"}]},
            tenant,
            "supervisor",
        )
        channel = await post(
            plans,
            f"{base}/channels",
            {"name": name, "platform": platform, "mode": "platform", "business_model": "B2C", "countries": ["US"]},
            tenant,
            "supervisor",
        )
        body = sbu_body(customer, channel, product, need="n", budget=money("1000"), revenue_target=money("3000"))
        sbus.append(await post(plans, f"{base}/sbus", body, tenant, "supervisor"))
    return {"plan": plan, "product": product, "sbus": sbus}


async def _spend(plans_app, org_id: str, sbu_id: str, spend: str, revenue: str, currency: str) -> None:  # type: ignore[no-untyped-def]
    async with context_of(plans_app).sessionmaker() as session:
        assert await apply_sbu_performance(session, org_id, sbu_id, Decimal(spend), Decimal(revenue), currency, T0)
        await session.commit()


async def test_a_cny_cost_and_a_usd_price_are_accepted_and_the_margin_names_its_rate(
    plans: httpx.AsyncClient,
    tenant: Tenant,
    plans_app,  # type: ignore[no-untyped-def]
) -> None:
    made = await _two_currency_plan(plans, tenant, [CNY_RATE, EUR_RATE])
    assert made["product"]["unit_cost"] == {"amount": "420.00", "currency": "CNY"}
    assert made["product"]["price"] == {"amount": "199.00", "currency": "USD"}
    us, cn = made["sbus"]
    await _spend(plans_app, tenant.org_id, us["id"], "400", "1600", "USD")
    await _spend(plans_app, tenant.org_id, cn["id"], "2000", "9000", "CNY")

    grid = (await plans.get(f"/v1/plans/{made['plan']['id']}/sbu-grid", headers=tenant.auth("analyst"))).json()
    by_channel = {c["channel"]["name"]: c for c in grid["cells"]}
    margin = by_channel["Store US"]["margin"]
    # 420 CNY × 0.1387 = 58.254 USD → 58.2540; margin 199 − 58.254 = 140.746
    assert margin["unit_cost"] == {"amount": "58.254", "currency": "USD"}
    assert margin["amount"] == "140.746" and margin["share"] == "0.7073"
    assert margin["rates"] == [CNY_RATE]

    cn_cell = by_channel["Store CN"]
    # spend and revenue stay as campaigns gave them; ROAS within CNY; budget use converted, rate named
    assert cn_cell["spend"] == {"amount": "2000.00", "currency": "CNY"} and cn_cell["roas"] == "4.50"
    assert cn_cell["budget_use"] == {
        "budget": {"amount": "1000.00", "currency": "USD"},
        "spend": {"amount": "277.40", "currency": "USD"},
        "share": "0.2774",
        "rates": [CNY_RATE],
    }
    assert by_channel["Store US"]["budget_use"]["rates"] == [] and by_channel["Store US"]["missing_rates"] == []

    totals = grid["totals"]
    assert {t["currency"]: t["spend"] for t in totals["by_currency"]} == {"CNY": "2000.00", "USD": "400.00"}
    # 400 + 277.40 spent, 1600 + 1248.30 earned, all in USD
    assert totals["in_base"] == {
        "currency": "USD",
        "budget": "2000.00",
        "spend": "677.40",
        "revenue": "2848.30",
        "roas": "4.2048",
        "released_revenue": "0.00",
        "released_roas": "0.00",
        "rates": [CNY_RATE],
    }
    assert totals["missing_rates"] == []
    health = (await plans.get(f"/v1/plans/{made['plan']['id']}/health", headers=tenant.auth("analyst"))).json()
    assert "fx_rate_missing" not in [f["code"] for f in health["findings"]]


async def test_without_the_rate_nothing_is_mixed_and_readiness_names_the_rate(
    plans: httpx.AsyncClient,
    tenant: Tenant,
    plans_app,  # type: ignore[no-untyped-def]
) -> None:
    made = await _two_currency_plan(plans, tenant, [EUR_RATE])
    us, cn = made["sbus"]
    await _spend(plans_app, tenant.org_id, us["id"], "400", "1600", "USD")
    await _spend(plans_app, tenant.org_id, cn["id"], "2000", "9000", "CNY")
    plan_id = made["plan"]["id"]

    grid = (await plans.get(f"/v1/plans/{plan_id}/sbu-grid", headers=tenant.auth("analyst"))).json()
    cn_cell = next(c for c in grid["cells"] if c["channel"]["name"] == "Store CN")
    assert cn_cell["budget_use"] is None and cn_cell["margin"] is None and cn_cell["missing_rates"] == ["CNY"]
    assert cn_cell["spend"] == {"amount": "2000.00", "currency": "CNY"}
    # side by side, per currency, and no total in the base currency
    assert grid["totals"]["in_base"] is None and grid["totals"]["missing_rates"] == ["CNY"]
    assert [(t["currency"], t["spend"]) for t in grid["totals"]["by_currency"]] == [
        ("CNY", "2000.00"),
        ("USD", "400.00"),
    ]

    health = (await plans.get(f"/v1/plans/{plan_id}/health", headers=tenant.auth("analyst"))).json()
    (missing,) = [f for f in health["findings"] if f["code"] == "fx_rate_missing"]
    assert missing["severity"] == "warning" and "CNY" in missing["message"] and "USD" in missing["message"]

    # adding the rate later converts everything
    patched = await plans.patch(f"/v1/plans/{plan_id}", json={"fx_rates": [CNY_RATE, EUR_RATE]}, headers=tenant.auth())
    assert patched.status_code == 200, patched.text
    assert patched.json()["fx_rates"] == [CNY_RATE, EUR_RATE]
    grid = (await plans.get(f"/v1/plans/{plan_id}/sbu-grid", headers=tenant.auth("analyst"))).json()
    assert grid["totals"]["in_base"]["spend"] == "677.40"


async def test_a_price_above_a_ceiling_in_another_currency_is_refused_naming_the_rate(
    plans: httpx.AsyncClient, tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant, fx_rates=[EUR_RATE])
    body = {
        "sku": "K",
        "name": "Kit",
        "unit_cost": money("420", "CNY"),
        "price": money("199", "USD"),
        "price_ceiling": money("180", "EUR"),
    }
    # 199 USD = 184.26 EUR (199 / 1.08), above 180 EUR
    refused = await plans.post(f"/v1/plans/{plan['id']}/products", json=body, headers=tenant.auth("supervisor"))
    detail = assert_problem(refused, 422)["detail"]
    assert "184.2593 EUR" in detail and "1 EUR = 1.08" in detail and "ECB reference rate" in detail
    body["price_ceiling"] = money("185", "EUR")
    ok = await plans.post(f"/v1/plans/{plan['id']}/products", json=body, headers=tenant.auth("supervisor"))
    assert ok.status_code == 201, ok.text


async def test_rates_are_checked(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    for fx_rates in (
        [{**CNY_RATE, "rate": "0"}],
        [{**CNY_RATE, "rate": "-1"}],
        [{**CNY_RATE, "source": ""}],
        [{**CNY_RATE, "currency": "usd"}],
        [CNY_RATE, {**CNY_RATE, "rate": "0.14"}],
        [{**CNY_RATE, "currency": "USD"}],
        [{k: v for k, v in CNY_RATE.items() if k != "as_of"}],
    ):
        body = {
            "name": "P",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "base_currency": "USD",
            "trade_direction": "export",
            "fx_rates": fx_rates,
        }
        assert_problem(await plans.post("/v1/plans", json=body, headers=tenant.auth("executive")), 422)


@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2),
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=4),
)
def test_converting_there_and_back_keeps_the_amount(amount: Decimal, rate: Decimal) -> None:
    rates = Rates.of("USD", [{"currency": "CNY", "rate": str(rate), "as_of": "2027-01-01", "source": "s"}])
    there = rates.convert(amount, "CNY")
    assert there is not None and there.currency == "USD" and [r["currency"] for r in there.rates] == ["CNY"]
    assert abs(there.amount - amount * rate) <= Decimal("0.00005")
    assert rates.convert(amount, "EUR") is None and rates.convert(amount, "USD", "EUR") is None
    assert rates.convert(amount, "USD") == there.__class__(amount, "USD", ())


def test_the_price_ceiling_rule_converts_only_with_a_rate() -> None:
    rates = Rates.of("USD", [EUR_RATE])
    assert price_problem((Decimal("199"), "USD"), (Decimal("185"), "EUR"), rates) is None
    problem = price_problem((Decimal("199"), "USD"), (Decimal("180"), "EUR"), rates)
    assert problem and "ECB reference rate" in problem
    assert price_problem((Decimal("199"), "USD"), (Decimal("1"), "GBP"), rates) is None
