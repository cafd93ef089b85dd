"""The long tail of real senders (tests/compliance/platforms/SOURCES.md): WooCommerce refunds, full refunds, gift
cards, legacy v3 bodies and bundles; SKUs longer than customs' item number; refunds that arrive before their
order; a second platform order under a number already taken; orders not paid in full. Each on a body the
platform wrote, delivered as the platform delivers it."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import select

from services.compliance.orders.models import CustomsReturn, Order
from shared.context import context_of
from tests.compliance.platforms import (
    HERE,
    SHOPIFY,
    WOOCOMMERCE,
    deliver_shopify,
    deliver_woo,
    load,
    presentment_paid,
    shopify,
    with_buyer,
    woo,
)
from tests.compliance.support import (
    EBP,
    ITEM,
    PAY,
    Seller,
    buyer_id,
    inventory_receipt,
    payment,
    recent,
    schema,
    valid_unsigned,
    waybill,
)
from tests.support import Tenant, make_tenant

CORPUS = [*SHOPIFY, *WOOCOMMERCE]
NS = {"ceb": "http://www.chinaport.gov.cn/ceb"}


async def platform_source(client: httpx.AsyncClient, tenant: Tenant, kind: str, **extra: Any) -> dict[str, Any]:
    body = {"name": f"{kind} store", "kind": kind, "role": "platform", "ebp_code": EBP, **extra}
    r = await client.post("/v1/compliance/sources", json=body, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return r.json()


async def order_view(client: httpx.AsyncClient, tenant: Tenant, number: str) -> dict[str, Any]:
    r = await client.get(f"/v1/compliance/orders/{EBP}/{number}", headers=tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    return r.json()


def adds_up(doc: dict[str, Any]) -> None:
    d = {k: Decimal(doc[k]) for k in ("goods_value", "discount", "freight", "tax_total", "actual_paid")}
    assert d["goods_value"] - d["discount"] + d["freight"] + d["tax_total"] == d["actual_paid"], d
    assert sum((Decimal(i["discount"]) for i in doc["items"]), Decimal(0)) == d["discount"]


def number_of(path: Path, order: dict[str, Any]) -> str:
    if path.parent.name == "shopify":
        return str(order["name"]).lstrip("#")
    order = order.get("order") or order
    return str(order.get("number") or order["order_number"])


def earlier(path: Path, order: dict[str, Any]) -> dict[str, Any]:
    """The body as the platform wrote it before its last change: for a WooCommerce order, before its refunds
    (its ``order.created`` delivery), one minute earlier."""
    first = copy.deepcopy(order)
    if path.parent.name == "shopify":
        first["updated_at"] = first.get("created_at") or "2000-01-01T00:00:00Z"
        return first
    body = first.get("order") or first
    if body.get("refunds"):
        body["refunds"] = []
        body["status"] = "processing"
    for name in ("date_modified_gmt", "updated_at"):
        if body.get(name):
            body[name] = body.get("date_created_gmt") or body.get("created_at") or "2000-01-01T00:00:00"
    return first


async def deliver(client: httpx.AsyncClient, source: dict[str, Any], path: Path, order: dict[str, Any],
                  first: bool) -> httpx.Response:  # fmt: skip
    if path.parent.name == "shopify":
        return await deliver_shopify(client, source, order, topic="orders/create" if first else "orders/updated")
    return await deliver_woo(client, source, order, topic="order.created" if first else "order.updated")


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
async def test_every_body_in_any_order_of_arrival_ends_the_same(path, compliance, plans, tenant):
    """Each body with the version the platform sent before it, delivered in order, each twice, into one
    organisation, and in reverse order into another: every delivery 2xx, the same order at the end, its amounts
    adding up to what the buyer paid after refunds, in the presentment currency."""
    kind = "shopify" if path.parent.name == "shopify" else "woocommerce"
    order = load(path)
    number = number_of(path, order)
    ends = []
    for who, forward in ((tenant, True), (await make_tenant(plans), False)):
        source = await platform_source(compliance, who, kind)
        sequence = [(earlier(path, order), True), (order, False)]
        for body, first in sequence if forward else sequence[::-1]:
            for _ in range(2):
                r = await deliver(compliance, source, path, body, first)
                assert r.status_code == 200, r.text
        view = await order_view(compliance, who, number)
        doc = view["documents"]["order"]
        paid, currency = presentment_paid(order)
        not_goods = sum((Decimal(o["total"]) for o in doc.get("not_goods", [])), Decimal(0))
        assert (doc["currency"], Decimal(doc["actual_paid"]) + not_goods) == (currency, paid)
        adds_up(doc)
        ends.append((doc, view["state"], view["platform_refunds"], view["missing"]))
    assert ends[0] == ends[1]


async def test_a_refund_that_arrives_before_its_order_is_kept_and_applied(compliance, plans, tenant):
    """Shopify's own refund of order 450789469 (refunds/python_api_refund.json), delivered before the order
    (Shopify sends ``refunds/create`` independently) and twice: kept, listed as waiting, said so to Shopify, and
    applied once when the order arrives — as when it arrives after."""
    refund = load(HERE / "refunds" / "python_api_refund.json")
    order = with_buyer(load(HERE / "inconsistent" / "python_api_order.json"), buyer_id(760), "Bob Norman")
    ends = []
    for who, refund_first in ((tenant, True), (await make_tenant(plans), False)):
        shop = await platform_source(compliance, who, "shopify", trade_direction="export")
        if refund_first:
            for _ in range(2):  # a redelivery under a new webhook id
                r = await deliver_shopify(compliance, shop, refund, topic="refunds/create")
                assert r.status_code == 200, r.text
                assert r.json()["outcome"].startswith("waiting: refund of platform order 450789469 kept"), r.text
            listed = (await compliance.get("/v1/compliance/exceptions", headers=who.auth("analyst"))).json()
            assert [u["outcome"] for u in listed["unreadable"]] == ["waiting", "waiting"]
        r = await deliver_shopify(compliance, shop, order)
        assert r.status_code == 200 and r.json()["order_no"] == "1001", r.text
        if not refund_first:
            r = await deliver_shopify(compliance, shop, refund, topic="refunds/create")
            assert r.status_code == 200 and r.json()["outcome"] == "refund_recorded", r.text
        view = await order_view(compliance, who, "1001")
        refunds = view["platform_refunds"]
        assert [r["id"] for r in refunds] == ["509562969"]
        assert refunds[0]["lines"] == [
            {"item_no": "IPOD2008BLACK", "qty": "1"},
            {"item_no": "IPOD2008GREEN", "qty": "1"},
        ]
        listed = (await compliance.get("/v1/compliance/exceptions", headers=who.auth("analyst"))).json()
        assert not [u for u in listed["unreadable"] if u["outcome"] == "waiting"]
        ends.append((refunds, view["state"], view["documents"]["order"]))
    assert ends[0] == ends[1]


async def test_a_second_platform_order_under_the_same_number_is_an_exception_never_a_merge(compliance, tenant):
    store = await platform_source(compliance, tenant, "woocommerce", trade_direction="export")
    first = woo("ios_order_324_partially_refunded")
    assert (await deliver_woo(compliance, store, first)).status_code == 200
    other = woo("ios_order_560_partially_refunded")
    other["number"], other["date_modified_gmt"] = "324", "2030-01-01T00:00:00"  # another store order, same number
    r = await deliver_woo(compliance, store, other, topic="order.updated")
    assert r.status_code == 200 and r.json()["outcome"].startswith("conflict: order number 324"), r.text
    view = await order_view(compliance, tenant, "324")
    assert view["documents"]["order"]["actual_paid"] == "280.15"  # untouched
    listed = (await compliance.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))).json()
    conflict = [u for u in listed["unreadable"] if u["outcome"] == "conflict"]
    assert len(conflict) == 1 and "platform order 560" in conflict[0]["detail"]
    # a later version of the first order is still applied
    newer = {**first, "date_modified_gmt": "2030-01-02T00:00:00", "customer_note": "leave at the door"}
    r = await deliver_woo(compliance, store, newer, topic="order.updated")
    assert r.status_code == 200 and r.json()["outcome"] == "updated", r.text


# --- declared (or held, with the reason) ------------------------------------------------------------------


async def declare_export(client: httpx.AsyncClient, tenant: Tenant, number: str,
                         customs_nos: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Item records for every line, the payment the payment institution reports and the waybill: the order as
    the comparison leaves it."""
    integration = tenant.auth("integration")
    doc = (await order_view(client, tenant, number))["documents"]["order"]
    for item in doc["items"]:
        record = {**ITEM, **({"customs_item_no": customs_nos[item["item_no"]]}
                             if customs_nos and item["item_no"] in customs_nos else {})}  # fmt: skip
        r = await client.put(f"/v1/compliance/items/{item['item_no']}", json=record, headers=integration)
        assert r.status_code in (200, 201), r.text
    consignee = {k: v for k, v in doc["consignee"].items() if k in ("name", "telephone", "address", "country")}
    collected = Decimal(doc["actual_paid"]) - Decimal(doc.get("gift_card") or "0")
    pay = {"pay_code": PAY, "pay_transaction_id": f"T{number}", "order_no": number, "ebp_code": EBP,
           "payer": {"name": consignee["name"]}, "amount_paid": str(collected), "currency": doc["currency"],
           "paid_at": "2026-09-01T08:00:00+00:00"}  # fmt: skip
    ship = {"logistics_code": "LOG0000001", "logistics_no": f"L{number}", "order_no": number,
            "freight": doc["freight"], "weight_kg": "0.5", "consignee": consignee, "pod": "002"}  # fmt: skip
    assert (await client.post("/v1/compliance/payments", json=pay, headers=integration)).status_code == 201
    assert (await client.post("/v1/compliance/waybills", json=ship, headers=integration)).status_code == 201
    return await order_view(client, tenant, number)


