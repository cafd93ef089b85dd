"""The annual limit counts across a buyer's orders, and a return within 30 days of release restores it once
customs approves it."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from tests.compliance.support import Seller, answer, buyer_id, new_order_no, payment, recent, shopify_order, waybill
from tests.compliance.test_messages import CEB, receipt_622, send
from tests.support import assert_problem

PRICE, TAX, TOTAL = "2400.00", "438.62", "5258.62"  # dutiable value 4820.00 each; 0.7 × 4820 × 13% = 438.62


async def _buy(seller: Seller, buyer: str) -> dict:  # type: ignore[no-untyped-def]
    order_no = new_order_no()
    return await seller.deliver_all(
        order_no,
        buyer=buyer,
        order=shopify_order(order_no, buyer=buyer, price=PRICE, tax=TAX),
        pay=payment(order_no, buyer=buyer, amount=TOTAL),
        ship=waybill(order_no),
    )


async def test_annual_limit_counts_across_orders_and_a_return_restores_it(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    buyer = buyer_id(40)
    first = await _buy(seller, buyer)
    for _ in range(4):
        assert (await _buy(seller, buyer))["state"] == "declared"
    reader = tenant.auth("analyst")
    year = datetime.now(UTC).year
    r = await compliance.get(f"/v1/compliance/quota?buyer_id_number={buyer}&year={year}", headers=reader)
    assert r.status_code == 200
    assert r.json()["used"] == "24100.00" and r.json()["remaining"] == "1900.00"
    assert r.json()["buyer_id_number"] == "1101**********0040" and buyer not in r.text

    sixth = await _buy(seller, buyer)
    assert sixth["state"] == "mismatch"
    failing = [c for c in sixth["checks"] if not c["passed"]]
    assert [c["rule"] for c in failing] == ["annual_limit"]
    assert "28920.00" in failing[0]["detail"]

    # a return before release is refused; after release it restores the quota
    path = f"/v1/compliance/orders/{first['ebp_code']}/{first['order_no']}/returns"
    assert_problem(await compliance.post(path, headers=tenant.auth("integration")), 409)
    xml = await compliance.get(f"/v1/compliance/declarations/{first['declaration_id']}/xml", headers=tenant.auth())
    cop_no = etree.fromstring(xml.content).findtext(f".//{{{CEB}}}copNo")
    await send(compliance, tenant, receipt_622(cop_no, 800, recent()))
    r = await compliance.post(path, headers=tenant.auth("integration"))
    assert r.status_code == 201 and r.json()["state"] == "requested"
    quota = f"/v1/compliance/quota?buyer_id_number={buyer}"
    assert (await compliance.get(quota, headers=reader)).json()["used"] == "24100.00"  # not until customs agrees
    await send(compliance, tenant, answer("CEB626Message", "InvtRefundReturn", r.json()["cop_no"], 399))
    assert (await seller.order(first["order_no"]))["state"] == "returned_by_buyer"
    assert (await compliance.get(quota, headers=reader)).json()["used"] == "19280.00"
    assert (await _buy(seller, buyer))["state"] == "declared"


async def test_another_buyer_has_their_own_quota(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    for n in (41, 42):
        assert (await _buy(seller, buyer_id(n)))["state"] == "declared"
    r = await compliance.get(f"/v1/compliance/quota?buyer_id_number={buyer_id(41)}", headers=tenant.auth())
    assert r.json()["used"] == "4820.00"


async def test_daily_report_counts_states_and_failing_rules(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    await _buy(seller, buyer_id(43))
    order_no = new_order_no()
    await seller.deliver_all(order_no, buyer=buyer_id(43), ship=waybill(order_no, name="Somebody Else"))
    r = await compliance.get("/v1/compliance/reports/daily", headers=tenant.auth("analyst"))
    assert r.status_code == 200
    report = r.json()
    assert report["counts_by_state"] == {"declared": 1, "mismatch": 1}
    assert report["match_rate"] == "0.50"
    assert report["top_failing_rules"] == [{"rule": "consignee", "count": 1}]
