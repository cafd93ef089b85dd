"""Customs modes on the import side: 1210 (bonded) needs its area and names each line's item record."""

from __future__ import annotations

from lxml import etree

from tests.compliance.support import ITEM, Seller, buyer_id, new_order_no, profile, valid_unsigned
from tests.support import assert_problem

NS = {"ceb": "http://www.chinaport.gov.cn/ceb"}


async def test_a_1210_profile_needs_its_area_and_its_lists_carry_it(compliance, tenant):
    admin = tenant.auth()
    bonded = profile(tenant, trade_mode="1210")
    body = assert_problem(await compliance.put("/v1/compliance/customs-profile", json=bonded, headers=admin), 422)
    assert "area_code" in str(body) and "area_name" in str(body)
    seller = await Seller(compliance, tenant).setup(profile=False)
    bonded |= {"area_code": "4604W60001", "area_name": "Haikou Comprehensive Bonded Zone", "ems_no": "T4604W000001"}
    r = await compliance.put("/v1/compliance/customs-profile", json=bonded, headers=admin)
    assert r.status_code in (200, 201), r.text
    record = {**ITEM, "item_record_no": "RN-SCARF-0001"}
    assert (await compliance.put("/v1/compliance/items/SCARF-1", json=record, headers=admin)).status_code == 200
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(95))
    assert view["state"] == "declared", view["checks"]
    xml = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=admin)
    doc = etree.fromstring(xml.content)
    ok, errors = valid_unsigned(doc, "import")
    assert ok, errors
    head = doc.find(".//ceb:InventoryHead", NS)
    assert head is not None
    assert [head.findtext(f"ceb:{f}", namespaces=NS) for f in ("tradeMode", "areaCode", "areaName", "country")] == [
        "1210", "4604W60001", "Haikou Comprehensive Bonded Zone", "142"
    ]  # fmt: skip
    assert doc.findtext(".//ceb:InventoryList/ceb:itemRecordNo", namespaces=NS) == "RN-SCARF-0001"
