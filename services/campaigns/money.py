"""Campaigns' answer for money. It differs from :class:`shared.money.MoneyOut` on purpose: campaigns answers with
totals (spend summed over any number of metric rows, attributed revenue), which need not fit the bounds of an
amount a client may send, so the amount is any decimal, written as its canonical string. Build its values with
:func:`shared.money.money_or_zero`."""

from __future__ import annotations

from shared.schemas import DecimalStr, Out


class MoneyOut(Out):
    amount: DecimalStr
    """The amount as a decimal string (never a JSON number), e.g. `"1999.00"`."""
    currency: str
    """The ISO 4217 code of the amount's currency."""
