"""Each rule of the comparison has a case that ends in ``mismatch`` naming it."""

from __future__ import annotations

import pytest

from tests.compliance.support import Seller, buyer_id, new_order_no, payment, shopify_order, waybill


def _case(name: str):  # type: ignore[no-untyped-def]
    order_no = new_order_no()
    b = buyer_id(7)
    order, pay, ship = shopify_order(order_no, buyer=b), payment(order_no, buyer=b), waybill(order_no)
    if name == "order_total":
        order["total_price"] = "250.00"
        pay["amount_paid"] = "250.00"
    elif name == "amount_paid":
        pay["amount_paid"] = "240.00"
    elif name == "consignee":
        ship["consignee"]["name"] = "Li Xiaoke"
    elif name == "payer_identity":
        pay["payer"]["name"] = "Someone Else"
        pay["payer"]["id_number"] = buyer_id(8)
    elif name == "payment_institution":
        pay["pay_code"] = "NOTREGISTERED"
    elif name == "currency":
        pay["currency"] = "USD"
    elif name == "single_limit":
        order = shopify_order(order_no, buyer=b, price="2600.00", tax="475.02")
        pay["amount_paid"] = "5695.02"
    elif name == "item_records":
        order = shopify_order(order_no, buyer=b, sku="NO-SUCH-SKU")
    elif name == "tax":
        order = shopify_order(order_no, buyer=b, tax="10.00")
        pay["amount_paid"] = "230.00"
    return order_no, order, pay, ship


RULES = ["order_total", "amount_paid", "consignee", "payer_identity", "payment_institution", "currency",
         "single_limit", "item_records", "tax"]  # fmt: skip


@pytest.mark.parametrize("rule", RULES)
async def test_a_failing_rule_ends_in_mismatch_naming_it(compliance, tenant, rule):
    seller = await Seller(compliance, tenant).setup()
    order_no, order, pay, ship = _case(rule)
    view = await seller.deliver_all(order_no, buyer=buyer_id(7), order=order, pay=pay, ship=ship)
    assert view["state"] == "mismatch"
    failing = [c["rule"] for c in view["checks"] if not c["passed"]]
    assert rule in failing
    assert view["declaration_id"] is None

    r = await compliance.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))
    assert r.status_code == 200
    listed = {e["order_no"]: e for e in r.json()["items"]}
    assert listed[order_no]["reason"] == "mismatch"
    assert rule in listed[order_no]["failing_rules"]


async def test_a_verified_buyer_may_pay_from_someone_elses_account(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(9)
    pay = payment(order_no, buyer=buyer_id(10), payer_name="Parent Of Buyer")
    view = await seller.deliver_all(order_no, buyer=b, order=shopify_order(order_no, buyer=b, verified=True), pay=pay)
    assert view["state"] == "declared"


async def test_suspended_payment_institution_fails_the_comparison(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    admin = tenant.auth()
    listed = await compliance.get("/v1/compliance/payment-institutions", headers=admin)
    inst = listed.json()["items"][0]
    r = await compliance.patch(f"/v1/compliance/payment-institutions/{inst['id']}", json={"status": "suspended"},
                               headers=admin)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    order_no, b = new_order_no(), buyer_id(11)
    view = await seller.deliver_all(order_no, buyer=b)
    assert view["state"] == "mismatch"
    check = next(c for c in view["checks"] if c["rule"] == "payment_institution")
    assert not check["passed"] and "suspended" in check["detail"]


async def test_documents_waiting_for_counterparts_stay_awaiting(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(12)
    assert (await seller.send_order(shopify_order(order_no, buyer=b))).json()["state"] == "awaiting_documents"
    assert (await seller.send_payment(payment(order_no, buyer=b))).json()["state"] == "awaiting_documents"
    view = await seller.order(order_no)
    assert view["state"] == "awaiting_documents" and view["checks"] == []
    assert view["documents"]["waybill"] is None
