"""Tax, normalisation, masking, checks and receipts as pure functions."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.compliance.customs.declarations import num
from services.compliance.orders import receipts, rules
from services.compliance.pii import Pii, mask

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=2)
rate = st.sampled_from([Decimal("0.13"), Decimal("0.09")])
consumption = st.sampled_from([Decimal("0"), Decimal("0.15"), Decimal("0.30")])


def test_tax_examples_from_the_rules():
    assert rules.retail_tax(Decimal("100"), Decimal("0.13"), Decimal("0")) == Decimal("9.10")
    assert rules.retail_tax(Decimal("1000"), Decimal("0.13"), Decimal("0.15")) == Decimal("230.59")
    assert rules.retail_tax(Decimal("0.05"), Decimal("0.13"), Decimal("0")) == Decimal("0.00")
    # half up at the fen: 0.7 × 5.5 × 13% = 0.5005 → 0.50; 0.7 × 50 × 0.13 = 4.55 exactly
    assert rules.retail_tax(Decimal("50"), Decimal("0.13"), Decimal("0")) == Decimal("4.55")
    assert rules.round_fen(Decimal("0.005")) == Decimal("0.01")


@given(money, rate, consumption)
def test_one_rate_group_taxes_the_whole_value(value, v, c):
    lines = [rules.TaxLine(Decimal("10"), v, c), rules.TaxLine(Decimal("30"), v, c)]
    assert rules.order_tax(lines, value) == rules.retail_tax(value, v, c)


@given(money, money, money)
def test_tax_grows_with_value_and_is_in_fen(a, b, extra):
    low, high = sorted([a, b])
    t_low = rules.retail_tax(low, Decimal("0.13"), Decimal("0"))
    t_high = rules.retail_tax(high + extra, Decimal("0.13"), Decimal("0"))
    assert t_low <= t_high
    assert t_high == t_high.quantize(Decimal("0.01"))


def test_two_rate_groups_share_the_value_by_line_totals():
    lines = [rules.TaxLine(Decimal("100"), Decimal("0.13"), Decimal("0")),
             rules.TaxLine(Decimal("100"), Decimal("0.09"), Decimal("0"))]  # fmt: skip
    # 220 shared 110/110: 0.7 × (110 × 0.13 + 110 × 0.09) = 16.94
    assert rules.order_tax(lines, Decimal("220")) == Decimal("16.94")


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86 ", "0086", "86-", "+86-"]))
def test_phone_formatting_does_not_matter(number, prefix):
    spaced = f"{number[:3]} {number[3:7]}-{number[7:]}"
    assert rules.normalise_phone(prefix + spaced) == number


@given(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=20))
def test_whitespace_and_width_do_not_matter(word):
    assert rules.normalise_text(f"  {word}\u3000\t{word} ") == rules.normalise_text(f"{word} {word}")


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_masks_keep_four_and_four(id_number):
    masked = mask(id_number)
    assert masked[:4] == id_number[:4] and masked[-4:] == id_number[-4:] and masked[4:-4] == "*" * 10


def test_pii_round_trip_lookup_and_binding(tmp_path):
    pii = Pii.from_setting(None, tmp_path)
    again = Pii.from_setting(None, tmp_path)  # the generated key is kept in the data dir
    sealed = pii.encrypt("110101199001011234", "buyer:org1")
    assert "1234" not in sealed
    assert again.decrypt(sealed, "buyer:org1") == "110101199001011234"
    assert pii.lookup_hash("110101199001011234") == again.lookup_hash(" 110101199001011234 ")
    try:
        pii.decrypt(sealed, "buyer:org2")
    except Exception:
        pass
    else:
        raise AssertionError("a value sealed for one organisation must not open for another")


def test_receipt_codes_move_orders_by_customs_state_machine():
    step = receipts.inventory_transition
    assert [step("declared", 120), step("accepted", 399), step("cleared", 800), step("released", 899)] == [
        "accepted", "cleared", "released", "closed"
    ]  # fmt: skip
    assert step("accepted", 100) == "rejected"  # a refusal after acceptance is a refusal
    assert step("cleared", 500) == "inspection"  # inspection after clearance holds the order
    assert step("cleared", 502) == "detained"
    assert step("declared", 2) is None and step("declared", -1) == "rejected"
    assert step("released", 100) is None and step("released", 399) is None  # released stays released
    assert step("closed", 800) is None and step("cancelled", 120) is None
    assert step("cancel_requested", 120) is None and step("cancel_requested", 800) == "released"
    assert receipts.document_transition("declared", 100) == "rejected"
    assert receipts.document_transition("released", 100) is None


def test_limits_changed_in_2019():
    assert rules.limits_for(2018) == rules.Limits(Decimal("2000"), Decimal("20000"))
    assert rules.limits_for(2026) == rules.Limits(Decimal("5000"), Decimal("26000"))


def test_customs_numbers_have_at_most_five_places():
    assert num(Decimal("14000")) == "14000"
    assert num("0.123456") == "0.12346"
    assert num(Decimal("1E+2")) == "100"
