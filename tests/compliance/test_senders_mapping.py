"""The platform mapping, each rule on a body the platform wrote (tests/compliance/platforms/SOURCES.md); where
no body in the corpus exercises a rule, one of them is changed in only the fields the rule reads, as the platform
writes them, and the test says which."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.compliance.intake.mapping import Mapped, shopify_order, woocommerce_order
from services.compliance.orders.lifecycle import validate
from tests.compliance.platforms import deliver_shopify, shopify, woo
from tests.compliance.support import EBP

SOURCE = {"ebp_code": EBP, "ebp_name": "XBM Shop", "ebc_code": None, "trade_direction": None}


def money(amount: str, currency: str, shop: str | None = None) -> dict[str, Any]:
    return {"shop_money": {"amount": shop or amount, "currency_code": currency},
            "presentment_money": {"amount": amount, "currency_code": currency}}  # fmt: skip


def adds_up(m: Mapped) -> None:
    d = {k: Decimal(m.document[k]) for k in ("goods_value", "discount", "freight", "tax_total", "actual_paid")}
    assert d["goods_value"] - d["discount"] + d["freight"] + d["tax_total"] == d["actual_paid"], d


def test_presentment_money_is_what_the_buyer_paid():
    """An AUD shop, a USD buyer: the order is in USD as paid, not in the shop's AUD (60.33)."""
    m = shopify_order(shopify("captured_aud_shop_usd_buyer"), SOURCE)
    doc = m.document
    assert (doc["currency"], doc["actual_paid"]) == ("USD", "45.85")
    assert (doc["goods_value"], doc["freight"], doc["tax_total"]) == ("34.67", "7.71", "3.47")
    assert doc["items"][0]["price"] == "34.67"
    adds_up(m)


def test_current_amounts_and_quantities_after_an_edit():
    """captured_hkd_line_discounts with its second line removed by an order edit: Shopify then writes
    ``current_quantity: 0`` on it and the ``current_*`` totals without it."""
    order = shopify("captured_hkd_line_discounts")
    order["line_items"][1]["current_quantity"] = 0
    order["current_total_price_set"] = money("101.90", "HKD")
    order["current_total_discounts_set"] = money("19.10", "HKD")
    order["current_subtotal_price_set"] = money("79.90", "HKD")
    m = shopify_order(order, SOURCE)
    assert [i["name"] for i in m.document["items"]] == ["aaa0103測試商品11aa"]
    assert (m.document["goods_value"], m.document["discount"], m.document["actual_paid"]) == (
        "99.00",
        "19.10",
        "101.90",
    )
    adds_up(m)


def test_discounts_are_allocated_to_their_lines():
    m = shopify_order(shopify("captured_hkd_line_discounts"), SOURCE)
    assert [(i["total"], i["discount"]) for i in m.document["items"]] == [("99.00", "19.10"), ("100.00", "15.00")]
    assert (m.document["discount"], m.document["freight"], m.document["actual_paid"]) == ("34.10", "22.00", "186.90")
    adds_up(m)


def test_taxes_included_are_not_counted_again():
    """captured_aud_shop_usd_buyer as an Australian store usually sells, GST included in its prices: Shopify
    writes ``taxes_included: true`` and a total without tax on top."""
    order = shopify("captured_aud_shop_usd_buyer")
    order["taxes_included"] = True
    order["total_price_set"] = money("42.38", "USD", "55.77")
    order["total_tax_set"] = money("3.15", "USD", "4.15")
    m = shopify_order(order, SOURCE)
    assert (m.document["tax_total"], m.document["actual_paid"]) == ("0.00", "42.38")
    adds_up(m)


def test_shipping_is_what_was_charged():
    """The test notification with a free-shipping code: the shipping line keeps its price and Shopify writes
    the charged amount in ``discounted_price_set``."""
    order = shopify("test_notification_orders_create")
    order["shipping_lines"][0]["discounted_price_set"] = money("0.00", "USD")
    order["shipping_lines"][0]["discounted_price"] = "0.00"
    order["total_price_set"] = money("393.00", "USD")
    m = shopify_order(order, SOURCE)
    assert (m.document["freight"], m.document["actual_paid"]) == ("0.00", "393.00")
    adds_up(m)


