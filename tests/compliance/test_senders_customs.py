"""What a platform's later deliveries lead to at customs: a cancellation after declaration becomes the
withdrawal (CEB623, valid against the official XSD) and its receipt ends the order; a refund of a released
import order becomes the declared return (CEB625) of the refunded lines; junk amounts are held, never a 5xx."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import select

from services.compliance.orders.models import CustomsReturn, Order
from shared.context import context_of
from tests.compliance.platforms import deliver_shopify
from tests.compliance.support import (
    EBP,
    Seller,
    answer,
    buyer_id,
    inventory_receipt,
    new_order_no,
    recent,
    schema,
    shopify_order,
)

CEB = "http://www.chinaport.gov.cn/ceb"
NS = {"ceb": CEB}


async def _declared(seller: Seller, order_no: str, buyer: str, shopify_id: int) -> tuple[dict, str]:
    """A Shopify import order matched and declared; customs has numbered its inventory list (CEB622 120)."""
    order = {**shopify_order(order_no, buyer=buyer), "id": shopify_id, "updated_at": "2026-09-01T10:00:00+08:00"}
    view = await seller.deliver_all(order_no, buyer=buyer, order=order)
    assert view["state"] == "declared", view["checks"]
    r = await seller.client.get(
        f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=seller.tenant.auth()
    )
    cop_no = etree.fromstring(r.content).findtext(".//ceb:copNo", namespaces=NS)
    assert cop_no
    return order, cop_no


async def _receipt(seller: Seller, body: bytes) -> None:
    headers = {**seller.tenant.auth("integration"), "Content-Type": "application/xml"}
    r = await seller.client.post("/v1/compliance/messages", content=body, headers=headers)
    assert r.status_code == 200, r.text


async def test_a_shopify_cancellation_after_declaration_is_withdrawn_at_customs(compliance, tenant, sm2_signer):
    seller = await Seller(compliance, tenant).setup()
    shop = seller.sources["shop"]
    order_no = new_order_no()
    order, cop_no = await _declared(seller, order_no, buyer_id(740), 7400001)
    await _receipt(seller, inventory_receipt(cop_no, 120, invt_no="I" + order_no.ljust(17, "0")[:17]))

    cancelled = {**order, "updated_at": "2026-09-01T11:00:00+08:00", "cancelled_at": "2026-09-01T11:00:00+08:00"}
    r = await deliver_shopify(compliance, shop, cancelled, topic="orders/cancelled")
    assert r.status_code == 200 and r.json()["state"] == "cancel_requested", r.text

    view = await seller.order(order_no)
    r = await compliance.get(
        f"/v1/compliance/declarations/{view['declaration_id']}/cancellation-xml", headers=tenant.auth()
    )
    assert r.status_code == 200, r.text
    doc = etree.fromstring(r.content)
    assert doc.tag == f"{{{CEB}}}CEB623Message"
    validator = schema("import")
    assert validator.validate(doc), validator.error_log
    assert doc.findtext(".//ceb:copNo", namespaces=NS) == cop_no

    await _receipt(seller, answer("CEB624Message", "InvtCancelReturn", cop_no, 399, time="20260102130000000"))
    assert (await seller.order(order_no))["state"] == "cancelled"


async def test_a_shopify_refund_of_a_released_import_order_declares_the_return(
    compliance, compliance_app, tenant, sm2_signer
):
    seller = await Seller(compliance, tenant).setup()
    shop = seller.sources["shop"]
    order_no = new_order_no()
    _, cop_no = await _declared(seller, order_no, buyer_id(741), 7410001)
    await _receipt(seller, inventory_receipt(cop_no, 800, recent(), invt_no="I" + order_no[:17]))
    assert (await seller.order(order_no))["state"] == "released"

    refund = {"id": 929361463, "order_id": 7410001, "created_at": "2026-09-02T10:00:00+08:00",
              "refund_line_items": [{"id": 1, "line_item_id": 1, "quantity": 1,
                                     "line_item": {"id": 1, "sku": "SCARF-1", "quantity": 2}}]}  # fmt: skip
    r = await deliver_shopify(compliance, shop, refund, topic="refunds/create")
    assert r.status_code == 200, r.text

    async with context_of(compliance_app).sessionmaker() as session:
        stored = (
            await session.execute(
                select(CustomsReturn)
                .join(Order, Order.id == CustomsReturn.order_id)
                .where(Order.org_id == tenant.org_id, Order.order_no == order_no)
            )
        ).scalar_one()
    r = await compliance.get(f"/v1/compliance/returns/{stored.id}/xml", headers=tenant.auth())
    assert r.status_code == 200, r.text
    doc = etree.fromstring(r.content)
    assert doc.tag == f"{{{CEB}}}CEB625Message"
    validator = schema("import")
    assert validator.validate(doc), validator.error_log
    assert doc.findtext(".//ceb:InvtRefundList/ceb:qty", namespaces=NS) == "1"  # the refunded scarf only
    assert (await seller.order(order_no))["state"] == "released"  # until customs approves


async def test_junk_amounts_in_a_signed_shopify_body_are_held_never_a_server_error(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    shop = seller.sources["shop"]
    for n, (field, value) in enumerate((("price", "abc"), ("quantity", "1e999999"), ("quantity", "x"))):
        order_no = new_order_no()
        order = shopify_order(order_no, buyer=buyer_id(750 + n))
        order["line_items"] = [{**order["line_items"][0], field: value}]
        r = await deliver_shopify(compliance, shop, order)
        assert r.status_code == 200, (field, value, r.text)
        view = await seller.order(order_no)
        assert view["state"] == "incomplete", (field, value, view["state"])
        assert view["missing"], view
    r = await compliance.get("/v1/compliance/orders?state=incomplete&limit=200", headers=tenant.auth("analyst"))
    assert r.status_code == 200 and len([o for o in r.json()["items"] if o["ebp_code"] == EBP]) >= 3


async def test_a_signed_order_body_resent_under_a_destructive_topic_changes_nothing(compliance, tenant, sm2_signer):
    """Shopify's HMAC covers the body, not X-Shopify-Topic: the same signed ``orders/create`` bytes re-sent (with a
    new webhook id) as ``orders/delete`` or ``orders/cancelled`` must not withdraw the declared order."""
    seller = await Seller(compliance, tenant).setup()
    shop = seller.sources["shop"]
    order_no = new_order_no()
    order, cop_no = await _declared(seller, order_no, buyer_id(745), 7450001)
    await _receipt(seller, inventory_receipt(cop_no, 120, invt_no="I" + order_no.ljust(17, "0")[:17]))
    before = await seller.order(order_no)
    assert before["state"] == "accepted", before["state"]
    for topic in ("orders/delete", "orders/cancelled"):
        r = await deliver_shopify(compliance, shop, order, topic=topic)
        assert r.status_code == 200, r.text
        after = await seller.order(order_no)
        assert after["state"] == before["state"], (topic, after["state"])
        assert {m["message_type"] for m in after["messages"]} == {m["message_type"] for m in before["messages"]}
    # WooCommerce's order.deleted carries the id alone too; a real deletion still works (test_senders_lifecycle)
