"""Campaigns' answer for money. It differs from :class:`shared.money.MoneyOut` on purpose: campaigns answers with
totals (spend summed over any number of metric rows, attributed revenue), which need not fit the bounds of an
amount a client may send, so the amount is any decimal, written as its canonical string. Build its values with
:func:`shared.money.money_or_zero`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

from shared.schemas import DecimalStr, Out


def _count_or_fraction(value: Decimal) -> int | float:
    """Conversions in an answer: a JSON integer when whole (as they always were), else a JSON number with its
    places (a platform's fractional conversions, at most 6 places: exact as a double's shortest text)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


#: conversions in answers (see :func:`_count_or_fraction`)
ConversionsOut = Annotated[Decimal, PlainSerializer(_count_or_fraction, return_type=float, when_used="json")]


class MoneyOut(Out):
    amount: DecimalStr
    """The amount as a decimal string (never a JSON number), e.g. `"1999.00"`."""
    currency: str
    """The ISO 4217 code of the amount's currency."""
