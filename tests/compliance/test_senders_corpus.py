"""Every body Shopify and WooCommerce wrote in tests/compliance/platforms, delivered as the platform delivers it:
acknowledged, stored once, and its amounts equal to what the buyer paid. The incomplete ones are listed in the
exceptions with the fields they lack, and match once completed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.compliance.context import compliance_context
from services.compliance.customs.codes import countries
from services.compliance.deliveries import PlatformDelivery
from services.compliance.intake.platforms import body_context
from shared.context import context_of
from tests.compliance.platforms import (
    SHOPIFY,
    WOOCOMMERCE,
    deliver_shopify,
    deliver_woo,
    load,
    presentment_paid,
    shopify,
    shopify_bytes,
    shopify_headers,
    woo_bytes,
)
from tests.compliance.support import EBP, ITEM, PAY, Seller, buyer_id
from tests.support import assert_problem

CORPUS = [*SHOPIFY, *WOOCOMMERCE]


async def platform_source(client, tenant, kind: str, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = {"name": f"{kind} store", "kind": kind, "role": "platform", "ebp_code": EBP, **extra}
    r = await client.post("/v1/compliance/sources", json=body, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return r.json()


async def deliveries(app, source_id: str) -> list[PlatformDelivery]:  # type: ignore[no-untyped-def]
    async with context_of(app).sessionmaker() as session:
        stmt = select(PlatformDelivery).where(PlatformDelivery.source_id == source_id)
        return list((await session.execute(stmt)).scalars())


def order_no_of(path: Path, order: dict[str, Any]) -> str:
    if path.parent.name == "shopify":
        return str(order.get("name") or "").lstrip("#")
    order = order.get("order") or order  # WooCommerce's legacy REST API wraps the order
    return str(order.get("number") or order["order_number"])


def adds_up(doc: dict[str, Any]) -> Decimal:
    d = {k: Decimal(doc[k]) for k in ("goods_value", "discount", "freight", "tax_total")}
    return d["goods_value"] - d["discount"] + d["freight"] + d["tax_total"]


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
async def test_each_platform_body_is_acknowledged_stored_once_and_adds_up(path, compliance, compliance_app, tenant):
    kind = "shopify" if path.parent.name == "shopify" else "woocommerce"
    source = await platform_source(compliance, tenant, kind, secret="shpss_" + "a1b2c3d4" * 4)
    order = load(path)
    if kind == "shopify":
        body = shopify_bytes(order)
        headers = shopify_headers(source["secret"], body, webhook_id="wh-" + path.stem)
        first = await compliance.post(source["webhook_path"], content=body, headers=headers)
        again = await compliance.post(source["webhook_path"], content=body, headers=headers)
    else:
        body = woo_bytes(order)
        first = await deliver_woo(compliance, source, order)
        again = await deliver_woo(compliance, source, order)  # a new delivery id, the same order version
    assert first.status_code == 200, first.text
    assert again.status_code == 200 and again.json()["status"] == "duplicate", again.text
    stored = await deliveries(compliance_app, source["id"])
    # the exact bytes, once, sealed at rest (a raw body holds the buyer's name, address and phone)
    assert len(stored) == 1 and body not in stored[0].body
    pii = compliance_context(compliance_app).pii
    assert pii.open(stored[0].body, body_context(stored[0].org_id)) == body

    r = await compliance.get(f"/v1/compliance/orders/{EBP}/{order_no_of(path, order)}", headers=tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    view = r.json()
    doc = view["documents"]["order"]
    paid, currency = presentment_paid(order)
    not_goods = sum((Decimal(o["total"]) for o in doc.get("not_goods", [])), Decimal(0))
    assert doc["currency"] == currency
    assert Decimal(doc["actual_paid"]) + not_goods == paid
    assert adds_up(doc) == Decimal(doc["actual_paid"])
    assert view["test"] is (order.get("test") is True)


async def test_incomplete_bodies_are_listed_and_match_once_completed(compliance, tenant):
    """An export store: some of these bodies carry no address or phone. Each of those is held incomplete with
    what it lacks, then completed by PATCH and matched with its payment and waybill."""
    seller = await Seller(compliance, tenant).setup()
    shop = await platform_source(compliance, tenant, "shopify", trade_direction="export")
    store = await platform_source(compliance, tenant, "woocommerce", trade_direction="export")
    numbers = []
    for path in CORPUS:
        order = load(path)
        if order.get("test") is True:
            continue  # test orders are never matched (test_senders_lifecycle)
        r = await (deliver_shopify(compliance, shop, order) if path.parent.name == "shopify"
                   else deliver_woo(compliance, store, order))  # fmt: skip
        assert r.status_code == 200, r.text
        if r.json()["state"] == "cancelled":  # refunded in full on the platform: ended, never declared
            assert (order.get("status"), presentment_paid(order)[0]) == ("refunded", 0), r.text
            continue
        # an export needs no buyer ID number: only a body lacking an address, a phone or a country with a
        # customs code is held
        assert r.json()["state"] in ("incomplete", "awaiting_documents"), r.text
        if r.json()["state"] == "incomplete":
            numbers.append(order_no_of(path, order))

    r = await compliance.get("/v1/compliance/exceptions?limit=200", headers=tenant.auth("analyst"))
    held = {e["order_no"]: e for e in r.json()["items"] if e["reason"] == "incomplete"}
    assert "1071" in numbers and set(numbers) == set(held)
    assert "consignee.address" in held["1071"]["missing"]  # Shopify sent shipping_address: null

    integration = tenant.auth("integration")
    for i, number in enumerate(numbers):
        view = await seller.order(number)
        doc = view["documents"]["order"]
        given = doc["consignee"]
        consignee = {"name": given["name"] or "Chan Tai Man", "telephone": given["telephone"] or "+852 5555 0101",
                     "address": given["address"] or "1 Queen's Road Central, HK",
                     "country": given.get("country") if given.get("country") in countries() else "HK"}  # fmt: skip
        patch = {"buyer": {"id_number": buyer_id(600 + i), "name": consignee["name"],
                           "telephone": consignee["telephone"]}, "consignee": consignee}  # fmt: skip
        r = await compliance.patch(f"/v1/compliance/orders/{EBP}/{number}", json=patch, headers=integration)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "awaiting_documents" and r.json()["missing"] == [], r.json()["missing"]
        for n, item in enumerate(r.json()["documents"]["order"]["items"]):
            # a SKU longer than customs' itemNo declares under its record's customs item number
            record = {**ITEM, "customs_item_no": f"C{i}-{n}"} if len(item["item_no"]) > 20 else ITEM
            put = await compliance.put(f"/v1/compliance/items/{item['item_no']}", json=record, headers=integration)
            assert put.status_code in (200, 201), put.text
        pay = {
            "pay_code": PAY,
            "pay_transaction_id": f"T{number}",
            "order_no": number,
            "ebp_code": EBP,
            "payer": {"name": consignee["name"], "id_number": buyer_id(600 + i), "telephone": "13522652231"},
            # what the payment institution collected: gift cards paid the rest
            "amount_paid": str(Decimal(doc["actual_paid"]) - Decimal(doc.get("gift_card") or 0)),
            "currency": doc["currency"],
            "paid_at": "2026-09-01T08:00:00+00:00",
        }
        ship = {"logistics_code": "LOG0000001", "logistics_no": f"L{number}", "order_no": number,
                "freight": doc["freight"], "weight_kg": "0.5", "consignee": consignee, "pod": "002"}  # fmt: skip
        assert (await compliance.post("/v1/compliance/payments", json=pay, headers=integration)).status_code == 201
        r = await compliance.post("/v1/compliance/waybills", json=ship, headers=integration)
        assert r.status_code == 201, r.text
        view = await seller.order(number)
        assert view["state"] == "declared", (number, [c for c in view["checks"] if not c["passed"]])

    r = await compliance.get("/v1/compliance/exceptions?limit=200", headers=tenant.auth("analyst"))
    assert not set(numbers) & {e["order_no"] for e in r.json()["items"]}


async def test_completing_an_order_step_by_step(compliance, tenant):
    """The captured HKD order (no shipping address, no buyer): a partial PATCH leaves it incomplete with what
    is still missing; bad values are 422 and change nothing; a stale If-Match is 412; once complete, a second
    PATCH is 409."""
    shop = await platform_source(compliance, tenant, "shopify", trade_direction="export")
    r = await deliver_shopify(compliance, shop, shopify("captured_hkd_line_discounts"))
    assert r.status_code == 200 and r.json()["state"] == "incomplete", r.text
    url, integration = f"/v1/compliance/orders/{EBP}/1071", tenant.auth("integration")

    r = await compliance.patch(url, json={"buyer": {"id_number": buyer_id(650)}}, headers=integration)
    assert r.status_code == 200 and r.json()["state"] == "incomplete", r.text
    left = {m["field"] for m in r.json()["missing"]}
    assert "buyer.id_number" not in left and {"consignee.address", "consignee.telephone"} <= left
    # an export names its missing destination at once, and never asks for the buyer's phone
    assert "destination_country" in left and "buyer.telephone" not in left
    etag = r.headers["etag"]

    bad = await compliance.patch(url, json={"consignee": {"telephone": "1" * 31}}, headers=integration)
    assert bad.status_code == 422
    assert_problem(await compliance.patch(url, json={}, headers=tenant.auth("analyst")), 403)
    stale = {**integration, "If-Match": '"stale"'}
    assert_problem(await compliance.patch(url, json={"buyer": {"name": "X"}}, headers=stale), 412)

    person = {"name": "Chan Tai Man", "telephone": "+852 5555 0101"}
    done = {"buyer": person, "consignee": {**person, "address": "1 Queen's Road Central, Hong Kong", "country": "HK"}}
    r = await compliance.patch(url, json=done, headers={**integration, "If-Match": etag})
    assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    assert r.json()["documents"]["order"]["buyer"]["id_number"].startswith("1101")  # masked, kept from before
    assert "*" in r.json()["documents"]["order"]["buyer"]["id_number"]
    assert_problem(await compliance.patch(url, json=done, headers=integration), 409)


JUNK: list[Any] = [None, True, "", "abc", "1e400", "-5", 10**40, 0.1, [], {}, {"amount": "x"}, "&lt;b&gt;", "\u0000",
                   "日本語", "9" * 300, -1, [1, [2, [3]]]]  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


async def test_platform_bodies_with_any_field_changed_are_always_acknowledged(compliance, compliance_app, tenant):
    """Real bodies with random fields replaced by junk, signed as the platform signs: always 200, each stored
    once, never a server error."""
    import random

    rng = random.Random(20261201)
    shop = await platform_source(compliance, tenant, "shopify")
    store = await platform_source(compliance, tenant, "woocommerce")
    sent = {shop["id"]: 0, store["id"]: 0}
    for n in range(80):
        path = rng.choice(CORPUS)
        order = load(path)
        for where in rng.sample(_paths(order), 4):
            node = order
            try:
                for key in where[:-1]:
                    node = node[key]
                node[where[-1]] = rng.choice(JUNK)
            except (TypeError, KeyError, IndexError):
                continue  # an earlier change replaced what this path led through
        if path.parent.name == "shopify":
            order["updated_at"] = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z"
            r, source = await deliver_shopify(compliance, shop, order), shop
        else:
            version = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}"
            if isinstance(order.get("order"), dict):
                order["order"]["updated_at"] = version  # the legacy REST API's body
            else:
                order["date_modified_gmt"] = version
            r, source = await deliver_woo(compliance, store, order), store
        assert r.status_code == 200, (n, r.text)
        sent[source["id"]] += 1
    for source_id, count in sent.items():
        assert len(await deliveries(compliance_app, source_id)) == count