def test_lines_that_need_no_shipping_are_not_goods():
    """captured_aud_shop_usd_buyer with an extended warranty bought with the pen (``requires_shipping: false``)."""
    order = shopify("captured_aud_shop_usd_buyer")
    warranty = {"id": 6456910643350, "title": "Extended warranty", "name": "Extended warranty", "quantity": 1,
                "requires_shipping": False, "taxable": False, "gift_card": False, "sku": "WARRANTY-2Y",
                "price": "6.58", "price_set": money("5.00", "USD", "6.58"), "discount_allocations": [],
                "tax_lines": []}  # fmt: skip
    order["line_items"].append(warranty)
    order["total_price_set"] = money("50.85", "USD", "66.91")
    m = shopify_order(order, SOURCE)
    assert [i["item_no"] for i in m.document["items"]] == ["37319198802069"]
    assert m.document["not_goods"] == [{"name": "Extended warranty", "total": "5.00"}]
    assert m.document["actual_paid"] == "45.85"
    adds_up(m)


def test_html_entities_are_decoded():
    m = woocommerce_order(woo("rest_api_docs_order_727"), SOURCE)
    assert m.document["items"][1]["name"] == "Ship Your Idea – Color: Black, Size: M Test"
    assert m.version == "2017-03-22T19:28:08.000000Z"
    adds_up(m)


def test_phone_from_shipping_then_billing_then_customer():
    m = woocommerce_order(woo("captured_order_897"), SOURCE)  # empty shipping phone
    assert m.document["consignee"]["telephone"] == "08171263283"
    order = shopify("test_notification_orders_create")
    assert shopify_order(order, SOURCE).document["consignee"]["telephone"] == "555-555-SHIP"
    order["shipping_address"]["phone"] = None
    assert shopify_order(order, SOURCE).document["consignee"]["telephone"] == "555-555-BILL"
    order["billing_address"]["phone"], order["customer"]["phone"] = None, "+1 613 555 0199"
    assert shopify_order(order, SOURCE).document["consignee"]["telephone"] == "+1 613 555 0199"
    # none anywhere (a real delivery): the order is held, naming the phone
    _, held = validate(shopify_order(shopify("captured_aud_shop_usd_buyer"), SOURCE).document, [])
    assert {"consignee.telephone", "buyer.telephone", "buyer.id_number"} <= {h["field"] for h in held}


def test_country_and_postcode_are_kept_in_the_address():
    address = shopify_order(shopify("test_notification_orders_create"), SOURCE).document["consignee"]["address"]
    assert address == "Kentucky Shippington 123 Shipping Street 40003 US"
    address = woocommerce_order(woo("rest_api_docs_order_727"), SOURCE).document["consignee"]["address"]
    assert address == "CA San Francisco 969 Market 94103 US"


def test_test_orders_and_cancellations_are_marked():
    m = shopify_order(shopify("test_notification_orders_create"), SOURCE)
    assert m.test and m.cancelled  # Shopify's test notification is a test order, already cancelled
    m = shopify_order(shopify("captured_hkd_line_discounts"), SOURCE, test_header=True)
    assert m.test and not m.cancelled
    order = woo("captured_order_897")
    for status, ended in (("processing", False), ("cancelled", True), ("refunded", True), ("failed", True)):
        order["status"] = status
        assert woocommerce_order(order, SOURCE).cancelled is ended


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=30),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e30", "-1e400", "NaN", "Infinity", "12,50", "0x10", "9" * 40]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(price=JUNK, quantity=JUNK, total=JUNK, shipping=JUNK)
def test_any_value_in_an_amount_field_is_mapped_or_named_never_raised(price, quantity, total, shipping):
    order = shopify("captured_hkd_line_discounts")
    order["line_items"][0]["price_set"]["presentment_money"]["amount"] = price
    order["line_items"][0]["quantity"] = quantity
    order["total_price_set"]["presentment_money"]["amount"] = total
    order["current_total_price_set"]["presentment_money"]["amount"] = total
    order["shipping_lines"][0]["discounted_price_set"]["presentment_money"]["amount"] = shipping
    order["shipping_lines"][0]["current_discounted_price_set"]["presentment_money"]["amount"] = shipping
    m = shopify_order(order, SOURCE)
    json.dumps(m.document)  # what is stored is plain JSON
    doc, held = validate(m.document, m.problems)
    fields = {h["field"] for h in held}
    for value, name in ((price, "line_items[0].price_set"), (total, "current_total_price_set")):
        try:
            ok = (
                not isinstance(value, bool)
                and Decimal(str(value)).is_finite()
                and abs(Decimal(str(value))) <= Decimal("1e14")
            )
        except ArithmeticError:
            ok = False
        if value is not None and not ok:
            assert name in fields, (value, fields)
    if doc is None:
        assert held


