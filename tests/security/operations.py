"""The operations of a service, read from its OpenAPI document, and the short lists of those the walks treat
differently (each with its reason)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "put", "post", "patch", "delete")
PARAM = re.compile(r"\{([^}]+)\}")

#: operations that take no object of an organisation by path: nothing of A's for B to ask for
NO_OBJECT: dict[tuple[str, str], str] = {
    ("POST", "/v1/orgs"): "creates an organisation (bootstrap token)",
    ("POST", "/v1/auth/token"): "exchanges an API key for a token",
    ("GET", "/v1/auth/jwks"): "public signing keys",
    ("POST", "/v1/api-keys"): "create in the caller's organisation",
    ("GET", "/v1/api-keys"): "list of the caller's organisation",
    ("POST", "/v1/plans"): "create in the caller's organisation",
    ("GET", "/v1/plans"): "list of the caller's organisation",
    ("POST", "/v1/subscriptions"): "create in the caller's organisation",
    ("GET", "/v1/subscriptions"): "list of the caller's organisation",
    ("GET", "/v1/campaign-kinds"): "built-in kinds and the caller's own",
    ("POST", "/v1/campaign-kinds"): "create in the caller's organisation",
    ("POST", "/v1/campaigns"): "create in the caller's organisation (another org's SBU is 422: see below)",
    ("POST", "/v1/campaigns/metrics/imports"): "rows go to the caller's campaigns naming the platform ids; another "
    "organisation's are unknown to it (tests/campaigns/test_platform_imports.py)",
    ("GET", "/v1/campaigns"): "list of the caller's organisation",
    ("POST", "/v1/event-nodes"): "create in the caller's organisation",
    ("POST", "/v1/compliance/summaries"): "summarises the caller's organisation's own lists of a month",
    ("GET", "/v1/compliance/summaries"): "list of the caller's organisation",
    ("POST", "/v1/compliance/master-bills"): "links the caller's own lists (another's are 422, tested)",
    ("GET", "/v1/event-nodes"): "list of the caller's organisation",
    ("GET", "/v1/compliance/items"): "list of the caller's organisation",
    ("GET", "/v1/compliance/customs-profile"): "the caller's own profile",
    ("PUT", "/v1/compliance/customs-profile"): "the caller's own profile",
    ("POST", "/v1/compliance/customs-profiles"): "create in the caller's organisation",
    ("GET", "/v1/compliance/customs-profiles"): "list of the caller's organisation",
    ("POST", "/v1/compliance/payment-institutions"): "create in the caller's organisation",
    ("GET", "/v1/compliance/payment-institutions"): "list of the caller's organisation",
    ("POST", "/v1/compliance/sources"): "create in the caller's organisation",
    ("GET", "/v1/compliance/sources"): "list of the caller's organisation",
    ("POST", "/v1/compliance/orders"): "a document into the caller's organisation",
    ("GET", "/v1/compliance/orders"): "list of the caller's organisation",
    ("POST", "/v1/compliance/payments"): "a document into the caller's organisation",
    ("POST", "/v1/compliance/waybills"): "a document into the caller's organisation",
    ("POST", "/v1/compliance/messages"): "customs XML into the caller's organisation",
    ("GET", "/v1/compliance/exceptions"): "list of the caller's organisation",
    ("GET", "/v1/compliance/quota"): "the caller's own buyers' usage",
    ("GET", "/v1/compliance/reports/daily"): "the caller's own report",
    ("GET", "/v1/compliance/customers/summary"): "the caller's own customers",
    ("GET", "/v1/compliance/customers/lifecycle"): "the caller's own lifecycle windows",
    ("PUT", "/v1/compliance/customers/lifecycle"): "the caller's own lifecycle windows",
    ("GET", "/v1/compliance/erasures"): "the caller's own erasure records",
    ("GET", "/v1/compliance/audiences"): "the caller's own export buyers, hashed",
    ("GET", "/v1/compliance/exchange-rates"): "list of the caller's organisation",
}

#: not behind a role: callers prove themselves otherwise (the walk with role tokens skips them)
NOT_ROLE_GUARDED: dict[tuple[str, str], str] = {
    ("POST", "/v1/orgs"): "X-Bootstrap-Token",
    ("POST", "/v1/auth/token"): "the API key in the body",
    ("GET", "/v1/auth/jwks"): "public",
    ("POST", "/v1/compliance/webhooks/{source_id}"): "the source's signature over the body",
}

#: needs no credentials at all (the walk without a token skips them)
PUBLIC = {("POST", "/v1/auth/token"), ("GET", "/v1/auth/jwks")}

#: another organisation's call names an object by the caller's own key: it reaches the caller's own record
#: (or creates it), never A's; the status it gets instead of 404, and why
OWN_BY_KEY: dict[tuple[str, str], tuple[int, str]] = {
    ("PUT", "/v1/compliance/items/{item_no}"): (201, "an upsert by SKU: B registers its own item, A's stays"),
    ("PUT", "/v1/compliance/exchange-rates/{currency}/{day}"): (
        201,
        "an upsert by currency and day: B sets its own rate, A's stays",
    ),
    ("POST", "/v1/compliance/webhooks/{source_id}"): (401, "B cannot sign as A's source: refused, nothing stored"),
}


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def takes_body(self) -> bool:
        return "requestBody" in self.spec

    @property
    def body_required(self) -> bool:
        return bool(self.spec.get("requestBody", {}).get("required"))

    @property
    def required_query(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "query" and p.get("required")]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(service: str, app: Any) -> list[Operation]:
    """Every operation of the app's OpenAPI document (the ops routes outside /v1 are not tenant data)."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method in METHODS:
            if method in item and path.startswith("/v1/"):
                found.append(Operation(service, method.upper(), path, item[method]))
    return found


WRITE_ORDER = {"GET": 0, "PUT": 1, "PATCH": 2, "POST": 3, "DELETE": 4}


def walk_order(ops: list[Operation]) -> list[Operation]:
    """Reads first, then writes, deletes last and deepest first, so a write does not remove what a later
    operation needs."""
    return sorted(ops, key=lambda op: (WRITE_ORDER[op.method], -op.path.count("/") if op.method == "DELETE" else 0))
