"""``make demo``'s season, checked without running it: the orders it sends are the plan's products at the plan's
prices, its buyers are five customers as compliance's register tells customers apart.
(tests/system/test_demo.py runs the demo itself against the three services and reads the same off the API.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml

from services.compliance.customers.identity import normalise_email, normalise_phone
from xbm.cli.demo import PLAN_FILE, SEASON_SKU, season_orders, unit_price


def _products() -> dict[str, dict[str, Any]]:
    """Company A's products as plans answers them (``GET /v1/plans/{id}/products``)."""
    document = yaml.safe_load(PLAN_FILE.read_text())
    return {f"p{i}": {"id": f"p{i}", **p} for i, p in enumerate(document["products"])}


def test_every_order_sells_a_product_of_the_plan_at_its_price() -> None:
    products = _products()
    by_sku = {p["sku"]: p for p in products.values()}
    sales = season_orders(products)
    assert len(sales) == 5
    for sale in sales:
        product = by_sku[sale.sku]
        assert (sale.product, sale.price) == (product["name"], product["price"]["amount"])
        assert Decimal(sale.goods) == Decimal(product["price"]["amount"]) * Decimal(sale.qty)
        assert Decimal(sale.paid) == Decimal(sale.goods) + Decimal(sale.freight)
    assert {s.sku for s in sales} == {SEASON_SKU} and by_sku[SEASON_SKU]["price"]["amount"] == "399.00"


def test_the_five_buyers_are_five_customers_to_the_register() -> None:
    """The register knows an export buyer by email (else phone) with the country: each has their own."""
    sales = season_orders(_products())
    emails = {(s.country, normalise_email(s.email)) for s in sales}
    phones = {normalise_phone(s.phone, s.country) for s in sales}
    assert len(emails) == 5 and None not in {e for _, e in emails}
    assert len(phones) == 5 and None not in phones


def test_a_conversion_in_another_currency_is_the_price_at_the_plans_rate() -> None:
    kit = next(p for p in _products().values() if p["sku"] == "GSK-OFFICE-PRO")
    assert unit_price(kit, "USD", {"CNY": Decimal("0.1387")}) == Decimal("489.00")
    assert unit_price(kit, "CNY", {"CNY": Decimal("0.1387")}) == Decimal("3525.59")  # 489 / 0.1387
