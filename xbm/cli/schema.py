"""Local validation before sending: request bodies are checked against the service's own OpenAPI document.

The CLI imports no service code, so the schema comes from the service itself (``GET /openapi.json``, a public
read that changes nothing and needs no login). A body that fails it ends the command with exit code 2 before
anything is sent.

Decimals travel as numbers or as decimal strings (``"1999.00"``), and the services bound both alike. JSON Schema's
``minimum``/``maximum``/``multipleOf`` apply to numbers only, so here they are applied to decimal strings too (as
exact decimals), and a bound written only on the number branch of a decimal is applied to its string branch: what
dry-run accepts, the service accepts.
"""

from __future__ import annotations

import copy
import operator
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

#: a decimal as text, as the services accept it (digits, one optional point, no exponent)
DECIMAL_TEXT = re.compile(r"-?[0-9]{1,24}(\.[0-9]{1,12})?")
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_COMPARE: dict[str, tuple[Callable[[Decimal, Decimal], bool], str]] = {
    "minimum": (operator.ge, "less than the minimum of"),
    "maximum": (operator.le, "greater than the maximum of"),
    "exclusiveMinimum": (operator.gt, "less than or equal to the minimum of"),
    "exclusiveMaximum": (operator.lt, "greater than or equal to the maximum of"),
}


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, str) and DECIMAL_TEXT.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            return None
    return None


def _bound(keyword: str) -> Callable[..., Iterator[ValidationError]]:
    number_check = Draft202012Validator.VALIDATORS[keyword]

    def check(validator: Any, bound: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
        value = _decimal(instance)
        if value is None:
            yield from number_check(validator, bound, instance, schema)
            return
        limit = Decimal(str(bound))
        if keyword == "multipleOf":
            if limit and value % limit != 0:
                yield ValidationError(f"{instance!r} is not a multiple of {bound}")
            return
        holds, words = _COMPARE[keyword]
        if not holds(value, limit):
            yield ValidationError(f"{instance!r} is {words} {bound}")

    return check


#: Draft 2020-12 with the numeric bounds applied to decimal strings as well
DecimalValidator = validators.extend(Draft202012Validator, {keyword: _bound(keyword) for keyword in BOUNDS})


def _is_decimal_string(branch: Any) -> bool:
    pattern = str(branch.get("pattern", "")) if isinstance(branch, dict) else ""
    is_string = isinstance(branch, dict) and branch.get("type") == "string"
    return is_string and pattern.startswith(("^-?[0-9]", "^(?=-?[0-9]"))


def bounds_on_strings(node: Any) -> Any:
    """``node`` with every bound of a decimal's number branch also on its string branch (where the document does
    not say it there already)."""
    if isinstance(node, list):
        return [bounds_on_strings(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: bounds_on_strings(value) for key, value in node.items()}
    for combinator in ("anyOf", "oneOf"):
        branches = node.get(combinator)
        if not isinstance(branches, list):
            continue
        numbers = [b for b in branches if isinstance(b, dict) and b.get("type") in ("number", "integer")]
        for number in numbers:
            for branch in branches:
                if _is_decimal_string(branch):
                    for keyword in BOUNDS:
                        if keyword in number and keyword not in branch:
                            branch[keyword] = number[keyword]
    return node


class Schemas:
    def __init__(self, spec: Any) -> None:
        self.spec = spec if isinstance(spec, dict) else {}
        self.components = bounds_on_strings(copy.deepcopy(self.spec.get("components") or {}))

    def body_schema(self, method: str, path: str) -> dict[str, Any] | None:
        """The JSON request-body schema of ``method path`` (an OpenAPI path template), if the document has one."""
        operation = ((self.spec.get("paths") or {}).get(path) or {}).get(method.lower()) or {}
        content = (operation.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        return bounds_on_strings(schema) if isinstance(schema, dict) else None

    def validator(self, schema: dict[str, Any]) -> Any:
        # "#/components/..." references resolve against the document root, so the components travel with it
        return DecimalValidator({**schema, "components": self.components})

    def errors(self, method: str, path: str, body: Any) -> list[str]:
        """Readable reasons ``body`` would be refused (empty when it passes or no schema is known)."""
        schema = self.body_schema(method, path)
        if schema is None:
            return []
        return self.errors_for(schema, body)

    def errors_for(self, schema: dict[str, Any], value: Any) -> list[str]:
        """Readable reasons ``value`` fails ``schema`` (a schema of this document: its references resolve)."""
        found = []
        errors = self.validator(bounds_on_strings(schema)).iter_errors(value)
        for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
            where = ".".join(str(p) for p in error.absolute_path) or "(body)"
            found.append(f"{where}: {_message(error)}")
        return found[:20]


def _message(error: Any) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        # pydantic writes optional fields and decimals as anyOf [T, null] / [number, string]: the branch that
        # failed for a reason other than the value's type says what is wrong with it
        reasons = [e for e in error.context if e.validator != "type"] or list(error.context)
        return _message(reasons[0])  # an optional decimal is an anyOf inside an anyOf
    return str(error.message)[:300]
