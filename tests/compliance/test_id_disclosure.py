"""Declaration XML with full ID numbers is for admin only: the integration role reads the same messages with each
ID number masked (docs/customs-outbox.md, "Who reads ID numbers")."""

from __future__ import annotations

from lxml import etree

from tests.compliance.support import Seller, buyer_id, new_order_no
from tests.compliance.support import schema as xsd

CEB = "http://www.chinaport.gov.cn/ceb"


async def test_only_admin_reads_the_buyers_id_number_in_full(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, buyer = new_order_no(), buyer_id(77)
    view = await seller.deliver_all(order_no, buyer=buyer)
    assert view["state"] == "declared", view["checks"]
    base = f"/v1/compliance/declarations/{view['declaration_id']}"
    for which in ("xml", "order-xml"):
        full = await compliance.get(f"{base}/{which}", headers=tenant.auth())
        assert full.status_code == 200, full.text
        assert buyer.encode() in full.content and full.headers["x-xbm-id-numbers"] == "full"
        masked = await compliance.get(f"{base}/{which}", headers=tenant.auth("integration"))
        assert masked.status_code == 200, masked.text
        assert masked.headers["x-xbm-id-numbers"] == "masked"
        assert buyer.encode() not in masked.content and buyer[4:-4].encode() not in masked.content
        doc = etree.fromstring(masked.content)
        assert doc.findtext(f".//{{{CEB}}}buyerIdNumber") == buyer[:4] + "*" * (len(buyer) - 8) + buyer[-4:]
        original = etree.fromstring(full.content)
        validator = xsd("import")
        # masking changes no message's validity (the unsigned list lacks only its signature)
        assert validator.validate(doc) == validator.validate(original) == (which == "order-xml")
        assert doc.findtext(f".//{{{CEB}}}orderNo") == original.findtext(f".//{{{CEB}}}orderNo") == order_no