async def test_a_woocommerce_partial_refund_is_stored_as_the_buyer_paid_and_declared(compliance, tenant):
    """ios_order_324: total 304.45 (never changed by WooCommerce), refunds of 16.20 and 8.10 naming no goods:
    the buyer paid 280.15; the refunds lower the goods' price, shared over the lines."""
    await Seller(compliance, tenant).setup()
    store = await platform_source(compliance, tenant, "woocommerce", trade_direction="export")
    r = await deliver_woo(compliance, store, woo("ios_order_324_partially_refunded"))
    assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    view = await order_view(compliance, tenant, "324")
    doc = view["documents"]["order"]
    assert (doc["goods_value"], doc["discount"], doc["freight"], doc["actual_paid"]) == (
        "250.20", "24.30", "54.25", "280.15")  # fmt: skip
    assert doc["payment_status"] == "partially_refunded"
    assert [(r["id"], r["total"]) for r in view["platform_refunds"]] == [("549", "16.20"), ("547", "8.10")]
    adds_up(doc)
    # SKUs over customs' 20 characters declare under their records' customs item numbers
    longer = {"POSTER-PREMIUM-QUALITY": "POSTER-PREMIUM-Q", "POSTER-SHIP-YOUR-IDEA": "POSTER-SHIP-IDEA"}
    final = await declare_export(compliance, tenant, "324", longer)
    assert final["state"] == "declared", [c for c in final["checks"] if not c["passed"]]


