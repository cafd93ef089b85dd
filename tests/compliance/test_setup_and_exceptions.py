from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from services.compliance.orders.models import Order, Payment, Waybill
from shared.context import context_of
from shared.db import utcnow
from tests.compliance.support import (
    EBP,
    Seller,
    buyer_id,
    canonical_order,
    new_order_no,
    payment,
    profile,
    shopify_order,
    waybill,
)
from tests.support import assert_problem


async def test_documents_arriving_together_are_matched_once(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    for n in range(3):
        order_no, b = new_order_no(), buyer_id(60 + n)
        results = await asyncio.gather(
            seller.send_order(shopify_order(order_no, buyer=b)),
            seller.send_payment(payment(order_no, buyer=b)),
            seller.send_waybill(waybill(order_no)),
        )
        assert all(r.status_code == 200 for r in results), [r.text for r in results]
        assert (await seller.order(order_no))["state"] == "declared"


async def test_documents_waiting_too_long_are_exceptions(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    waiting, orphan, b = new_order_no(), new_order_no(), buyer_id(70)
    await seller.send_order(shopify_order(waiting, buyer=b))
    await seller.send_payment(payment(orphan, buyer=b))
    fresh = await compliance.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))
    assert waiting not in {e["order_no"] for e in fresh.json()["items"]}
    old = utcnow() - timedelta(hours=25)
    async with context_of(compliance_app).sessionmaker() as session:
        await session.execute(update(Order).where(Order.order_no == waiting).values(created_at=old))
        await session.execute(update(Payment).where(Payment.order_no == orphan).values(created_at=old))
        await session.commit()
    r = await compliance.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))
    body = r.json()
    listed = {e["order_no"]: e for e in body["items"]}
    assert listed[waiting]["reason"] == "missing_documents"
    assert listed[waiting]["missing"] == ["payment", "waybill"]
    assert [(a["action"], a["path"]) for a in listed[waiting]["actions"]] == [
        ("send_documents", "/v1/compliance/payments"), ("send_documents", "/v1/compliance/waybills")
    ]  # fmt: skip
    assert listed[waiting]["cause"] == "no payment and no waybill arrived for this order"
    assert [o["order_no"] for o in body["orphans"]] == [orphan]


async def test_an_orphan_is_a_document_with_no_order_of_its_own(compliance, compliance_app, tenant):
    """A payment waits for an order of its own platform and number, a waybill for an order of its number, whichever
    arrives first and whether the order came from a platform's webhook or the API."""
    seller = await Seller(compliance, tenant).setup()
    b, integration = buyer_id(71), tenant.auth("integration")
    payment_alone, waybill_alone, two_platforms, order_last, api_order_last = (new_order_no() for _ in range(5))
    sent = [
        await seller.send_payment(payment(payment_alone, buyer=b)),
        await seller.send_waybill(waybill(waybill_alone)),
        # an order of one platform; a payment of the same number naming another platform, and a waybill
        await seller.send_order(shopify_order(two_platforms, buyer=b)),
        await seller.send_payment({**payment(two_platforms, buyer=b), "ebp_code": "2105910159"}),
        await seller.send_waybill(waybill(two_platforms)),
        # the payment and the waybill first, their order last
        await seller.send_payment(payment(order_last, buyer=b)),
        await seller.send_waybill(waybill(order_last)),
        await seller.send_order(shopify_order(order_last, buyer=b)),
    ]
    assert all(r.status_code == 200 for r in sent), [r.text for r in sent]
    for path, body in (("payments", payment(api_order_last, buyer=b)), ("waybills", waybill(api_order_last))):
        r = await compliance.post(f"/v1/compliance/{path}", json=body, headers=integration)
        assert r.status_code == 201, r.text
    r = await compliance.post("/v1/compliance/orders", json=canonical_order(api_order_last, b), headers=integration)
    assert r.status_code == 201, r.text

    old = utcnow() - timedelta(hours=25)
    async with context_of(compliance_app).sessionmaker() as session:
        for model in (Payment, Waybill):
            await session.execute(update(model).where(model.org_id == tenant.org_id).values(created_at=old))
        await session.commit()
    r = await compliance.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    orphans = sorted((o["kind"], o["order_no"], o["ebp_code"]) for o in r.json()["orphans"])
    assert orphans == sorted([
        ("payment", payment_alone, EBP), ("waybill", waybill_alone, None), ("payment", two_platforms, "2105910159"),
    ])  # fmt: skip


async def test_customs_profile_is_admin_only_and_honours_if_match(compliance, tenant):
    admin, mine = tenant.auth(), profile(tenant)
    assert_problem(await compliance.get("/v1/compliance/customs-profile", headers=admin), 404)
    assert_problem(
        await compliance.put("/v1/compliance/customs-profile", json=mine, headers=tenant.auth("analyst")), 403
    )
    r = await compliance.put("/v1/compliance/customs-profile", json=mine, headers=admin)
    assert r.status_code == 201 and r.headers["etag"]
    etag = r.headers["etag"]
    changed = {**mine, "port_code": "4605"}
    r = await compliance.put("/v1/compliance/customs-profile", json=changed, headers={**admin, "If-Match": etag})
    assert r.status_code == 200 and r.json()["port_code"] == "4605"
    r = await compliance.put("/v1/compliance/customs-profile", json=mine, headers={**admin, "If-Match": etag})
    assert_problem(r, 412)
    assert_problem(await compliance.put("/v1/compliance/customs-profile", json={**mine, "trade_mode": "0110"},
                                        headers=admin), 422)  # fmt: skip


async def test_payment_institutions_are_unique_by_pay_code(compliance, tenant):
    await Seller(compliance, tenant).setup()
    body = {"pay_code": "PAY0000001", "name": "Again", "licence_no": "Z1", "scopes": ["internet_payment"]}
    assert_problem(await compliance.post("/v1/compliance/payment-institutions", json=body, headers=tenant.auth()), 409)
    r = await compliance.get("/v1/compliance/payment-institutions", headers=tenant.auth("analyst"))
    assert [i["pay_code"] for i in r.json()["items"]] == ["PAY0000001"]


async def test_without_a_customs_profile_a_match_waits_for_declaration(compliance, tenant):
    seller = await Seller(compliance, tenant).setup(profile=False)
    order_no, b = new_order_no(), buyer_id(71)
    view = await seller.deliver_all(order_no, buyer=b)
    assert view["state"] == "matched" and view["declaration_id"] is None
