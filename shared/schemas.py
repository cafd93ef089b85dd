"""Request/response schema conventions: bounded, NUL-free strings, money as decimal strings, lists."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from types import UnionType
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, Union, get_args, get_origin

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema, core_schema

from shared.decimal_range import decimal_pattern

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


def _integer_only(annotation: Any, kind: type = int) -> bool:
    """Whether a field takes nothing but an integer (or ``kind``: a flag), possibly optional, possibly
    constrained."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _integer_only(get_args(annotation)[0], kind)
    if origin in (Union, UnionType):
        others = [arg for arg in get_args(annotation) if arg is not type(None)]
        return len(others) == 1 and _integer_only(others[0], kind)
    return annotation is kind


class Schema(BaseModel):
    """Base of every request body: unknown fields refused, every string bounded and free of NUL bytes, and an
    integer is a JSON integer (pydantic alone would take ``true`` or ``"5"`` for one)."""

    # a field's description is the docstring under it (``x: int`` then ``"""what x is"""``): the OpenAPI document
    # shows it to whoever builds a client
    model_config = ConfigDict(
        extra="forbid", str_max_length=20_000, str_strip_whitespace=False, use_attribute_docstrings=True
    )
    _integer_fields: ClassVar[frozenset[str]] = frozenset()
    _flag_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._integer_fields = frozenset(name for name, f in cls.model_fields.items() if _integer_only(f.annotation))
        cls._flag_fields = frozenset(name for name, f in cls.model_fields.items() if _integer_only(f.annotation, bool))
        _narrow_checks(cls)

    @field_validator("*", mode="before")
    @classmethod
    def _integers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool | str) and info.field_name in cls._integer_fields:
            raise ValueError("must be an integer (not text, not true or false)")
        if info.field_name in cls._flag_fields and not isinstance(value, bool) and value is not None:
            # pydantic alone would take 0, 1, "yes" or "off" for a flag: the document says boolean
            raise ValueError("must be true or false")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return _no_nul(value)


def _may_hold_text(annotation: Any) -> bool:
    """Whether a field of this type can hold a string the NUL check must see (unknown types: yes). Numbers,
    days, times, enums and literals cannot; a nested model checks its own fields."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _may_hold_text(get_args(annotation)[0])
    if origin is Literal:
        return False
    if origin in (Union, UnionType, list, tuple, set, frozenset):
        return any(_may_hold_text(arg) for arg in get_args(annotation) if arg is not Ellipsis)
    if annotation is type(None):
        return False
    if isinstance(annotation, type) and origin is None:
        return not issubclass(annotation, _NO_TEXT)
    return True


#: field types whose values are never strings once validated (a nested model runs its own checks)
_NO_TEXT = (bool, int, float, Decimal, date, datetime, time, timedelta, uuid.UUID, Enum, BaseModel)


def _narrow_checks(cls: type[Schema]) -> None:
    """Applies the integer check and the NUL check to the fields they can refuse something in, not to every
    field: on a 1,000-row body the two Python calls per field were half of the validation time. The
    validators stay declared on every field (``"*"``) in :class:`Schema`; here each subclass's copy of them
    is bound to the fields that matter, and the model's validator is built again."""
    decorators = cls.__pydantic_decorators__.field_validators
    wanted = {
        "_integers_are_numbers": tuple(sorted(cls._integer_fields | cls._flag_fields)),
        "_refuse_nul": tuple(name for name, f in cls.model_fields.items() if _may_hold_text(f.annotation)),
    }
    changed = False
    for name, fields in wanted.items():
        decorator = decorators.get(name)
        if decorator is None or decorator.info.fields == fields:
            continue
        decorators[name] = dataclasses.replace(
            decorator, info=dataclasses.replace(decorator.info, fields=fields, check_fields=False)
        )
        changed = True
    if changed:
        cls.model_rebuild(force=True, raise_errors=False)