def with_refund_lines(order: dict[str, Any]) -> dict[str, Any]:
    """Order 560 with each of its refunds as WooCommerce writes the refund itself (its line items, negative),
    from the same store's ``/orders/560/refunds`` (refunds/woo_ios_order_560_refunds.json)."""
    refunds = {r["id"]: r for r in load(HERE / "refunds" / "woo_ios_order_560_refunds.json")}
    order = copy.deepcopy(order)
    order["refunds"] = [{**entry, "line_items": refunds[entry["id"]]["line_items"]} for entry in order["refunds"]]
    return order


async def test_refunds_naming_their_lines_leave_the_quantities_kept_and_long_skus_declare_under_their_record(
    compliance, plans, tenant
):
    """ios_order_560 (1198.50; refunds of 225.00): with the refunds' own lines, the hoodie refunded down to zero
    is never declared and the other quantities are what was kept. Its SKUs run to 29 characters
    (HOODIE-SHIP-YOUR-IDEA-BLACK-L): kept as sent; customs' inventory list takes 20, so records without a
    customs item number hold the order naming the SKU, and with one the messages declare under it."""
    customs = {"HOODIE-SHIP-YOUR-IDEA-BLACK-L": "HSYI-BLK-L", "HOODIE-SHIP-YOUR-IDEA-BLUE-XL": "HSYI-BLU-XL",
               "T-SHIRT-NINJA-SILHOUETTE": "TS-NINJA-SIL", "T-SHIRT-PREMIUM-QUALITY": "TS-PREMIUM"}  # fmt: skip
    views, second = [], await make_tenant(plans)
    for who, numbers in ((tenant, None), (second, customs)):
        await Seller(compliance, who).setup()
        store = await platform_source(compliance, who, "woocommerce", trade_direction="export")
        r = await deliver_woo(compliance, store, with_refund_lines(woo("ios_order_560_partially_refunded")))
        assert r.status_code == 200, r.text
        doc = (await order_view(compliance, who, "560"))["documents"]["order"]
        kept = {i["item_no"]: i["qty"] for i in doc["items"]}
        assert kept == {"T-SHIRT-HAPPY-NINJA": "3", "HOODIE-HAPPY-NINJA": "9", "T-SHIRT-NINJA-SILHOUETTE": "1",
                        "HOODIE-PATIENT-NINJA": "3", "T-SHIRT-PREMIUM-QUALITY": "2",
                        "HOODIE-SHIP-YOUR-IDEA-BLACK-L": "3", "HOODIE-SHIP-YOUR-IDEA-BLUE-XL": "4"}  # fmt: skip
        assert (doc["goods_value"], doc["discount"], doc["freight"], doc["actual_paid"]) == (
            "683.10", "0.00", "290.40", "973.50")  # fmt: skip
        adds_up(doc)
        views.append(await declare_export(compliance, who, "560", numbers))

    held, declared = views
    failing = {c["rule"]: c["detail"] for c in held["checks"] if not c["passed"]}
    assert held["state"] == "mismatch" and list(failing) == ["item_records"], failing
    assert "HOODIE-SHIP-YOUR-IDEA-BLACK-L" in failing["item_records"] and "customs_item_no" in failing["item_records"]
    assert declared["state"] == "declared", [c for c in declared["checks"] if not c["passed"]]
    for which in ("xml", "order-xml"):  # the inventory list (itemNo C..20) and the order (C..30)
        r = await compliance.get(f"/v1/compliance/declarations/{declared['declaration_id']}/{which}",
                                 headers=second.auth())  # fmt: skip
        assert r.status_code == 200, r.text
        xml = etree.fromstring(r.content)
        ok, log = valid_unsigned(xml, "export")
        assert ok, log
        numbers = [n.text for n in xml.iterfind(".//ceb:itemNo", NS)]
        assert "HSYI-BLK-L" in numbers and "HOODIE-SHIP-YOUR-IDEA-BLACK-L" not in numbers, numbers
        assert "HOODIE-HAPPY-NINJA" in numbers  # a SKU that fits is its own customs item number


