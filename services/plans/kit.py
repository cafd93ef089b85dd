"""Small helpers the plans domains share: money as two columns, and money in and out of schemas."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import IdMixin, OrgMixin, TimestampMixin
from shared.schemas import Amount, Out


class MoneyOut(Out):
    """An exact amount of money: a decimal string and its ISO 4217 currency."""

    amount: Amount
    currency: str


def money(amount: Decimal | None, currency: str | None) -> dict[str, Any] | None:
    """The ``{amount, currency}`` of a pair of columns, or None when unset."""
    if amount is None or currency is None:
        return None
    return {"amount": amount, "currency": currency}


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


class PlanChild(IdMixin, OrgMixin, TimestampMixin):
    """A row that belongs to one plan (and goes when a draft plan is deleted)."""

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