def examples(*bodies: dict[str, Any]) -> ConfigDict:
    """A request body's examples, as the OpenAPI document shows them (and ``/docs`` pre-fills "Try it out"
    with the first): ``model_config = examples({...})`` in the body's class. Each must be accepted as it is,
    once the ids it names are the caller's own (tests/frontend/test_openapi_contract.py posts every one)."""
    return ConfigDict(json_schema_extra={"examples": list(bodies)})


class Out(BaseModel):
    """Base of response bodies (read from ORM objects)."""

    model_config = ConfigDict(from_attributes=True, use_attribute_docstrings=True)


def _trimmed(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


#: trims surrounding whitespace once the text's length is checked as sent (``strip_whitespace`` would check the
#: length after trimming, taking text longer than the OpenAPI document allows); blank text is refused
Trimmed = AfterValidator(_trimmed)
#: with ``Trimmed``: says in the document that blank text is refused
NOT_BLANK = r"\S"

#: an object's id in a path (longer is no id of ours: 422, like any other bound)
PathId = Annotated[str, Path(min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK), Trimmed]
ShortText = Annotated[str, StringConstraints(max_length=500)]
#: a sentence written for people: 1 to 500 characters, not blank, trimmed
Sentence = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


#: a decimal as text: optional minus, up to 24 digits, optional fraction of up to 12 digits (no exponent, no blanks)
DECIMAL_TEXT = r"^-?[0-9]{1,24}(\.[0-9]{1,12})?$"
_DECIMAL_TEXT = re.compile(DECIMAL_TEXT)


def _decimal_text(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError('must be a number or a decimal string such as "1999.00"')
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        raise ValueError('must be a decimal string such as "1999.00" (digits, one point, no exponent)')
    return value


class DecimalText:
    """Put in ``Annotated[Decimal, Field(...), DecimalText()]`` of every decimal input: a JSON number, or a decimal
    string of digits with one optional point (no exponent, no blanks, at most 38 characters) — and the OpenAPI
    document says so, where pydantic alone would accept any length of leading zeros."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(_decimal_text, handler(source))

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        bounds = _decimal_bounds(core)
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "string":
                # the string branch carries the bounds too: its pattern matches exactly the strings the service
                # accepts, and the x- keywords say the range in words a person reads
                branch.update(pattern=decimal_pattern(**bounds) if bounds else DECIMAL_TEXT, maxLength=38)
                for key, keyword in _RANGE_KEYWORDS.items():
                    if bounds.get(key) is not None:
                        branch[keyword] = format(Decimal(bounds[key]).normalize(), "f")
        return schema


_RANGE_KEYWORDS = {"ge": "x-minimum", "gt": "x-exclusiveMinimum", "le": "x-maximum", "lt": "x-exclusiveMaximum"}


def _decimal_bounds(core: Any) -> dict[str, Any]:
    """The bounds of the decimal schema inside ``core`` (range, digits, places), as :func:`decimal_pattern` takes
    them."""
    while isinstance(core, dict) and core.get("type") != "decimal" and "schema" in core:
        core = core["schema"]
    if not isinstance(core, dict) or core.get("type") != "decimal":
        return {}
    keys = ("ge", "gt", "le", "lt", "max_digits", "decimal_places")
    return {key: core[key] for key in keys if core.get(key) is not None}


#: a day as text: ``YYYY-MM-DD``
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ISO_DATE = re.compile(ISO_DATE)
_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _iso_date(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` (or a date): pydantic alone would read ``0`` or ``"1000000000"`` as a Unix time."""
    if isinstance(value, datetime) or (not isinstance(value, date) and not _ISO_DATE.fullmatch(str(value))):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


def _rfc3339(value: Any) -> Any:
    """Only RFC 3339 with an offset (or an aware datetime): no Unix times, no times without a zone."""
    if isinstance(value, datetime):
        ok = value.tzinfo is not None
    else:
        ok = isinstance(value, str) and _RFC3339.fullmatch(value) is not None
    if not ok:
        raise ValueError("must be an RFC 3339 time with its offset, such as 2026-09-01T08:00:00Z")
    return value


#: a day, accepted only as ``YYYY-MM-DD``
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
#: a moment, accepted only as RFC 3339 with an offset (stored and compared in UTC)
IsoDateTime = Annotated[datetime, BeforeValidator(_rfc3339)]


def format_decimal(value: Decimal) -> str:
    """Canonical text of a decimal: at least two places, no trailing zeros beyond them ("1999.00", "0.1234").
    The same value always reads the same, whatever the database gave back."""
    if not value.is_finite():
        raise ValueError("not a finite number")
    # on the text, not through Decimal arithmetic (normalize, quantize): it is written for every amount answered
    whole, _, places = format(value, "f").partition(".")
    return f"{whole}.{places.rstrip('0'):0<2}"


#: serialises a decimal as its canonical string
AsDecimalString = PlainSerializer(format_decimal, return_type=str, when_used="json")
#: an amount of money: at most 18 digits with 4 decimals, serialised as a decimal string. Narrower bounds go in
#: the same ``Field`` (an outer ``Annotated[Amount, Field(ge=0)]`` would not reach the OpenAPI document)
Amount = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=4, ge=Decimal("-1e14"), le=Decimal("1e14")),
    DecimalText(),
    AsDecimalString,
]
NonNegativeAmount = Annotated[
    Decimal, Field(max_digits=18, decimal_places=4, ge=0, le=Decimal("1e14")), DecimalText(), AsDecimalString
]
DecimalStr = Annotated[Decimal, AsDecimalString]

