"""The annual limit holds under a burst: one buyer's complete orders settled concurrently never declare more
than the ¥26,000 the buyer may import in a year, whatever order the documents arrive in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from tests.compliance.support import Seller, buyer_id, new_order_no, payment, shopify_order, waybill

PRICE, TAX, TOTAL = "2400.00", "438.62", "5258.62"  # dutiable value ¥4,820 each: five fit in ¥26,000, six do not
ORDERS, IN_FLIGHT = 30, 40

Send = Callable[[], Awaitable[httpx.Response]]


async def _deliver(send: Send) -> None:
    """Deliver like a platform does: a 503 (the database was busy) is retried after a moment."""
    for _ in range(20):
        r = await send()
        if r.status_code != 503:
            assert r.status_code in (200, 201), r.text
            return
        await asyncio.sleep(0.05)
    raise AssertionError("delivery still refused after 20 attempts")


async def _burst(sends: list[Send]) -> None:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(send: Send) -> None:
        async with gate:
            await _deliver(send)

    await asyncio.gather(*(one(s) for s in sends))


def _documents(seller: Seller, buyer: str, order_no: str) -> tuple[Send, Send, Send]:
    order = shopify_order(order_no, buyer=buyer, price=PRICE, tax=TAX)
    return (
        lambda: seller.send_order(order),
        lambda: seller.send_payment(payment(order_no, buyer=buyer, amount=TOTAL)),
        lambda: seller.send_waybill(waybill(order_no)),
    )


@pytest.mark.parametrize("round_", range(5))
@pytest.mark.parametrize("arrival", ["waybills_last", "whole_triples"])
async def test_one_buyers_burst_never_declares_past_the_annual_limit(compliance, tenant, arrival, round_):
    seller = await Seller(compliance, tenant).setup()
    buyer = buyer_id(7000 + round_)
    order_nos = [new_order_no() for _ in range(ORDERS)]
    triples = [_documents(seller, buyer, n) for n in order_nos]
    if arrival == "waybills_last":
        await _burst([send for order, pay, _ in triples for send in (order, pay)])
        await _burst([ship for _, _, ship in triples])
    else:
        await _burst([send for triple in triples for send in triple])

    states = [(await seller.order(n))["state"] for n in order_nos]
    assert states.count("declared") == 5, states
    assert states.count("mismatch") == ORDERS - 5, states
    for n in order_nos:
        order = await seller.order(n)
        if order["state"] == "mismatch":
            assert [c["rule"] for c in order["checks"] if not c["passed"]] == ["annual_limit"]

    # the quota endpoint reads the same truth as the decisions
    year = datetime.now(UTC).year
    r = await compliance.get(
        f"/v1/compliance/quota?buyer_id_number={buyer}&year={year}", headers=tenant.auth("analyst")
    )
    assert r.status_code == 200, r.text
    assert r.json()["used"] == "24100.00" and r.json()["remaining"] == "1900.00"
