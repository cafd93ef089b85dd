"""Local validation before sending: request bodies are checked against the service's own OpenAPI document.

The CLI imports no service code, so the schema comes from the service itself (``GET /openapi.json``, a read that
changes nothing). A body that fails it ends the command with exit code 2 before anything is sent.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator


class Schemas:
    def __init__(self, spec: Any) -> None:
        self.spec = spec if isinstance(spec, dict) else {}
        self.components = self.spec.get("components") or {}

    def body_schema(self, method: str, path: str) -> dict[str, Any] | None:
        """The JSON request-body schema of ``method path`` (an OpenAPI path template), if the document has one."""
        operation = ((self.spec.get("paths") or {}).get(path) or {}).get(method.lower()) or {}
        content = (operation.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        return schema if isinstance(schema, dict) else None

    def errors(self, method: str, path: str, body: Any) -> list[str]:
        """Readable reasons ``body`` would be refused (empty when it passes or no schema is known)."""
        schema = self.body_schema(method, path)
        if schema is None:
            return []
        # "#/components/..." references resolve against the document root, so the components travel with it
        validator = Draft202012Validator({**schema, "components": self.components})
        found = []
        for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
            where = ".".join(str(p) for p in error.absolute_path) or "(body)"
            found.append(f"{where}: {_message(error)}")
        return found[:20]


def _message(error: Any) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        # pydantic writes optional fields and decimals as anyOf [T, null] / [number, string]: the branch that
        # failed for a reason other than the value's type says what is wrong with it
        reasons = [e for e in error.context if e.validator != "type"] or list(error.context)
        return str(reasons[0].message)[:300]
    return str(error.message)[:300]