#: a computed ratio (a rate, a p-value, a lift) in an answer keeps six places, as the KPIs do, and six significant
#: digits when it is smaller (a p-value of 0.0000123457), up to twelve places
RATIO_PLACES = 6
RATIO_DIGITS = 6
RATIO_MAX_PLACES = 12


def format_ratio(value: float | Decimal) -> str | None:
    """A computed ratio as a decimal string: six places, or six significant digits when that needs more, at most
    twelve places, no exponent (``0.7500000000000001`` reads ``"0.75"``, ``11.290322580645162`` reads
    ``"11.290323"``, ``1.2345678e-05`` reads ``"0.0000123457"``); not a number, or infinite, reads null."""
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if not number.is_finite():
        return None
    if number == 0:
        return format_decimal(Decimal(0))
    places = min(RATIO_MAX_PLACES, max(RATIO_PLACES, RATIO_DIGITS - 1 - number.adjusted()))
    return format_decimal(number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


#: a ratio computed in floating point (statistics), answered as a decimal string as docs/api.md promises
Ratio = Annotated[
    float,
    PlainSerializer(format_ratio, return_type=str | None, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_TEXT, "examples": ["0.75"]}, mode="serialization"),
]


class Money(Schema):
    """An exact amount of money: a decimal string and its ISO 4217 currency."""

    amount: NonNegativeAmount
    """The amount as a decimal string (`"1999.00"`; a JSON number is accepted too), at most 4 places."""
    currency: CurrencyCode
    """The ISO 4217 code of the amount's currency (`USD`, `CNY`, `EUR` …)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"amount": "1999.00", "currency": "USD"}]}
    )


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be null; leave the field out to keep its value")
    return value


#: a PATCH field that may be left out (``None`` then means "not given") but not sent as null
Omittable = Annotated[T | SkipJsonSchema[None], BeforeValidator(_refuse_null)]


class Page(BaseModel, Generic[T]):
    """One page of a list, oldest first. Pass `next_cursor` back as `?cursor=` for the next page; it is null on the
    last one."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[T]
    """This page's objects, oldest first."""
    next_cursor: str | None = None
    """Pass it as `?cursor=` to get the next page; null on the last page."""


def nul_free(value: str) -> str:
    return _no_nul(value)


NulFree = AfterValidator(nul_free)
