"""Money, one vocabulary for every service: the amount column, the ``{amount, currency}`` answers, and the
conversions between request bodies, columns and answers.

An amount is stored as a :class:`MoneyAmount` column (exact, in 10^-4 units) beside a currency column; requests
carry it as :class:`shared.schemas.Money`, answers as :class:`MoneyOut`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from shared.db import ScaledDecimal
from shared.schemas import Amount, Out

#: decimal places every stored amount of money keeps
MONEY_SCALE = 4


class MoneyAmount(ScaledDecimal):
    """The column type of an amount of money: an exact decimal with :data:`MONEY_SCALE` places."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(MONEY_SCALE)


class MoneyOut(Out):
    """An exact amount of money: a decimal string and its ISO 4217 currency."""

    amount: Amount
    """The amount as a decimal string (never a JSON number): two places at least, four at most, as stored
    (`"1999.00"`)."""
    currency: str
    """The ISO 4217 code of the amount's currency."""


def money_or_none(amount: Decimal | None, currency: str | None) -> dict[str, Any] | None:
    """The ``{amount, currency}`` of a pair of columns, or None when either is unset (an optional amount)."""
    if amount is None or currency is None:
        return None
    return {"amount": amount, "currency": currency}


def money_or_zero(amount: Decimal | None, currency: str) -> dict[str, Any]:
    """The ``{amount, currency}`` of a total: nothing counted yet is zero in the currency, never absent."""
    return {"amount": amount if amount is not None else Decimal(0), "currency": currency}


def to_columns(body: BaseModel, *, exclude: set[str] | None = None, only_set: bool = False) -> dict[str, Any]:
    """A request body as column values: every Money field ``x`` becomes ``x_amount`` and ``x_currency``.
    ``only_set`` keeps the fields the request gave, each dumped whole (defaults of nested models included)."""
    data = body.model_dump(include=body.model_fields_set if only_set else None, exclude=exclude or set())
    values: dict[str, Any] = {}
    for key, value in data.items():
        field = type(body).model_fields.get(key)
        is_money = field is not None and "Money" in repr(field.annotation)
        if is_money:
            values[f"{key}_amount"] = value["amount"] if value else None
            values[f"{key}_currency"] = value["currency"] if value else None
        else:
            values[key] = value
    return values
