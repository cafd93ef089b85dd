"""What the exchange-rate routes take and answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import NOT_BLANK, DecimalStr, DecimalText, Out, Schema, Trimmed, examples


class ExchangeRateIn(Schema):
    """What one unit of the currency is worth in CNY on the day, and where that comes from."""

    model_config = examples({"rate": "7.1307", "source": "PBOC central parity"})

    rate: Annotated[Decimal, Field(gt=0, le=Decimal("100000"), max_digits=18, decimal_places=8), DecimalText()]
    """CNY for one unit of the currency (for JPY too: one yen, not a hundred)."""
    source: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]
    """Where the rate comes from (e.g. `PBOC central parity`): named wherever the rate is used."""


class ExchangeRateOut(Out):
    currency: str
    """ISO 4217."""
    day: date
    """The day the rate is for."""
    rate: DecimalStr
    """CNY for one unit of the currency."""
    source: str
    """Where the rate comes from."""
    rerouted: int = 0
    """Orders held for want of this rate that were routed again and listed by this request."""