async def test_a_full_woocommerce_refund_ends_the_order_never_declared(compliance, tenant):
    """ios_order_609: ``refunded``, one refund of its whole 223.71. Stored as nothing paid, ended, and never
    compared when its payment and waybill arrive."""
    await Seller(compliance, tenant).setup()
    store = await platform_source(compliance, tenant, "woocommerce", trade_direction="export")
    r = await deliver_woo(compliance, store, woo("ios_order_609_fully_refunded"))
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
    view = await order_view(compliance, tenant, "609")
    doc = view["documents"]["order"]
    assert doc["actual_paid"] == "0.00" and view["platform_refunds"][0]["total"] == "223.71"
    adds_up(doc)
    integration = tenant.auth("integration")
    pay = {"pay_code": PAY, "pay_transaction_id": "T609", "order_no": "609", "ebp_code": EBP,
           "payer": {"name": "Nydia Schmitt"}, "amount_paid": "223.71", "currency": "USD",
           "paid_at": "2026-09-01T08:00:00+00:00"}  # fmt: skip
    assert (await compliance.post("/v1/compliance/payments", json=pay, headers=integration)).status_code == 201
    final = await order_view(compliance, tenant, "609")
    assert final["state"] == "cancelled" and final["declaration_id"] is None


async def test_gift_cards_are_a_means_of_payment_the_order_adds_up_and_the_payment_is_the_rest(compliance, tenant):
    """ios_order_459: 18.00 of goods and 10.00 of freight, 24.00 paid with two WooCommerce Gift Cards and a
    ``total`` of 4.00 left to pay. Stored as 28.00 paid, 24.00 of it by gift card; the payment institution's
    4.00 is what it owes. (Its shipping country, Barbados, has no code in the customs table XBM carries today: the
    order names it; given a country with a code, it is declared.)"""
    await Seller(compliance, tenant).setup()
    store = await platform_source(compliance, tenant, "woocommerce", trade_direction="export")
    order = woo("ios_order_459_gift_cards")
    r = await deliver_woo(compliance, store, order)
    assert r.status_code == 200, r.text
    view = await order_view(compliance, tenant, "459")
    doc = view["documents"]["order"]
    assert (doc["goods_value"], doc["freight"], doc["actual_paid"], doc["gift_card"]) == (
        "18.00", "10.00", "28.00", "24.00")  # fmt: skip
    adds_up(doc)
    if view["state"] == "incomplete":
        assert [m["field"] for m in view["missing"]] == ["consignee.country"], view["missing"]
        r = await compliance.patch(f"/v1/compliance/orders/{EBP}/459", json={"consignee": {"country": "US"}},
                                   headers=tenant.auth("integration"))  # fmt: skip
        assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    final = await declare_export(compliance, tenant, "459")
    assert final["state"] == "declared", [c for c in final["checks"] if not c["passed"]]
    paid = next(c for c in final["checks"] if c["rule"] == "amount_paid")
    assert "less gift cards 24.00 = 4.00" in paid["detail"]


