"""The annual limit counts per buyer per calendar year of the DECLARATION, in customs' calendar (China time): an
order taken on 31 December at 23:30 and declared on 1 January counts in the new year, though it is still
31 December in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.compliance.orders import declaration as orders_declaration
from services.compliance.orders import intake as orders_intake
from services.compliance.orders import locks as orders_locks
from services.compliance.orders import matching as orders_matching
from services.compliance.orders import state as orders_state
from tests.compliance.support import Seller, buyer_id, new_order_no, payment, profile_of, shopify_order, waybill

PRICE, TAX, TOTAL = "2400.00", "438.62", "5258.62"  # dutiable value 4820.00 each (tests/compliance/test_quota.py)
#: 20:00 on 31 December in China
EVENING = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
#: 23:30 on 31 December in China (15:30 UTC)
BEFORE_MIDNIGHT = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)
#: 00:10 on 1 January 2027 in China, still 31 December 2026 (16:10) in UTC
AFTER_MIDNIGHT = datetime(2026, 12, 31, 16, 10, tzinfo=UTC)


class Clock:
    """What ``utcnow`` answers where orders are taken, compared and declared."""

    def __init__(self, monkeypatch: Any, now: datetime):
        self.now = now
        for module in (orders_intake, orders_state, orders_locks, orders_matching, orders_declaration):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)


async def _order_and_payment(seller: Seller, buyer: str) -> str:
    order_no = new_order_no()
    for r in (
        await seller.send_order(shopify_order(order_no, buyer=buyer, price=PRICE, tax=TAX)),
        await seller.send_payment(payment(order_no, buyer=buyer, amount=TOTAL)),
    ):
        assert r.status_code in (200, 201), r.text
    return order_no


async def _used(seller: Seller, buyer: str, year: int) -> str:
    r = await seller.client.get(
        f"/v1/compliance/quota?buyer_id_number={buyer}&year={year}", headers=seller.tenant.auth("analyst")
    )
    assert r.status_code == 200, r.text
    return str(r.json()["used"])


async def test_an_order_taken_on_new_years_eve_and_declared_on_new_years_day_counts_in_the_new_year(
    compliance, tenant, monkeypatch
):
    clock = Clock(monkeypatch, EVENING)
    seller = await Seller(compliance, tenant).setup()
    buyer = buyer_id(400)
    for _ in range(5):  # 24,100.00 of 2026's 26,000.00 used that evening
        order_no = await _order_and_payment(seller, buyer)
        assert (await seller.send_waybill(waybill(order_no))).status_code in (200, 201)
        assert (await seller.order(order_no))["state"] == "declared"
    assert await _used(seller, buyer, 2026) == "24100.00"

    clock.now = BEFORE_MIDNIGHT  # the order is taken, paid
    order_no = await _order_and_payment(seller, buyer)
    clock.now = AFTER_MIDNIGHT  # its waybill comes after midnight in China: compared and declared in 2027
    assert (await seller.send_waybill(waybill(order_no))).status_code in (200, 201)
    view = await seller.order(order_no)
    assert view["state"] == "declared", [c for c in view["checks"] if not c["passed"]]
    annual = next(c for c in view["checks"] if c["rule"] == "annual_limit")
    assert annual["passed"] and annual["detail"].startswith("2027 total with this order 4820.00"), annual
    assert view["quota"]["year"] == 2027 and view["quota"]["used"] == "4820.00"
    assert (await _used(seller, buyer, 2026), await _used(seller, buyer, 2027)) == ("24100.00", "4820.00")


async def test_an_order_declared_before_midnight_in_china_counts_in_the_old_year(compliance, tenant, monkeypatch):
    clock = Clock(monkeypatch, EVENING)
    seller = await Seller(compliance, tenant).setup()
    buyer = buyer_id(401)
    order_no = await _order_and_payment(seller, buyer)
    clock.now = BEFORE_MIDNIGHT  # 23:30 in China
    assert (await seller.send_waybill(waybill(order_no))).status_code in (200, 201)
    assert (await seller.order(order_no))["quota"]["year"] == 2026
    assert (await _used(seller, buyer, 2026), await _used(seller, buyer, 2027)) == ("4820.00", "0.00")


async def test_an_order_matched_in_the_old_year_and_declared_in_the_new_one_counts_in_the_new_year(
    compliance, tenant, monkeypatch
):
    """No customs profile yet: the order waits ``matched``; it is declared once the profile is saved, after
    midnight in China, and counts in that year."""
    clock = Clock(monkeypatch, BEFORE_MIDNIGHT)
    seller = await Seller(compliance, tenant).setup(profile=False)
    buyer = buyer_id(402)
    order_no = await _order_and_payment(seller, buyer)
    assert (await seller.send_waybill(waybill(order_no))).status_code in (200, 201)
    assert (await seller.order(order_no))["state"] == "matched"
    clock.now = AFTER_MIDNIGHT
    r = await compliance.put("/v1/compliance/customs-profile", json=profile_of(tenant), headers=tenant.auth())
    assert r.status_code == 201, r.text
    view = await seller.order(order_no)
    assert (view["state"], view["quota"]["year"]) == ("declared", 2027)
    assert (await _used(seller, buyer, 2026), await _used(seller, buyer, 2027)) == ("0.00", "4820.00")
