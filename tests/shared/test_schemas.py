"""The request-body conventions the fuzzer holds the services to: what the OpenAPI document promises is what
validation accepts — decimals as bounded decimal text, days and times in ISO form only, integers as JSON
integers, PATCH fields that may be left out but not nulled."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, ValidationError

from shared.schemas import (
    DECIMAL_TEXT,
    Amount,
    DecimalText,
    IsoDate,
    IsoDateTime,
    Money,
    Name,
    NonNegativeAmount,
    Omittable,
    Schema,
    format_decimal,
)


class Body(Schema):
    amount: Amount = Decimal(0)
    price: NonNegativeAmount = Decimal(0)
    rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4), DecimalText()] = Decimal(0)
    day: IsoDate | None = None
    at: IsoDateTime | None = None
    count: Annotated[int, Field(ge=0, le=100)] | None = None
    name: Omittable[str] = None


def refused(**fields: Any) -> bool:
    try:
        Body(**fields)
    except ValidationError:
        return True
    return False


@given(st.from_regex(DECIMAL_TEXT, fullmatch=True))
def test_every_decimal_text_the_schema_allows_is_read_as_that_number(text: str) -> None:
    try:
        body = Body(amount=text)
    except ValidationError:  # allowed text, but more digits or places than an amount has
        assert len(text.lstrip("-").split(".")[0].lstrip("0")) > 14 or len(text.partition(".")[2].rstrip("0")) > 4
        return
    assert body.amount == Decimal(text)


@pytest.mark.parametrize("text", ["0" * 39, "1e5", " 1", "1 ", "1_000", "NaN", "Infinity", "+1", "1.", ".5", "", "０"])
def test_decimal_text_outside_the_pattern_is_refused(text: str) -> None:
    assert refused(amount=text)


def test_decimal_json_numbers_are_taken_and_booleans_are_not() -> None:
    assert Body(amount=12.5, rate=0.25).amount == Decimal("12.5")
    assert refused(amount=True) and refused(rate=False)


def test_the_openapi_document_states_the_decimal_text_and_the_bounds() -> None:
    props = Body.model_json_schema()["properties"]
    text = next(b for b in props["amount"]["anyOf"] if b["type"] == "string")
    assert text["maxLength"] == 38 and (text["x-minimum"], text["x-maximum"]) == ("-100000000000000", "100000000000000")
    # the string branch takes the digits the amount takes (14 before the point, 4 after, as pydantic counts)
    for value in ("99999999999999.9999", "1.50000", "0001", "-5", "100000000000000", "1.00001", "1e5", "0" * 39):
        assert bool(re.fullmatch(text["pattern"], value)) == (not refused(amount=value)), value
    assert re.fullmatch(DECIMAL_TEXT, "1.00001")  # the general pattern, for decimals without a digit limit
    number = next(b for b in props["price"]["anyOf"] if b["type"] == "number")
    assert number["minimum"] == 0  # the bound of a non-negative amount is on the number, not a stray key
    assert refused(price="-0.01") and not refused(price="0.00")
    # and on the string: its pattern takes what the service takes, within DECIMAL_TEXT (bounds and places)
    price = next(b for b in props["price"]["anyOf"] if b["type"] == "string")
    assert price["x-minimum"] == "0"
    for value in ("-0.01", "0.00", "12.5", "12.34567", "99999999999999.9999", "100000000000000", "1e3"):
        assert (re.search(price["pattern"], value) is None) == refused(price=value), value
        assert re.search(price["pattern"], value) is None or re.fullmatch(DECIMAL_TEXT, value)
    assert re.fullmatch(DECIMAL_TEXT, "0" * 24 + "." + "0" * 12) and len("0" * 24 + "." + "0" * 12) <= 38


@pytest.mark.parametrize("value", [0, 1_000_000_000, "0", "1000000000", "2026-1-01", "2026-01-01T00:00:00Z", True])
def test_a_day_is_only_yyyy_mm_dd(value: Any) -> None:
    assert refused(day=value)


def test_a_day_reads_as_that_day() -> None:
    assert Body(day="2026-09-01").day == date(2026, 9, 1)
    assert refused(day="2026-02-30")


@pytest.mark.parametrize(
    "value", [0, "0", "1700000000", "2026-09-01", "2026-09-01T08:00:00", "2026-09-01T08:00Z", datetime(2026, 9, 1)]
)
def test_a_time_is_only_rfc3339_with_its_offset(value: Any) -> None:
    assert refused(at=value)


@pytest.mark.parametrize(
    "value", ["2026-09-01T08:00:00Z", "2026-09-01T16:00:00+08:00", "2026-09-01 08:00:00.123+00:00"]
)
def test_rfc3339_times_are_read_in_their_zone(value: str) -> None:
    at = Body(at=value).at
    assert at is not None and at.astimezone(UTC).replace(microsecond=0) == datetime(2026, 9, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize("value", [True, False, "5", "", "5.0"])
def test_an_integer_is_a_json_integer(value: Any) -> None:
    assert refused(count=value)


def test_integers_within_bounds_are_taken() -> None:
    assert Body(count=5).count == 5 and refused(count=101)


def test_an_omittable_field_may_be_left_out_but_not_nulled() -> None:
    assert Body().name is None and Body(name="x").name == "x"
    assert refused(name=None)
    assert "null" not in str(Body.model_json_schema()["properties"]["name"].get("anyOf", ""))


def test_money_keeps_its_currency_code_and_nul_bytes_stay_out() -> None:
    assert Money(amount="1999.00", currency="USD").model_dump(mode="json") == {"amount": "1999.00", "currency": "USD"}
    assert refused(name="a\x00b")


class Named(Schema):
    name: Name


@pytest.mark.parametrize(("sent", "kept"), [("  Golf kit ", "Golf kit"), ("x" * 200, "x" * 200), ("\tA\n", "A")])
def test_names_are_trimmed(sent: str, kept: str) -> None:
    assert Named(name=sent).name == kept


@pytest.mark.parametrize("sent", ["", "   ", "\t\n", " " + "x" * 200, "x" * 199 + "  "])
def test_names_are_bounded_as_sent_and_never_blank(sent: str) -> None:
    with pytest.raises(ValidationError):
        Named(name=sent)
    schema = Named.model_json_schema()["properties"]["name"]
    assert len(sent) > schema["maxLength"] or re.search(schema["pattern"], sent) is None  # the document says so too


def _canonical_by_arithmetic(value: Decimal) -> str:
    """The canonical text as decimal arithmetic defines it: normalised, then at least two places."""
    normalized = value.normalize()
    if normalized.as_tuple().exponent > -2:  # type: ignore[operator]
        normalized = normalized.quantize(Decimal("0.01"))
    return format(normalized, "f")


def _within_precision(value: Decimal) -> bool:
    """Whether decimal arithmetic's 28 digits hold ``value`` with two places (the reference raises beyond)."""
    return len(value.as_tuple().digits) <= 28 and max(value.adjusted(), 0) + 3 <= 28


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(_within_precision))
def test_a_decimals_canonical_text_is_its_normalised_value_with_two_places_at_least(value: Decimal) -> None:
    assert format_decimal(value) == _canonical_by_arithmetic(value)
    assert Decimal(format_decimal(value)) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [("1999", "1999.00"), ("1.5", "1.50"), ("0.1234", "0.1234"), ("12.3400", "12.34"), ("1E+2", "100.00"),
     ("-0", "-0.00"), ("0E-10", "0.00"), ("-7.000001", "-7.000001"), ("1E+30", "1" + "0" * 30 + ".00")],
)  # fmt: skip
def test_canonical_decimal_texts(value: str, text: str) -> None:
    assert format_decimal(Decimal(value)) == text
