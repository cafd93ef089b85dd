"""Above the ¥5,000 single limit, one item still clears at full duty, VAT and consumption tax (财关税〔2018〕49号
art. 2), counted toward the annual total; tax is computed per line and tax type as customs' tax bill shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from services.compliance.orders import rules
from tests.compliance.support import ITEM, Seller, buyer_id, new_order_no, payment, shopify_order, waybill

FEN = Decimal("0.01")


def reference_tax(lines: list[tuple[Decimal, Decimal, Decimal, Decimal]], value: Decimal, full: bool) -> Decimal:
    """An independent statement of customs' computation: value shared by line totals (the last line takes the
    remainder), then per line duty, VAT and consumption tax each rounded half up to the fen."""
    base = sum(t for t, *_ in lines)
    total, given_out = Decimal(0), Decimal(0)
    for i, (line_total, v, c, d) in enumerate(lines):
        share = value - given_out if i == len(lines) - 1 else value * line_total / base
        given_out += share
        if full:
            duty = share * d
            amounts = [duty, (share + duty) / (1 - c) * v, (share + duty) / (1 - c) * c]
        else:
            amounts = [Decimal(0), Decimal("0.7") * share / (1 - c) * v, Decimal("0.7") * share / (1 - c) * c]
        total += sum(a.quantize(FEN, rounding=ROUND_HALF_UP) for a in amounts)
    return total


line = st.tuples(
    st.decimals(min_value=Decimal("1"), max_value=Decimal("3000"), places=2),
    st.sampled_from([Decimal("0.13"), Decimal("0.09")]),
    st.sampled_from([Decimal("0"), Decimal("0.15"), Decimal("0.30")]),
    st.sampled_from([Decimal("0"), Decimal("0.05"), Decimal("0.1")]),
)


@given(st.lists(line, min_size=1, max_size=5), st.decimals(min_value=0, max_value=Decimal("200"), places=2),
       st.booleans())  # fmt: skip
# 70 % of 7.45 over 1 − 30 %: consumption tax exactly 2.235, half up 2.24 (dividing first once gave 2.23)
@example([(Decimal("4.63"), Decimal("0.13"), Decimal("0.30"), Decimal("0"))], Decimal("2.82"), False)
def test_per_line_tax_equals_the_reference_and_stays_within_rounding_of_a_single_rounding(lines, freight, full):
    value = sum(t for t, *_ in lines) + freight
    tax_lines = [rules.TaxLine(t, v, c, d) for t, v, c, d in lines]
    computed = rules.line_tax_total(tax_lines, value, full)
    assert computed == reference_tax(lines, value, full)
    if not full:
        assert abs(computed - rules.order_tax(tax_lines, value)) <= rules.rounding_tolerance(tax_lines)


async def _record(seller: Seller, sku: str, duty: str, consumption: str = "0") -> None:
    body = {**ITEM, "gname": "Golf launch monitor", "duty_rate": duty, "consumption_tax_rate": consumption}
    r = await seller.client.put(f"/v1/compliance/items/{sku}", json=body, headers=seller.tenant.auth())
    assert r.status_code == 201, r.text
    assert Decimal(r.json()["duty_rate"]) == Decimal(duty)


async def _buy(seller: Seller, buyer: str, *, sku: str, price: str, qty: int, tax: str) -> dict:  # type: ignore[no-untyped-def]
    order_no = new_order_no()
    order = shopify_order(order_no, buyer=buyer, price=price, qty=qty, tax=tax, sku=sku)
    total = Decimal(price) * qty + Decimal("20.00") + Decimal(tax)
    pay = payment(order_no, buyer=buyer, amount=f"{total:.2f}")
    return await seller.deliver_all(order_no, buyer=buyer, order=order, pay=pay, ship=waybill(order_no))


async def test_one_item_above_5000_clears_at_full_tax_and_counts_toward_the_year(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    await _record(seller, "SIM-1", "0.1")
    buyer = buyer_id(90)
    # dutiable 5620.00: duty 562.00, VAT (5620 + 562) × 13% = 803.66, consumption 0 → 1365.66
    view = await _buy(seller, buyer, sku="SIM-1", price="5600.00", qty=1, tax="1365.66")
    assert view["state"] == "declared", view["checks"]
    assert view["tax"] == "1365.66"
    single = next(c for c in view["checks"] if c["rule"] == "single_limit")
    assert single["passed"] and "full tax" in single["detail"]
    year = datetime.now(UTC).year
    r = await compliance.get(f"/v1/compliance/quota?buyer_id_number={buyer}&year={year}", headers=tenant.auth())
    assert r.json()["used"] == "5620.00"
    # the retail rate (70% of VAT) is not what full tax asks
    cheaper = await _buy(seller, buyer_id(91), sku="SIM-1", price="5600.00", qty=1, tax="511.42")
    assert [c["rule"] for c in cheaper["checks"] if not c["passed"]] == ["tax"]
    # two of them above ¥5,000 are not cross-border retail
    two = await _buy(seller, buyer_id(92), sku="SIM-1", price="2800.00", qty=2, tax="1365.66")
    assert "single_limit" in [c["rule"] for c in two["checks"] if not c["passed"]]


async def test_full_tax_with_consumption_tax_and_a_difference_within_rounding(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    await _record(seller, "COS-1", "0.05", "0.15")
    # 6020.00: duty 301.00; (6321.00 / 0.85) = 7436.4706 → VAT 966.74, consumption 1115.47 → 2383.21
    view = await _buy(seller, buyer_id(93), sku="COS-1", price="6000.00", qty=1, tax="2383.21")
    assert view["state"] == "declared", view["checks"]
    off_by_a_fen = await _buy(seller, buyer_id(94), sku="COS-1", price="6000.00", qty=1, tax="2383.22")
    assert off_by_a_fen["state"] == "declared", off_by_a_fen["checks"]
    above_the_year = await _buy(seller, buyer_id(93), sku="COS-1", price="21000.00", qty=1, tax="8312.09")
    assert "annual_limit" in [c["rule"] for c in above_the_year["checks"] if not c["passed"]]