async def test_a_legacy_v3_body_is_read(compliance, tenant):
    """WooCommerce's legacy REST API (``{"order": {...}}``, order 645 of its documentation), signed as sent."""
    await Seller(compliance, tenant).setup()
    store = await platform_source(compliance, tenant, "woocommerce", trade_direction="export")
    r = await deliver_woo(compliance, store, load(HERE / "woocommerce" / "legacy_v3_docs_order_645.json"))
    assert r.status_code == 200 and r.json()["order_no"] == "645", r.text
    doc = (await order_view(compliance, tenant, "645"))["documents"]["order"]
    assert (doc["goods_value"], doc["freight"], doc["tax_total"], doc["actual_paid"]) == (
        "63.97", "10.00", "5.90", "79.87")  # fmt: skip
    assert doc["consignee"]["address"] == "CA San Francisco 969 Market 94103 US"
    assert [(i["item_no"], i["qty"]) for i in doc["items"]] == [("546", "2"), ("613", "1")]
    adds_up(doc)
    final = await declare_export(compliance, tenant, "645")
    assert final["state"] == "declared", [c for c in final["checks"] if not c["passed"]]


async def test_bundle_components_carried_by_their_parent_line_are_not_declared_apart(compliance, tenant):
    """ios_order_421: a composite product of 2,300.00 and its three components at 0.00 (``composite_parent``).
    One line is declared. The body carries no shipping address: held naming what is missing, then completed."""
    await Seller(compliance, tenant).setup()
    store = await platform_source(compliance, tenant, "woocommerce", trade_direction="export")
    r = await deliver_woo(compliance, store, woo("ios_order_421_composite_bundle"))
    assert r.status_code == 200 and r.json()["state"] == "incomplete", r.text
    view = await order_view(compliance, tenant, "421")
    assert [(i["item_no"], i["total"]) for i in view["documents"]["order"]["items"]] == [("419", "2300.00")]
    missing = {m["field"] for m in view["missing"]}
    assert {"consignee.address", "destination_country"} <= missing and "buyer.telephone" not in missing
    person = {"name": "Hiro Tanaka", "telephone": "+1 415 555 0101"}
    patch = {
        "buyer": {"name": person["name"]},
        "consignee": {**person, "address": "1 Market St, San Francisco, CA 94105", "country": "US"},
    }
    r = await compliance.patch(f"/v1/compliance/orders/{EBP}/421", json=patch, headers=tenant.auth("integration"))
    assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    final = await declare_export(compliance, tenant, "421")
    assert final["state"] == "declared", [c for c in final["checks"] if not c["passed"]]
    r = await compliance.get(f"/v1/compliance/declarations/{final['declaration_id']}/xml", headers=tenant.auth())
    lines = etree.fromstring(r.content).findall(".//ceb:InventoryList", NS)
    assert len(lines) == 1 and lines[0].findtext("ceb:totalPrice", namespaces=NS) == "2300"


