"""Signed deliveries: redeliveries, tampering, stale timestamps, wrong secrets, roles; WooCommerce too."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from services.compliance.deliveries import PlatformDelivery
from services.compliance.orders.models import Delivery, Order, Payment
from shared.context import context_of
from tests.compliance.support import (
    EBP,
    Seller,
    buyer_id,
    canonical_order,
    encode,
    new_order_no,
    payment,
    shopify_headers,
    shopify_order,
    stale,
    swh_headers,
    waybill,
    woo_headers,
)
from tests.support import assert_problem


async def count(app, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with context_of(app).sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_shopify_redelivery_leaves_one_record(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    order = shopify_order(order_no, buyer=buyer_id(20))
    first = await seller.send_order(order, webhook_id="wh-1-" + order_no)
    again = await seller.send_order(order, webhook_id="wh-1-" + order_no)
    assert first.json()["status"] == "stored"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert await count(compliance_app, Order, Order.order_no == order_no) == 1


async def test_ten_concurrent_redeliveries_leave_one_record(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(21)
    shop = seller.sources["shop"]
    body = encode(shopify_order(order_no, buyer=b))
    headers = shopify_headers(shop["secret"], body, "wh-c-" + order_no)
    results = await asyncio.gather(
        *[compliance.post(shop["webhook_path"], content=body, headers=headers) for _ in range(10)]
    )
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert sorted(r.json()["status"] for r in results).count("stored") == 1
    assert await count(compliance_app, Order, Order.order_no == order_no) == 1
    assert await count(compliance_app, PlatformDelivery, PlatformDelivery.source_id == shop["id"]) == 1

    pay = seller.sources["pay"]
    body = encode({"type": "payment", "data": payment(order_no, buyer=b)})
    headers = swh_headers(pay["secret"], body, "msg-c-" + order_no)
    results = await asyncio.gather(
        *[compliance.post(pay["webhook_path"], content=body, headers=headers) for _ in range(10)]
    )
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert await count(compliance_app, Payment, Payment.order_no == order_no) == 1


async def test_tampered_stale_and_wrong_secret_deliveries_store_nothing(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(22)
    shop, pay = seller.sources["shop"], seller.sources["pay"]

    body = encode(shopify_order(order_no, buyer=b))
    headers = shopify_headers(shop["secret"], body)
    tampered = body.replace(b'"total_price": "240.02"', b'"total_price": "1.00"')
    assert tampered != body
    assert_problem(await compliance.post(shop["webhook_path"], content=tampered, headers=headers), 401)
    wrong = shopify_headers("not-the-secret", body)
    assert_problem(await compliance.post(shop["webhook_path"], content=body, headers=wrong), 401)
    assert_problem(await compliance.post(shop["webhook_path"], content=body, headers={}), 401)

    pbody = encode({"type": "payment", "data": payment(order_no, buyer=b)})
    old = swh_headers(pay["secret"], pbody, at=stale())
    assert_problem(await compliance.post(pay["webhook_path"], content=pbody, headers=old), 401)
    other = seller.sources["ship"]["secret"]
    assert_problem(await compliance.post(pay["webhook_path"], content=pbody, headers=swh_headers(other, pbody)), 401)
    garbage = {**swh_headers(pay["secret"], pbody), "webhook-signature": "v1 nonsense,, v2"}
    assert_problem(await compliance.post(pay["webhook_path"], content=pbody, headers=garbage), 401)

    assert await count(compliance_app, Order, Order.order_no == order_no) == 0
    assert await count(compliance_app, Payment, Payment.order_no == order_no) == 0
    assert await count(compliance_app, Delivery, Delivery.source_id.in_([shop["id"], pay["id"]])) == 0
    assert await count(compliance_app, PlatformDelivery, PlatformDelivery.source_id == shop["id"]) == 0


async def test_rotated_secrets_any_v1_signature_may_match(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    pay = seller.sources["pay"]
    order_no = new_order_no()
    body = encode({"type": "payment", "data": payment(order_no, buyer=buyer_id(23))})
    good = swh_headers(pay["secret"], body)
    old_secret = swh_headers("whsec_" + "A" * 44, body, good["webhook-id"])
    good["webhook-signature"] = old_secret["webhook-signature"] + " " + good["webhook-signature"]
    r = await compliance.post(pay["webhook_path"], content=body, headers=good)
    assert r.status_code == 200 and r.json()["status"] == "stored"


async def test_a_source_may_only_send_its_roles_documents(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    r = await seller.send_swh("pay", "waybill", waybill(order_no))
    assert_problem(r, 403)
    r = await seller.send_swh("ship", "order", {"order_no": order_no})
    assert_problem(r, 403)
    assert await count(compliance_app, Delivery, Delivery.source_id == seller.sources["ship"]["id"]) == 0


async def test_unknown_source_is_404_and_bad_document_is_422(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    assert_problem(await compliance.post("/v1/compliance/webhooks/00000000-0000-0000-0000-000000000000",
                                         content=b"{}"), 404)  # fmt: skip
    bad = payment(new_order_no(), buyer=buyer_id(24))
    bad["amount_paid"] = "-5"
    body = assert_problem(await seller.send_payment(bad), 422)
    assert body["errors"][0]["loc"][:3] == ["body", "data", "amount_paid"]


async def test_woocommerce_orders_are_verified_mapped_and_deduplicated(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    r = await compliance.post("/v1/compliance/sources", headers=tenant.auth(), json={
        "name": "Woo", "kind": "woocommerce", "role": "platform", "ebp_code": EBP})  # fmt: skip
    assert r.status_code == 201
    woo = r.json()
    assert not woo["secret"].startswith("whsec_")
    order_no, b = str(90000 + int(new_order_no()[3:9], 16) % 9999), buyer_id(25)
    order = {
        "id": int(order_no), "number": order_no, "currency": "CNY", "date_modified": "2026-01-02T03:04:05",
        "discount_total": "0.00", "shipping_total": "20.00", "total_tax": "20.02", "total": "240.02",
        "line_items": [{"id": 1, "name": "Wool scarf", "sku": "SCARF-1", "quantity": 2, "price": 100,
                        "subtotal": "200.00", "total": "200.00"}],
        "shipping": {"first_name": "Jiao", "last_name": "Hongyu", "state": "Beijing", "city": "Haidian",
                     "address_1": "1 Zhongguancun Street", "phone": "13522652231"},
        "meta_data": [{"id": 1, "key": "buyer_id_number", "value": b},
                      {"id": 2, "key": "buyer_name", "value": "Jiao Hongyu"}],
    }  # fmt: skip
    body = encode(order)
    for _ in range(2):  # WooCommerce gives each delivery a new id: the order id + date_modified is the key
        r = await compliance.post(woo["webhook_path"], content=body, headers=woo_headers(woo["secret"], body))
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "duplicate"
    assert await count(compliance_app, Order, Order.order_no == order_no) == 1
    bad = woo_headers("wrong", body)
    assert_problem(await compliance.post(woo["webhook_path"], content=body, headers=bad), 401)
    await seller.send_payment(payment(order_no, buyer=b))
    await seller.send_waybill(waybill(order_no, name="Jiao Hongyu"))
    view = await seller.order(order_no)
    assert view["state"] == "declared", view["checks"]


async def test_source_secrets_are_shown_once_and_sources_are_admin_only(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    pay = seller.sources["pay"]
    assert pay["secret"].startswith("whsec_")
    import base64

    assert len(base64.b64decode(pay["secret"].removeprefix("whsec_"))) == 32
    r = await compliance.get(f"/v1/compliance/sources/{pay['id']}", headers=tenant.auth())
    assert r.status_code == 200 and "secret" not in r.json()
    assert_problem(await compliance.get("/v1/compliance/sources", headers=tenant.auth("analyst")), 403)
    r = await compliance.post("/v1/compliance/sources", headers=tenant.auth(),
                              json={"name": "x", "kind": "shopify", "role": "payment", "pay_code": "P1"})  # fmt: skip
    assert_problem(r, 422)


async def test_canonical_documents_by_integration(compliance, tenant):
    await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(26)
    canonical = canonical_order(order_no, b)
    integration = tenant.auth("integration")
    assert_problem(await compliance.post("/v1/compliance/orders", json=canonical, headers=tenant.auth("analyst")), 403)
    r = await compliance.post("/v1/compliance/orders", json=canonical, headers=integration)
    assert r.status_code == 201 and r.headers["location"].endswith(f"/{EBP}/{order_no}")
    r = await compliance.post("/v1/compliance/orders", json=canonical, headers=integration)
    assert r.status_code == 200 and r.json()["status"] == "duplicate"
    r = await compliance.post("/v1/compliance/payments", json=payment(order_no, buyer=b), headers=integration)
    assert r.status_code == 201
    r = await compliance.post("/v1/compliance/waybills", json=waybill(order_no), headers=integration)
    assert r.status_code == 201 and r.json()["state"] == "declared"
    assert_problem(await compliance.get(f"/v1/compliance/orders/{EBP}/{order_no}", headers=integration), 403)
