"""The pattern put on a decimal's string branch in the OpenAPI document matches exactly the strings the field
accepts: for every kind of bound XBM uses (inclusive, exclusive, negative, below one, with digits and places)."""

from __future__ import annotations

import random
import re
from decimal import Decimal
from typing import Annotated, Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from shared.decimal_range import decimal_pattern
from shared.schemas import DecimalText

BOUNDS: list[dict[str, Any]] = [
    {"gt": 0, "le": Decimal("1e9"), "max_digits": 24, "decimal_places": 12},
    {"ge": 0, "le": Decimal("1e14"), "max_digits": 18, "decimal_places": 4},
    {"ge": Decimal("-1e14"), "le": Decimal("1e14"), "max_digits": 18, "decimal_places": 4},
    {"ge": -1, "le": 3, "max_digits": 9, "decimal_places": 4},
    {"gt": 0, "le": Decimal("0.2"), "max_digits": 6, "decimal_places": 4},
    {"ge": 0, "lt": 1, "max_digits": 6, "decimal_places": 4},
    {"ge": -10, "le": 10, "max_digits": 8, "decimal_places": 4},
    {"gt": 0, "le": 1000, "max_digits": 10, "decimal_places": 6},
    {"ge": 0, "le": 1},
    {"gt": Decimal("0.05"), "lt": Decimal("7.25")},
    {"ge": Decimal("-5.5"), "le": Decimal("-0.25"), "decimal_places": 3},
    {"gt": -2, "lt": 0},
    {"ge": 0, "le": 0},
]


def candidates(rng: random.Random) -> list[str]:
    """Decimal strings around the bounds above: signs, leading and trailing zeros, many places."""
    out = []
    for _ in range(4000):
        sign = rng.choice(["", "", "-"])
        whole = rng.choice(
            ["0", "00", "1", "3", "7", "9", "10", "99", "100", "999", "1000", "1001", "000000000000001",
             str(rng.randint(0, 10 ** rng.randint(1, 16)))]
        )  # fmt: skip
        frac = rng.choice(
            [None, "0", "00", "05", "2", "19", "25", "5", "50", "0001", "00001", "1234", "12345", "1234567",
             "9" * rng.randint(1, 12), "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12)))]
        )  # fmt: skip
        out.append(sign + whole + ("" if frac is None else "." + frac))
    return out


@pytest.mark.parametrize("bounds", BOUNDS, ids=lambda b: ",".join(f"{k}={v}" for k, v in b.items()))
def test_the_pattern_takes_exactly_what_the_field_takes(bounds: dict[str, Any]) -> None:
    field = TypeAdapter(Annotated[Decimal, Field(**bounds), DecimalText()])
    pattern = re.compile(decimal_pattern(**bounds))
    wrong = []
    for text in candidates(random.Random(str(bounds))):
        try:
            field.validate_python(text)
            accepted = True
        except ValidationError:
            accepted = False
        if accepted != bool(pattern.search(text)):
            wrong.append((text, accepted))
    assert wrong == []


def test_the_document_carries_the_pattern_and_the_bounds_in_words() -> None:
    schema = TypeAdapter(Annotated[Decimal, Field(gt=0, le=Decimal("0.2"), decimal_places=4), DecimalText()])
    text = next(b for b in schema.json_schema()["anyOf"] if b["type"] == "string")
    assert (text["x-exclusiveMinimum"], text["x-maximum"]) == ("0", "0.2")
    assert re.search(text["pattern"], "0.05") and not re.search(text["pattern"], "0.25")
    assert not re.search(text["pattern"], "0") and not re.search(text["pattern"], "0.00001")