async def test_a_shopify_order_not_paid_in_full_is_held_until_paid(compliance, tenant):
    """captured_hkd_line_discounts as Shopify writes it when a deposit was taken (``financial_status:
    partially_paid``, ``total_outstanding``), then its ``orders/paid`` version."""
    shop = await platform_source(compliance, tenant, "shopify", trade_direction="export")
    order = shopify("captured_hkd_line_discounts")
    order["shipping_address"] = {"first_name": "Tai Man", "last_name": "Chan", "name": "Tai Man Chan",
                                 "address1": "1 Queen's Road Central", "address2": None, "city": "Central",
                                 "province": None, "zip": None, "country": "Hong Kong", "country_code": "HK",
                                 "phone": "+852 5555 0101", "company": None, "latitude": None, "longitude": None,
                                 "province_code": None, "country_name": "Hong Kong"}  # fmt: skip
    deposit = {**order, "financial_status": "partially_paid", "total_outstanding": "136.90"}
    r = await deliver_shopify(compliance, shop, deposit)
    assert r.status_code == 200 and r.json()["state"] == "incomplete", r.text
    view = await order_view(compliance, tenant, "1071")
    assert view["documents"]["order"]["payment_status"] == "partially_paid"
    assert view["documents"]["order"]["outstanding"] == "136.90"
    assert [m["field"] for m in view["missing"]] == ["financial_status"]
    assert "136.90 outstanding" in view["missing"][0]["msg"]
    paid = {**order, "financial_status": "paid", "total_outstanding": "0.00", "updated_at": "2026-01-01T00:00:00Z"}
    r = await deliver_shopify(compliance, shop, paid, topic="orders/paid")
    assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    assert (await order_view(compliance, tenant, "1071"))["missing"] == []


