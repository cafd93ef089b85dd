"""``order.returned``: what came back of a released order with customs' approval, for campaigns to deduct from the
revenue it attributed to the order's campaign — the returned lines' share of what the buyer paid after a partial
return, the whole amount once everything came back; nothing while customs has not approved."""

from __future__ import annotations

from lxml import etree

from tests.compliance.support import (
    Seller,
    answer,
    buyer_id,
    inventory_receipt,
    new_order_no,
    payment,
    recent,
    shopify_order,
    waybill,
)
from tests.compliance.test_events import events_of
from tests.compliance.test_withdrawal_returns import NS, PRICE, TAX, TOTAL, _post, _xml


async def test_approved_returns_publish_what_came_back(compliance, compliance_app, tenant, sm2_signer):  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    buyer = buyer_id(74)
    order_no = new_order_no()
    view = await seller.deliver_all(
        order_no, buyer=buyer, order=shopify_order(order_no, buyer=buyer, price=PRICE, tax=TAX),
        pay=payment(order_no, buyer=buyer, amount=TOTAL), ship=waybill(order_no),
    )  # fmt: skip
    assert view["state"] == "declared", view["checks"]
    cop_no = etree.fromstring(
        await _xml(compliance, tenant, f"/v1/compliance/declarations/{view['declaration_id']}/xml")
    ).findtext(".//ceb:copNo", namespaces=NS)
    await _post(compliance, tenant, inventory_receipt(cop_no, 800, recent(), invt_no="I" + order_no[:17]))
    path = f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/returns"

    async def returned() -> list[dict]:  # type: ignore[type-arg]
        return [
            e.payload for e in await events_of(compliance_app, tenant.org_id, order_no) if e.type == "order.returned"
        ]

    # one of the two scarves: requested, then refused — nothing came back
    r = await compliance.post(path, json={"lines": [{"gnum": 1, "qty": "1"}]}, headers=tenant.auth())
    await _post(compliance, tenant, answer("CEB626Message", "InvtRefundReturn", r.json()["cop_no"], 100))
    assert await returned() == []
    # asked again and approved: half the goods came back, so half of the 5258.62 paid
    r = await compliance.post(path, json={"lines": [{"gnum": 1, "qty": "1"}]}, headers=tenant.auth())
    await _post(compliance, tenant, answer("CEB626Message", "InvtRefundReturn", r.json()["cop_no"], 399))
    (partial,) = await returned()
    assert (partial["state"], partial["amount"], partial["returned_amount"]) == ("released", TOTAL, "2629.31")
    assert partial["utm_campaign"] == view.get("utm_campaign") and partial["currency"] == "CNY"
    # the other scarf: everything came back, the whole amount
    r = await compliance.post(path, json={}, headers=tenant.auth())
    await _post(compliance, tenant, answer("CEB626Message", "InvtRefundReturn", r.json()["cop_no"], 399))
    whole = (await returned())[-1]
    assert (whole["state"], whole["returned_amount"]) == ("returned_by_buyer", TOTAL)
    assert len(await returned()) == 2
