"""Request/response schema conventions: bounded, NUL-free strings, money as decimal strings, lists."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
)

T = TypeVar("T")


def _no_nul(value: Any) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
    elif isinstance(value, list | tuple):
        for item in value:
            _no_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)
    return value


class Schema(BaseModel):
    """Base of every request body: unknown fields refused, every string bounded and free of NUL bytes."""

    model_config = ConfigDict(extra="forbid", str_max_length=20_000, str_strip_whitespace=False)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return _no_nul(value)


class Out(BaseModel):
    """Base of response bodies (read from ORM objects)."""

    model_config = ConfigDict(from_attributes=True)


Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


def format_decimal(value: Decimal) -> str:
    """Canonical text of a decimal: at least two places, no trailing zeros beyond them ("1999.00", "0.1234").
    The same value always reads the same, whatever the database gave back."""
    if not value.is_finite():
        raise ValueError("not a finite number")
    normalized = value.normalize()
    if normalized.as_tuple().exponent > -2:  # type: ignore[operator]
        normalized = normalized.quantize(Decimal("0.01"))
    return format(normalized, "f")


#: an amount of money: at most 18 digits with 4 decimals, serialised as a decimal string
Amount = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=4, ge=Decimal("-1e14"), le=Decimal("1e14")),
    PlainSerializer(format_decimal, return_type=str, when_used="json"),
]
NonNegativeAmount = Annotated[Amount, Field(ge=0)]
DecimalStr = Annotated[Decimal, PlainSerializer(format_decimal, return_type=str, when_used="json")]


class Money(Schema):
    amount: NonNegativeAmount
    currency: CurrencyCode

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"amount": "1999.00", "currency": "USD"}})


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def nul_free(value: str) -> str:
    return _no_nul(value)


NulFree = AfterValidator(nul_free)