async def test_a_woocommerce_refund_after_release_is_the_declared_return(compliance, compliance_app, tenant,
                                                                         sm2_signer):  # fmt: skip
    """An import order as a WooCommerce store sends it (ios_order_324's refunds, in CNY, with the buyer's identity
    in meta): declared, released by customs, then a refund naming its goods arrives in a later version: the
    refunded lines are declared back (CEB625), valid against the official XSD."""
    seller = await Seller(compliance, tenant).setup()
    store = await platform_source(compliance, tenant, "woocommerce")
    base = woo("ios_order_560_partially_refunded")
    b = buyer_id(761)
    base.update(
        currency="CNY",
        refunds=[],
        number="W560",
        date_modified_gmt="2026-09-01T00:00:00",
        shipping_total="20.00",
        total="928.10",
    )
    base["line_items"] = base["line_items"][:7]  # without the Blue XL hoodies
    base["shipping"] = {**base["shipping"], "first_name": "Hongyu", "last_name": "Jiao", "state": "Beijing",
                        "city": "Haidian", "address_1": "1 Zhongguancun Street", "address_2": "", "postcode": "",
                        "country": "CN", "phone": "13522652231"}  # fmt: skip
    base["meta_data"] = [*base["meta_data"], {"id": 1, "key": "buyer_id_number", "value": b},
                         {"id": 2, "key": "buyer_name", "value": "Jiao Hongyu"},
                         {"id": 3, "key": "pay_code", "value": PAY}]  # fmt: skip
    integration = tenant.auth("integration")
    for item in base["line_items"]:
        await compliance.put(f"/v1/compliance/items/{item['sku']}", headers=integration,
                             json={**ITEM, "customs_item_no": item["sku"][:20]})  # fmt: skip
    goods = Decimal("719.10")
    tax = (Decimal("0.7") * Decimal("0.13") * (goods + 20)).quantize(Decimal("0.01"))
    base.update(total_tax=str(tax), total=str(goods + 20 + tax))
    r = await deliver_woo(compliance, store, base)
    assert r.status_code == 200, r.text
    await seller.send_payment(payment("W560", buyer=b, amount=str(goods + 20 + tax)))
    await seller.send_waybill(waybill("W560"))
    view = await seller.order("W560")
    assert view["state"] == "declared", [c for c in view["checks"] if not c["passed"]]
    r = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth())
    cop_no = etree.fromstring(r.content).findtext(".//ceb:copNo", namespaces=NS)
    headers = {**integration, "Content-Type": "application/xml"}
    body = inventory_receipt(cop_no, 800, recent(), invt_no="I" + "W560".ljust(17, "0"))
    assert (await compliance.post("/v1/compliance/messages", content=body, headers=headers)).status_code == 200
    assert (await seller.order("W560"))["state"] == "released"

    refunds = {r["id"]: r for r in load(HERE / "refunds" / "woo_ios_order_560_refunds.json")}
    later = {**base, "date_modified_gmt": "2026-09-05T00:00:00",
             "refunds": [{"id": 590, "reason": refunds[590]["reason"], "total": "-18.00",
                          "line_items": refunds[590]["line_items"]}]}  # fmt: skip
    r = await deliver_woo(compliance, store, later, topic="order.updated")
    assert r.status_code == 200 and r.json()["outcome"] == "return_requested", r.text
    async with context_of(compliance_app).sessionmaker() as session:
        stmt = (select(CustomsReturn).join(Order, Order.id == CustomsReturn.order_id)
                .where(Order.org_id == tenant.org_id, Order.order_no == "W560"))  # fmt: skip
        returned = (await session.execute(stmt)).scalar_one()
    r = await compliance.get(f"/v1/compliance/returns/{returned.id}/xml", headers=tenant.auth())
    assert r.status_code == 200, r.text
    doc = etree.fromstring(r.content)
    validator = schema("import")
    assert validator.validate(doc), validator.error_log
    assert [q.text for q in doc.iterfind(".//ceb:InvtRefundList/ceb:qty", NS)] == ["1"]  # the one T-shirt


# --- the consignee as customs compares it -------------------------------------------------------------------

CN_ADDRESS = {"first_name": "红雨", "last_name": "焦", "name": "焦红雨", "phone": "+86 135-2265-2231",
              "address1": "海淀区中关村大街27号", "address2": "", "city": "北京市", "province": "Beijing",
              "province_code": "BJ", "zip": "100080", "country": "China", "country_code": "CN",
              "company": None, "latitude": None, "longitude": None, "country_name": "China"}  # fmt: skip


