"""JSON Schema checks: a kind's settings schema must itself be a valid schema, and settings must match it."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from shared.errors import FieldError, Unprocessable

MAX_ERRORS = 20
UNUSABLE = "the kind's schema cannot be used"


def _external_refs(node: Any, path: list[str | int]) -> list[str | int] | None:
    """Path of the first ``$ref``/``$dynamicRef`` that points outside the schema (we never fetch URLs)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str) and not value.startswith("#"):
                return [*path, key]
            found = _external_refs(value, [*path, key])
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _external_refs(value, [*path, index])
            if found is not None:
                return found
    return None


def _resolves(schema: Any, ref: str) -> bool:
    """Whether a local ``#/json/pointer`` names a part of ``schema`` (plain-name fragments are left to
    jsonschema and caught when settings are validated)."""
    if ref == "#" or not ref.startswith("#/"):
        return True
    node = schema
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _local_refs(node: Any, path: list[str | int]) -> list[tuple[str, list[str | int]]]:
    found: list[tuple[str, list[str | int]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append((value, [*path, key]))
            else:
                found.extend(_local_refs(value, [*path, key]))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_local_refs(value, [*path, index]))
    return found


def check_settings_schema(schema: dict[str, Any]) -> None:
    """Refuse a schema that is not a Draft 2020-12 JSON Schema, or that refers to documents outside itself."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        loc = ["body", "settings_schema", *exc.absolute_path]
        raise Unprocessable(f"settings_schema is not a valid JSON Schema: {exc.message}", loc=loc) from exc
    external = _external_refs(schema, [])
    if external is not None:
        raise FieldError(
            ("settings_schema", *external),
            "settings_schema may only refer to its own definitions ($ref starting with '#')",
        )
    for ref, loc in _local_refs(schema, []):
        if not _resolves(schema, ref):
            raise FieldError(("settings_schema", *loc), f"settings_schema refers to {ref!r}, which it does not define")
    probe = settings_errors(schema, {})
    if probe and probe[0]["msg"].startswith(UNUSABLE):
        raise FieldError("settings_schema", probe[0]["msg"].replace("the kind's schema", "settings_schema"))


def settings_errors(schema: dict[str, Any], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Every way ``settings`` fails ``schema``, each with the location of the field at fault."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    try:
        errors = sorted(validator.iter_errors(settings), key=lambda e: list(map(str, e.absolute_path)))
    except Unresolvable as exc:
        return [{"loc": ["body", "settings"], "msg": f"{UNUSABLE}: a reference cannot be resolved ({exc})"}]
    except RecursionError:
        return [{"loc": ["body", "settings"], "msg": f"{UNUSABLE}: its references loop endlessly"}]
    return [{"loc": ["body", "settings", *e.absolute_path], "msg": e.message} for e in errors[:MAX_ERRORS]]


def validate_settings(schema: dict[str, Any], settings: dict[str, Any]) -> None:
    errors = settings_errors(schema, settings)
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise Unprocessable(f"{where}: {first['msg']}", errors=errors)
