"""Every input the OpenAPI documents describe is bounded: strings have a maximum length, lists a maximum size,
numbers a range, objects a known set of properties — so a fuzzer (and a client) knows the limits, and the
limits are the ones validation applies (the fuzz tests check that part)."""

from __future__ import annotations

from typing import Any

import pytest

SERVICES = ("plans", "campaigns", "compliance")

#: inputs left unbounded in the document, each with its reason and what bounds it instead
UNBOUNDED: dict[tuple[str, str], str] = {
    ("POST /v1/compliance/webhooks/{source_id}", "body.*"): "the sender's own JSON, verified by signature over the "
    "raw bytes (bounded by the body limit) and then validated as a canonical document",
    ("POST /v1/compliance/messages", "body"): "customs XML, bounded by the body limit and parsed by defusedxml",
    ("POST /v1/campaigns", "body.settings.*"): "checked against the kind's settings_schema",
    ("PATCH /v1/campaigns/{campaign_id}", "body.settings.*"): "checked against the kind's settings_schema",
    ("POST /v1/campaign-kinds", "body.settings_schema.*"): "a JSON Schema, checked to be one",
}


def problems(schema: dict[str, Any], defs: dict[str, Any], where: str, seen: frozenset[str] = frozenset()) -> list:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else problems(defs[name], defs, where, seen | {name})
    found = []
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            found += problems(branch, defs, where, seen)
    kind = schema.get("type")
    if kind == "string" and not {"maxLength", "enum", "const"} & set(schema):
        if schema.get("format") not in ("date", "date-time"):
            found.append((where, "a string without maxLength"))
    if kind == "array":
        if "maxItems" not in schema:
            found.append((where, "a list without maxItems"))
        found += problems(schema.get("items", {}), defs, f"{where}[]", seen)
    if kind in ("integer", "number"):
        low = {"minimum", "exclusiveMinimum"} & set(schema)
        high = {"maximum", "exclusiveMaximum"} & set(schema)
        if not (low and high):
            found.append((where, "a number without a range"))
    if kind == "object" or "properties" in schema:
        for name, prop in schema.get("properties", {}).items():
            found += problems(prop, defs, f"{where}.{name}", seen)
        if schema.get("additionalProperties") is not False:
            found.append((f"{where}.*", "an object open to any property"))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_input_is_bounded(service: str, request: pytest.FixtureRequest) -> None:
    app = request.getfixturevalue(f"{service}_app")
    document = app.openapi()
    defs = document.get("components", {}).get("schemas", {})
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            inputs = [(f"{p['in']}.{p['name']}", p["schema"]) for p in operation.get("parameters", [])]
            for media in operation.get("requestBody", {}).get("content", {}).values():
                inputs.append(("body", media.get("schema", {})))
            for where, schema in inputs:
                found += [
                    f"{label} {spot}: {what}"
                    for spot, what in problems(schema, defs, where)
                    if (label, spot) not in UNBOUNDED
                ]
    assert not found, "unbounded inputs (bound them in the schema, or list them in UNBOUNDED with why):\n" + "\n".join(
        found
    )
