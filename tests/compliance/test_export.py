from __future__ import annotations

from lxml import etree

from tests.compliance.support import EBP, Seller, buyer_id, new_order_no, payment, schema, waybill


async def test_an_export_order_is_declared_as_a_valid_ceb603(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(50)
    order = {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "trade_direction": "export",
        "goods_value": "200.00", "freight": "20.00", "discount": "0", "tax_total": "0", "actual_paid": "220.00",
        "currency": "CNY", "country": "502",
        "buyer": {"reg_no": "u1", "name": "Jane Roe", "id_number": b, "telephone": "+1 555 0100"},
        "consignee": {"name": "Jane Roe", "telephone": "+1 555 0100", "address": "1 Main St, Springfield"},
        "items": [{"gnum": 1, "item_no": "SCARF-1", "name": "Wool scarf", "qty": "2", "price": "100", "total": "200"}],
    }  # fmt: skip
    pay = payment(order_no, buyer=b, amount="220.00", payer_name="Jane Roe")
    ship = waybill(order_no, name="Jane Roe", phone="+1 555 0100", address="1 Main St,  Springfield")
    integration = tenant.auth("integration")
    for path, doc in (("orders", order), ("payments", pay), ("waybills", ship)):
        r = await compliance.post(f"/v1/compliance/{path}", json=doc, headers=integration)
        assert r.status_code == 201, r.text
    view = await seller.order(order_no)
    assert view["state"] == "declared", view["checks"]
    xml = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=integration)
    doc = etree.fromstring(xml.content)
    assert doc.tag == "{http://www.chinaport.gov.cn/ceb}CEB603Message"
    validator = schema("export")
    assert validator.validate(doc), validator.error_log
    order_xml = await compliance.get(
        f"/v1/compliance/declarations/{view['declaration_id']}/order-xml", headers=integration
    )
    assert validator.validate(etree.fromstring(order_xml.content)), validator.error_log
