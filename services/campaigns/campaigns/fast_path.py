"""A request body's fast path, generated from its declared model: the same fields and bounds, checked by
pydantic-core alone (no Python call per field), accepting a subset of what the declared validators accept and
giving the same values. Whatever it does not accept is left to the declared validators, which accept or refuse it
with their own errors (tests/campaigns/test_metrics_fast_path.py holds the two to the same verdicts and values).

The schema is written at import time from the model's fields — their types, bounds and defaults — never field by
field: a field added to the model is in the fast path as it is declared. A field whose type or bound has no native
form here, or a Python validator the caller does not check itself, stops the import: the fast path never skips a
check of the declared model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from datetime import date
from decimal import Decimal
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import PlainSerializer, Strict, StringConstraints
from pydantic_core import SchemaValidator, core_schema

from services.campaigns.schema_types import EARLIEST, LATEST, Day
from shared.schemas import ISO_DATE, DecimalText, IsoDate, Schema

#: the Python validators :class:`Schema` gives every body's fields, and what stands for them here: integers and
#: flags are strict (no text, no true or false for a number), and text must also match :data:`NO_NUL`
SCHEMA_CHECKS = frozenset({"_integers_are_numbers", "_refuse_nul"})
NO_NUL = r"^[^\x00]*$"
#: model settings that change a value before its checks (the fast schema's text is taken as it is)
_TEXT_SETTINGS = ("str_strip_whitespace", "str_to_lower", "str_to_upper", "str_min_length", "coerce_numbers_to_str")
_BOUNDS = (annotated_types.Ge, annotated_types.Gt, annotated_types.Le, annotated_types.Lt)
_LENGTHS = (annotated_types.MinLen, annotated_types.MaxLen, Strict)


def _text(**constraints: Any) -> core_schema.CoreSchema:
    return core_schema.str_schema(strict=True, **constraints)


#: types declared with Python validators, and their native forms: days as ``YYYY-MM-DD`` text (and, for
#: :data:`Day`, within its plausible years)
NATIVE_FORMS: tuple[tuple[Any, core_schema.CoreSchema], ...] = (
    (Day, core_schema.chain_schema([_text(pattern=ISO_DATE), core_schema.date_schema(ge=EARLIEST, le=LATEST)])),
    (IsoDate, core_schema.chain_schema([_text(pattern=ISO_DATE), core_schema.date_schema()])),
)


class NoFastForm(TypeError):
    """A field the fast path cannot check natively (give its type a native form here, or leave the body to the
    declared validators)."""


def fast_validator(model: type[Schema], checked_after: Collection[str]) -> SchemaValidator:
    """The fast path of ``model``: its fields (and its nested models' fields) as pydantic-core schemas, no Python
    validator run. ``checked_after`` names the model validators the caller checks itself on what it returns."""
    models: list[type[Schema]] = []
    schema = model_schema(model, checked_after, models)
    # pydantic-core would put a finished model's own (Python-validated) validator in place of each model schema
    # naming it, so the models are marked unfinished while the validator is built
    for cls in models:
        cls.__pydantic_complete__ = False
    try:
        return SchemaValidator(schema)
    finally:
        for cls in models:
            cls.__pydantic_complete__ = True


def model_schema(
    model: type[Schema], checked_after: Collection[str], models: list[type[Schema]]
) -> core_schema.ModelSchema:
    """``model`` and the models of its fields, as native schemas (each model is appended to ``models``)."""
    decorators = model.__pydantic_decorators__
    python = {*decorators.field_validators, *decorators.model_validators, *decorators.root_validators}
    if unchecked := python - SCHEMA_CHECKS - set(checked_after):
        raise NoFastForm(f"{model.__name__} runs {sorted(unchecked)}, which the fast path would skip")
    if model.model_config.get("extra") != "forbid":
        raise NoFastForm(f"{model.__name__} must refuse unknown fields")
    if changed := [key for key in _TEXT_SETTINGS if model.model_config.get(key)]:
        raise NoFastForm(f"{model.__name__}: {changed} change text before it is checked; no fast form")
    models.append(model)
    text_limit = model.model_config.get("str_max_length")
    fields = {}
    for name, info in model.model_fields.items():
        where = f"{model.__name__}.{name}"
        if info.alias is not None or info.validation_alias is not None:
            raise NoFastForm(f"{where}: aliases have no fast form")
        schema = _native(info.annotation, list(info.metadata), where, checked_after, models, text_limit)
        if info.default_factory is not None:
            schema = core_schema.with_default_schema(schema, default_factory=info.default_factory)  # type: ignore[arg-type]
        elif not info.is_required():
            schema = core_schema.with_default_schema(schema, default=info.default)
        fields[name] = core_schema.model_field(schema)
    return core_schema.model_schema(model, core_schema.model_fields_schema(fields, extra_behavior="forbid"))


def _native(
    annotation: Any,
    metadata: list[Any],
    where: str,
    checked_after: Collection[str],
    models: list[type[Schema]],
    text_limit: int | None,
) -> core_schema.CoreSchema:
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *more = get_args(annotation)
        return _native(inner, [*more, *metadata], where, checked_after, models, text_limit)
    if metadata:
        for declared, form in NATIVE_FORMS:
            if Annotated[(annotation, *metadata)] == declared:
                return form
    if origin in (Union, UnionType):
        (only, *others) = [arg for arg in get_args(annotation) if arg is not NoneType]
        if others or type(None) not in get_args(annotation):
            raise NoFastForm(f"{where}: only X | None unions have a fast form")
        return core_schema.nullable_schema(_native(only, metadata, where, checked_after, models, text_limit))
    if origin is list:
        (item,) = get_args(annotation)
        lengths = _constraints(metadata, where, "min_length", "max_length")
        items = _native(item, [], where, checked_after, models, text_limit)
        return core_schema.list_schema(items, strict=True, **lengths)
    if origin is Literal:
        _constraints(metadata, where)
        return core_schema.literal_schema(list(get_args(annotation)))
    if isinstance(annotation, type) and issubclass(annotation, Schema):
        _constraints(metadata, where)
        return model_schema(annotation, checked_after, models)
    if annotation is bool:
        return core_schema.bool_schema(strict=True, **_constraints(metadata, where, "strict"))
    if annotation is int:
        bounds = _constraints(metadata, where, "strict", "ge", "gt", "le", "lt")
        bounds.pop("strict", None)
        return core_schema.int_schema(strict=True, **bounds)
    if annotation is str:
        found = _constraints(metadata, where, "strict", "min_length", "max_length", "pattern")
        found.pop("strict", None)
        limit = min(filter(None, (found.pop("max_length", None), text_limit)), default=None)
        return core_schema.chain_schema([_text(max_length=limit, **found), _text(pattern=NO_NUL)])
    if annotation is Decimal:
        return _decimal(_constraints(metadata, where, "ge", "le", "decimal_places", "max_digits"), where)
    if annotation is date:
        raise NoFastForm(f"{where}: a day needs a declared form with a native one in NATIVE_FORMS")
    raise NoFastForm(f"{where}: {annotation!r} has no fast form")


def _decimal(bounds: dict[str, Any], where: str) -> core_schema.CoreSchema:
    """A decimal from 0 to ``le`` with at most ``decimal_places``: decimal text whose digits cannot break a
    bound (so pydantic-core need not call Python's decimal module to compare), or a JSON integer in bounds.
    Other numbers (JSON floats, more whole digits, leading zeros) are left to the declared validators."""
    if bounds.get("ge") != 0 or bounds.get("le") is None or bounds.get("decimal_places") is None:
        raise NoFastForm(f"{where}: the fast path takes decimals from 0 to a bound, with a number of places")
    places, top = bounds["decimal_places"], int(Decimal(bounds["le"]))
    whole = len(str(top)) - 1  # any number of that many whole digits is below the bound
    if bounds.get("max_digits") is not None:
        whole = min(whole, bounds["max_digits"] - places)
        top = min(top, 10 ** (bounds["max_digits"] - places) - 1)
    if whole < 1:
        raise NoFastForm(f"{where}: a bound below 10 has no fast form")
    text = _text(pattern=rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{places}}})?$")
    number = core_schema.int_schema(strict=True, ge=0, le=top)
    return core_schema.chain_schema([core_schema.union_schema([text, number]), core_schema.decimal_schema()])


def _constraints(metadata: Iterable[Any], where: str, *allowed: str) -> dict[str, Any]:
    """The bounds in a field's metadata, by pydantic-core's names (only ``allowed`` ones); metadata that validates
    in Python, or a bound not allowed here, has no fast form."""
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, DecimalText | PlainSerializer):
            continue  # decimal text's shape: narrower here; a serialiser: answers only
        if isinstance(item, _BOUNDS + _LENGTHS):
            found.update(dataclasses.asdict(item))
        elif isinstance(item, StringConstraints):
            found.update({k: v for k, v in dataclasses.asdict(item).items() if v is not None})
        elif type(item).__name__ == "_PydanticGeneralMetadata":  # Field(decimal_places=…, max_digits=…)
            found.update(vars(item))
        else:
            raise NoFastForm(f"{where}: {item!r} has no fast form")
    if unknown := set(found) - set(allowed):
        raise NoFastForm(f"{where}: {sorted(unknown)} have no fast form")
    return found
