from __future__ import annotations

import itertools

import pytest
from lxml import etree

from tests.compliance.support import (
    EBP,
    Seller,
    buyer_id,
    new_order_no,
    payment,
    shopify_order,
    valid_unsigned,
    waybill,
)

ORDERINGS = list(itertools.permutations(["order", "payment", "waybill"]))


@pytest.mark.parametrize("ordering", ORDERINGS, ids=["-".join(o) for o in ORDERINGS])
async def test_signed_documents_in_any_order_end_declared_with_valid_xml(compliance, tenant, ordering):
    seller = await Seller(compliance, tenant).setup()
    order_no, buyer = new_order_no(), buyer_id(1)
    send = {
        "order": lambda: seller.send_order(shopify_order(order_no, buyer=buyer)),
        "payment": lambda: seller.send_payment(payment(order_no, buyer=buyer)),
        "waybill": lambda: seller.send_waybill(waybill(order_no)),
    }
    for kind in ordering:
        r = await send[kind]()
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "stored"
    view = await seller.order(order_no)
    assert view["state"] == "declared", view["checks"]
    assert all(c["passed"] for c in view["checks"])
    assert view["tax"] == "20.02"
    assert view["utm_campaign"] == "winter-sale"
    assert view["documents"]["order"]["buyer"]["id_number"] == "1101**********0001"
    assert view["documents"]["payment"]["payer"]["id_number"] == "1101**********0001"
    assert buyer not in str(view)

    xml = await compliance.get(
        f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth()
    )  # admin: the ID number in full (integration reads it masked: test_id_disclosure.py)
    assert xml.status_code == 200
    doc = etree.fromstring(xml.content)
    ok, errors = valid_unsigned(doc, "import")
    assert ok, errors
    ns = {"ceb": "http://www.chinaport.gov.cn/ceb"}
    assert doc.tag == "{http://www.chinaport.gov.cn/ceb}CEB621Message"
    guid = doc.get("guid")
    assert guid == guid.upper() and len(guid) == 36
    assert doc.findtext(".//ceb:buyerIdNumber", namespaces=ns) == buyer
    assert doc.findtext(".//ceb:orderNo", namespaces=ns) == order_no
    assert doc.findtext(".//ceb:ebpCode", namespaces=ns) == EBP
    assert doc.findtext(".//ceb:copNo", namespaces=ns)
    assert doc.findtext(".//ceb:gcode", namespaces=ns) == "6214200000"