async def test_an_unreadable_amount_holds_the_order_and_names_the_field(compliance, tenant):
    r = await compliance.post("/v1/compliance/sources", headers=tenant.auth(),
                              json={"name": "S", "kind": "shopify", "role": "platform", "ebp_code": EBP})  # fmt: skip
    source = r.json()
    order = shopify("captured_hkd_line_discounts")
    order["line_items"][0]["price_set"]["presentment_money"]["amount"] = "ninety-nine"
    order["line_items"][1]["quantity"] = 10**30
    r = await deliver_shopify(compliance, source, order)
    assert r.status_code == 200 and r.json()["state"] == "incomplete", r.text
    view = (await compliance.get(f"/v1/compliance/orders/{EBP}/1071", headers=tenant.auth("analyst"))).json()
    fields = {m["field"] for m in view["missing"]}
    assert {"line_items[0].price_set", "line_items[1].quantity"} <= fields, fields


def test_duties_paid_at_checkout_are_tax_on_top():
    """captured_aud_shop_usd_buyer with import duties collected at checkout (Shopify writes them in
    ``current_total_duties_set`` and in the total)."""
    order = shopify("captured_aud_shop_usd_buyer")
    order["current_total_duties_set"] = money("2.00", "USD", "2.63")
    order["total_price_set"] = money("47.85", "USD", "62.96")
    m = shopify_order(order, SOURCE)
    assert (m.document["tax_total"], m.document["actual_paid"]) == ("5.47", "47.85")
    adds_up(m)


def test_addresses_keep_their_parts_for_the_comparison():
    """captured_hkd_line_discounts with the shipping address a Chinese buyer gives (Shopify writes it in parts);
    the whole address is what customs is sent, the street and city what the comparison reads."""
    order = shopify("captured_hkd_line_discounts")
    order["shipping_address"] = {
        "first_name": "红雨", "last_name": "焦", "name": "焦红雨", "address1": "海淀区中关村大街27号", "address2": "",
        "city": "北京市", "province": "Beijing", "zip": "100080", "country": "China", "country_code": "CN",
        "phone": "+86 135-2265-2231",
    }  # fmt: skip
    consignee = shopify_order(order, SOURCE).document["consignee"]
    assert consignee == {
        "name": "焦红雨", "telephone": "+86 135-2265-2231", "address": "Beijing 北京市 海淀区中关村大街27号 100080 CN",
        "country": "CN", "street": "海淀区中关村大街27号", "city": "北京市", "province": "Beijing",
        "postcode": "100080",
    }  # fmt: skip


def test_skus_are_kept_as_the_platform_sent_them():
    """ios_order_560 with one of its hoodies' SKUs at 30 characters, and a Shopify SKU with spaces: kept as sent
    (the item record says which customs item number each declares under)."""
    order = woo("ios_order_560_partially_refunded")
    order["line_items"][5]["sku"] = "HOODIE-SHIP-YOUR-IDEA-BLACK-XL"
    m = woocommerce_order(order, SOURCE)
    assert m.document["items"][5]["item_no"] == "HOODIE-SHIP-YOUR-IDEA-BLACK-XL"
    doc, held = validate({**m.document, "trade_direction": "export"}, m.problems)
    assert doc is not None and not held, held
    shop = shopify("captured_aud_shop_usd_buyer")
    shop["line_items"][0]["sku"] = "Pen / black ink 0.5 mm"
    assert shopify_order(shop, SOURCE).document["items"][0]["item_no"] == "Pen / black ink 0.5 mm"
