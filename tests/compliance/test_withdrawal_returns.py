"""Withdrawals (CEB605 export, CEB623 import) and declared returns (CEB625): each message XSD-valid and signed,
customs' answers (CEB606/CEB624, CEB626) ending the order; quota comes back only when customs approves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from tests.compliance.signers import verify
from tests.compliance.support import (
    Seller,
    answer,
    buyer_id,
    inventory_receipt,
    new_order_no,
    payment,
    recent,
    schema,
    shopify_order,
    waybill,
)
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment
from tests.support import assert_problem

CEB = "http://www.chinaport.gov.cn/ceb"
NS = {"ceb": CEB}


async def _post(compliance, tenant, body: bytes) -> dict:  # type: ignore[no-untyped-def]
    headers = {**tenant.auth("integration"), "Content-Type": "application/xml"}
    r = await compliance.post("/v1/compliance/messages", content=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _xml(compliance, tenant, path: str) -> bytes:  # type: ignore[no-untyped-def]
    r = await compliance.get(path, headers=tenant.auth())
    assert r.status_code == 200, r.text
    return r.content


@pytest.mark.parametrize("direction", ["import", "export"])
async def test_a_withdrawal_is_valid_signed_and_its_receipt_cancels_the_order(
    compliance, tenant, sm2_signer, direction
):  # type: ignore[no-untyped-def]
    order_no = new_order_no()
    if direction == "import":
        seller: Seller = await Seller(compliance, tenant).setup()
        view = await seller.deliver_all(order_no, buyer=buyer_id(70))
    else:
        seller = await Exporter(compliance, tenant).setup()
        view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))  # type: ignore[attr-defined]
    assert view["state"] == "declared", view["checks"]
    declaration = f"/v1/compliance/declarations/{view['declaration_id']}"
    cop_no = etree.fromstring(await _xml(compliance, tenant, f"{declaration}/xml")).findtext(
        ".//ceb:copNo", namespaces=NS
    )
    assert cop_no
    invt_no = ("E" if direction == "export" else "I") + order_no.ljust(17, "0")[:17]
    await _post(compliance, tenant, inventory_receipt(cop_no, 120, export=direction == "export", invt_no=invt_no,
                                                      order_no=order_no))  # fmt: skip
    path = f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/cancellation"
    assert_problem(await compliance.post(path, json={"reason": "x"}, headers=tenant.auth("integration")), 403)
    r = await compliance.post(path, json={"reason": "buyer changed their mind"}, headers=tenant.auth())
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancel_requested"
    again = await compliance.post(path, json={"reason": "again"}, headers=tenant.auth())
    assert again.json()["state"] == "cancel_requested"

    withdrawal = await _xml(compliance, tenant, f"{declaration}/cancellation-xml")
    doc = etree.fromstring(withdrawal)
    assert doc.tag == f"{{{CEB}}}{'CEB605Message' if direction == 'export' else 'CEB623Message'}"
    validator = schema(direction)
    assert validator.validate(doc), validator.error_log
    assert verify(withdrawal) == "sm2"
    assert doc.findtext(".//ceb:invtNo", namespaces=NS) == invt_no
    assert doc.findtext(".//ceb:reason", namespaces=NS) == "buyer changed their mind"

    message, node = (
        ("CEB606Message", "InvtCancelReturn") if direction == "export" else ("CEB624Message", "InvtCancelReturn")
    )
    await _post(compliance, tenant, answer(message, node, cop_no, 120))
    assert (await seller.order(order_no))["state"] == "cancel_requested"  # received; not decided yet
    # a late list receipt does not undo the request
    await _post(compliance, tenant, inventory_receipt(cop_no, 399, "20260101130000000",
                                                      export=direction == "export", invt_no=invt_no))  # fmt: skip
    assert (await seller.order(order_no))["state"] == "cancel_requested"
    await _post(compliance, tenant, answer(message, node, cop_no, 399, time="20260102130000000"))
    view = await seller.order(order_no)
    assert view["state"] == "cancelled"
    assert {m["message_type"]: m["status"] for m in view["messages"]}[message[:3] + str(int(message[3:6]) - 1)] == (
        "acknowledged"
    )


async def test_a_refused_withdrawal_leaves_the_order_where_it_was(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(71))
    declaration = f"/v1/compliance/declarations/{view['declaration_id']}"
    cop_no = etree.fromstring(await _xml(compliance, tenant, f"{declaration}/xml")).findtext(
        ".//ceb:copNo", namespaces=NS
    )
    assert cop_no
    path = f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/cancellation"
    assert (await compliance.post(path, json={"reason": "r"}, headers=tenant.auth())).json()[
        "state"
    ] == "cancel_requested"
    # customs has not numbered the list yet: the withdrawal waits for the number
    assert_problem(await compliance.get(f"{declaration}/cancellation-xml", headers=tenant.auth()), 422)
    await _post(compliance, tenant, inventory_receipt(cop_no, 120))
    assert etree.fromstring(await _xml(compliance, tenant, f"{declaration}/cancellation-xml")) is not None
    await _post(compliance, tenant, answer("CEB624Message", "InvtCancelReturn", cop_no, 100))
    assert (await seller.order(order_no))["state"] == "declared"


async def test_before_declaration_a_cancellation_simply_ends_the_order(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    r = await seller.send_order(shopify_order(order_no, buyer=buyer_id(72)))
    assert r.status_code in (200, 201)
    path = f"/v1/compliance/orders/1105910159/{order_no}/cancellation"
    r = await compliance.post(path, json={"reason": "never paid"}, headers=tenant.auth())
    assert r.json()["state"] == "cancelled" and r.json()["declaration_id"] is None
    assert_problem(await compliance.post(path, json={"reason": " "}, headers=tenant.auth()), 422)


PRICE, TAX, TOTAL = "2400.00", "438.62", "5258.62"  # one order: dutiable 4820.00


async def test_a_declared_return_restores_quota_only_when_customs_approves(compliance, tenant, sm2_signer):
    seller = await Seller(compliance, tenant).setup()
    buyer = buyer_id(73)
    order_no = new_order_no()
    view = await seller.deliver_all(
        order_no, buyer=buyer, order=shopify_order(order_no, buyer=buyer, price=PRICE, tax=TAX),
        pay=payment(order_no, buyer=buyer, amount=TOTAL), ship=waybill(order_no),
    )  # fmt: skip
    assert view["state"] == "declared", view["checks"]
    declaration = f"/v1/compliance/declarations/{view['declaration_id']}"
    cop_no = etree.fromstring(await _xml(compliance, tenant, f"{declaration}/xml")).findtext(
        ".//ceb:copNo", namespaces=NS
    )
    assert cop_no
    quota = f"/v1/compliance/quota?buyer_id_number={buyer}&year={datetime.now(UTC).year}"
    path = f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/returns"
    assert_problem(await compliance.post(path, headers=tenant.auth("integration")), 409)  # not released
    await _post(compliance, tenant, inventory_receipt(cop_no, 800, recent(), invt_no="I" + order_no[:17]))
    used = (await compliance.get(quota, headers=tenant.auth())).json()["used"]
    assert used == "4820.00"

    # one of the two scarves first: refused by customs, nothing restored
    r = await compliance.post(path, json={"reason": "torn", "lines": [{"gnum": 1, "qty": "1"}]}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["state"], first["lines"]) == ("requested", [{"gnum": "1", "qty": "1"}])
    body = await _xml(compliance, tenant, r.headers["location"])
    doc = etree.fromstring(body)
    assert doc.tag == f"{{{CEB}}}CEB625Message"
    validator = schema("import")
    assert validator.validate(doc), validator.error_log
    assert verify(body) == "sm2"
    assert doc.findtext(".//ceb:InvtRefundList/ceb:qty", namespaces=NS) == "1"
    over = {"lines": [{"gnum": 1, "qty": "2"}]}  # only one is left to return while the first is pending
    assert_problem(await compliance.post(path, json=over, headers=tenant.auth()), 422)
    assert_problem(await compliance.post(path, json={"lines": [{"gnum": 9, "qty": "1"}]}, headers=tenant.auth()), 422)
    await _post(compliance, tenant, answer("CEB626Message", "InvtRefundReturn", first["cop_no"], 100))
    assert (await compliance.get(quota, headers=tenant.auth())).json()["used"] == "4820.00"
    assert (await seller.order(order_no))["state"] == "released"

    # the whole order: approved → returned_by_buyer and the quota given back
    r = await compliance.post(path, json={"reason": "wrong size"}, headers=tenant.auth())
    assert r.status_code == 201 and r.json()["lines"] == [{"gnum": "1", "qty": "2"}]
    assert (await compliance.get(quota, headers=tenant.auth())).json()["used"] == "4820.00"
    receipt = answer("CEB626Message", "InvtRefundReturn", r.json()["cop_no"], 399)
    assert schema("import").validate(etree.fromstring(receipt))
    await _post(compliance, tenant, receipt)
    assert (await seller.order(order_no))["state"] == "returned_by_buyer"
    assert (await compliance.get(quota, headers=tenant.auth())).json()["used"] == "0.00"
    await _post(compliance, tenant, receipt)  # a repeat changes nothing
    assert (await seller.order(order_no))["state"] == "returned_by_buyer"