async def test_an_address_in_parts_matches_the_street_as_a_chinese_courier_writes_it(compliance, tenant):
    """A Shopify import order whose shipping address comes in parts (province, city, street, postcode, country,
    as Shopify writes a Chinese address), and waybills naming the place as Chinese couriers do: no spaces, no
    postcode, no country. The same street matches; another street does not, and the check names the part."""
    from tests.compliance.support import shopify_order

    seller = await Seller(compliance, tenant).setup()
    outcomes = {}
    for n, street in enumerate(("北京市海淀区中关村大街27号", "北京市 海淀区知春路27号")):
        number, b = f"CN{n}PARTS", buyer_id(770 + n)
        order = shopify_order(number, buyer=b)
        order["id"] = 7700 + n
        order["shipping_address"] = CN_ADDRESS
        r = await seller.send_order(order)
        assert r.status_code == 200, r.text
        await seller.send_payment(payment(number, buyer=b))
        await seller.send_waybill(waybill(number, name="焦 红雨", phone="13522652231", address=street))
        outcomes[street] = await seller.order(number)
    same = outcomes["北京市海淀区中关村大街27号"]
    assert same["state"] == "declared", [c for c in same["checks"] if not c["passed"]]
    other = outcomes["北京市 海淀区知春路27号"]
    consignee = next(c for c in other["checks"] if c["rule"] == "consignee")
    assert other["state"] == "mismatch" and not consignee["passed"]
    assert consignee["detail"] == "consignee address (street) differ"


def test_names_phones_and_addresses_are_compared_as_customs_means_them():
    from services.compliance.orders.rules import Party, address_difference, same_name, same_phone

    assert same_phone("+852 5555 0101", "55550101") and same_phone("+86 135-2265-2231", "0086 13522652231")
    assert not same_phone("13522652231", "13522652232")
    assert same_name("Jiao  Hongyu", "hongyu JIAO") and same_name("焦 红雨", "焦红雨")
    assert not same_name("Jiao Hongyu", "Jiao Hongxu")
    order = Party(
        "焦红雨", "", "Beijing 北京市 海淀区中关村大街27号 100080 CN", "海淀区中关村大街27号", "北京市", "100080", "CN"
    )
    assert address_difference(order, Party("焦红雨", "", "北京海淀区中关村大街27号")) is None
    assert address_difference(order, Party("焦红雨", "", "上海市海淀区中关村大街27号")) == "city"
    assert address_difference(order, Party("焦红雨", "", "北京市海淀区中关村大街29号")) == "street"
    # without parts on either side: the whole address, however its postcode, country and spacing are written
    plain = Party("x", "", "Beijing Haidian 1 Zhongguancun Street")
    assert address_difference(plain, Party("x", "", "beijing  haidian 1 zhongguancun street 100080 CN")) is None
    assert address_difference(plain, Party("x", "", "Beijing Haidian 9 Chaoyang Road")) == "street"


async def test_an_address_given_by_patch_replaces_the_platforms_parts(compliance, tenant):
    """captured_hkd_line_discounts shipped to China without a phone (held), completed with another address: the
    street and city the platform gave no longer stand for the consignee's place."""
    shop = await platform_source(compliance, tenant, "shopify", trade_direction="export")
    order = shopify("captured_hkd_line_discounts")
    order["shipping_address"] = {**CN_ADDRESS, "phone": None}
    r = await deliver_shopify(compliance, shop, order)
    assert r.status_code == 200 and r.json()["state"] == "incomplete", r.text
    patch = {"consignee": {"telephone": "13522652231", "address": "上海市徐汇区漕溪北路1号"}}
    r = await compliance.patch(f"/v1/compliance/orders/{EBP}/1071", json=patch, headers=tenant.auth("integration"))
    assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    consignee = r.json()["documents"]["order"]["consignee"]
    assert consignee["address"] == "上海市徐汇区漕溪北路1号"
    assert (consignee.get("street"), consignee.get("city")) == (None, None)


async def test_a_delete_that_arrives_before_its_order_ends_it_when_it_arrives(compliance, tenant):
    """WooCommerce's ``order.deleted`` (the order's id alone) delivered before the order it names."""
    store = await platform_source(compliance, tenant, "woocommerce", trade_direction="export")
    r = await deliver_woo(compliance, store, {"id": 324}, topic="order.deleted")
    assert r.status_code == 200 and r.json()["outcome"].startswith("waiting: delete of platform order 324"), r.text
    r = await deliver_woo(compliance, store, woo("ios_order_324_partially_refunded"))
    assert r.status_code == 200, r.text
    assert (await order_view(compliance, tenant, "324"))["state"] == "cancelled"
    listed = (await compliance.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))).json()
    assert not [u for u in listed["unreadable"] if u["outcome"] == "waiting"]
