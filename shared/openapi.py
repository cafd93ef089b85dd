"""What every service's OpenAPI document says beyond what FastAPI infers, and the query-string rule behind it.

A frontend developer should be able to build a client from ``/openapi.json`` alone, so the document declares
how to authenticate (the bearer scheme on every operation that checks a token, ``security: []`` on the public
ones) and the headers XBM's conventions rely on: ``Idempotency-Key`` on POSTs, ``If-Match`` on writes that
honour it, ``ETag`` and ``Location`` on the responses that carry them, ``Retry-After`` on 503.

A list that silently ignored a misspelt filter would answer everything and look right, so a GET with a
query parameter the operation does not declare is refused with 422, the same way on every service.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, get_args

from fastapi import FastAPI, Request, routing
from fastapi.dependencies.models import Dependant

from shared.auth import ROLES, current_principal
from shared.context import context_of
from shared.db import DbSession, SingleReadSession
from shared.errors import PROBLEM_JSON, Unprocessable
from shared.etag import MAX_IF_MATCH

BEARER = "bearerAuth"
BEARER_SCHEME: dict[str, Any] = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "An access token from `POST /v1/auth/token` (exchange an API key for it), sent as "
    "`Authorization: Bearer <token>`. Tokens expire; exchange the key again on 401.",
}
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID is good). Sending the same key and body again within 24 hours "
    "answers the first response again instead of acting twice; the same key with another body is 422.",
    "schema": {"type": "string", "maxLength": 255, "example": "7f1c9a52-8a3e-4d2b-9a51-0c2f3b4d5e6f"},
}
IF_MATCH: dict[str, Any] = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the copy you changed. When the resource changed since, the write is refused "
    "with 412 and nothing is changed.",
    "schema": {"type": "string", "maxLength": MAX_IF_MATCH, "example": '"5d41402abc4b2a76b9719d911017c592"'},
}
ETAG_HEADER = {
    "description": "The version of this representation; send it back as If-Match",
    "schema": {"type": "string"},
}
LOCATION_HEADER = {"description": "The path of the created resource", "schema": {"type": "string"}}
RETRY_AFTER_HEADER = {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
WRITE_METHODS = ("patch", "put", "delete")
PAGE_DESCRIPTION = (
    "One page of a list, oldest first. Pass `next_cursor` back as `?cursor=` for the next page; it is null on the "
    "last one."
)


def dependants(dependant: Dependant) -> Iterator[Dependant]:
    """``dependant`` and every dependency under it, depth first."""
    yield dependant
    for sub in dependant.dependencies:
        yield from dependants(sub)


def operations(app: FastAPI) -> Iterator[tuple[str, str, Dependant]]:
    """(method, path, dependant) of every operation in the app's OpenAPI document."""
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, routing.APIRoute) and route.include_in_schema:
            for method in context.methods or ():
                yield method.lower(), str(context.path_format), context.dependant  # type: ignore[attr-defined]


def checks_token(dependant: Dependant) -> bool:
    return any(d.call is current_principal for d in dependants(dependant))


def checks_role(dependant: Dependant) -> bool:
    """Whether a dependency admits only some roles (so another role gets 403)."""
    return any(not set(ROLES) <= set(getattr(d.call, "roles", ROLES)) for d in dependants(dependant))


#: the dependencies that open a database session (``DbSession``, ``SingleReadSession``)
_SESSION_PROVIDERS = frozenset(get_args(session)[1].dependency for session in (DbSession, SingleReadSession))


def uses_database(dependant: Dependant) -> bool:
    return any(d.call in _SESSION_PROVIDERS for d in dependants(dependant))


def ignores_query(endpoint: Any) -> Any:
    """Marks an endpoint that takes no input and answers the same whatever the query string (the public JWKS,
    which caches and proxies may fetch with a cache-busting ``?v=``): the unknown-query refusal skips it, so
    it can answer nothing but 200."""
    endpoint.ignores_query = True
    return endpoint


#: the problem+json body every error answers (docs/api.md, "Errors")
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An error (RFC 9457 problem details), sent as `application/problem+json`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "A URI naming the kind of problem; `about:blank` when the status says it all.",
            "examples": ["about:blank"],
        },
        "title": {
            "type": "string",
            "description": "The HTTP status's phrase, the same for every problem of that status.",
            "examples": ["Unprocessable Content"],
        },
        "status": {"type": "integer", "description": "The HTTP status code, repeated.", "examples": [422]},
        "detail": {
            "type": "string",
            "description": "What went wrong with this request, in words a person can act on.",
            "examples": ["body.budget.amount: Input should be greater than or equal to 0"],
        },
        "errors": {
            "type": "array",
            "description": "On 422 only: each refused field or parameter, where it is and why.",
            "items": {"$ref": "#/components/schemas/ProblemFieldError"},
        },
    },
}
PROBLEM_FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemFieldError",
    "type": "object",
    "description": "One refused field of a 422 problem.",
    "required": ["loc", "msg"],
    "properties": {
        "loc": {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "description": "Where the field is: `body`, `query`, `path` or `header`, then the field names and list "
            "positions down to it.",
            "examples": [["body", "budget", "amount"]],
        },
        "msg": {"type": "string", "description": "Why the value is refused."},
        "type": {"type": "string", "description": "A short code for the kind of refusal (`missing`, `too_long` …)."},
    },
}
PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
#: what each error status means on any operation that can answer it
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request could not be read: a NUL byte in the URL, a body that cannot be parsed, a malformed "
    "Idempotency-Key",
    401: "Missing, invalid or expired token: exchange the API key again",
    403: "The caller's role may not do this",
    404: "No such object in the caller's organisation",
    409: "A request with this Idempotency-Key is still being processed, or the object's state does not allow this",
    412: "The object changed since the copy named in If-Match was read; read it again",
    413: "The request body is larger than the service accepts",
    415: "The body's media type is not one this operation reads",
    422: "A field, parameter or header is refused; `errors` names each",
    429: "Too many attempts; retry after Retry-After",
    503: "The database is busy or a service this one needs is down; retry after Retry-After",
}


def possible_errors(method: str, path: str, dependant: Dependant, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from what it takes and what its dependencies check: a token
    (401, and 503 when the issuer's keys cannot be fetched), a role (403), the database (503), an object in the
    path (404), any input (422), a body (400 when it cannot be parsed, 413). Statuses a route declares itself are
    added to these."""
    statuses: set[int] = set()
    if checks_token(dependant):
        statuses |= {401, 503}
    if checks_role(dependant):
        statuses.add(403)
    if uses_database(dependant):
        statuses.add(503)
    if "{" in path:
        statuses |= {404, 422}
    if "{" in path or any(p.get("in") == "query" for p in operation.get("parameters", [])):
        statuses.add(400)  # a NUL byte in the URL, refused before anything else reads it
    if "requestBody" in operation:
        statuses |= {400, 413, 422}  # a body that cannot be parsed at all is 400, one that parses but is wrong 422
    if operation.get("parameters"):
        statuses.add(422)
    if method == "get" and not getattr(dependant.call, "ignores_query", False):
        statuses.add(422)  # an unknown query parameter
    return statuses


def _declare_errors(operation: dict[str, Any], possible: set[int]) -> None:
    responses = operation.setdefault("responses", {})
    for status in possible:
        responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
    for status, response in list(responses.items()):
        if not status.isdigit() or int(status) < 400:
            continue
        if status == "422" and "422" not in {str(s) for s in possible} and _is_fastapi_validation(response):
            del responses[status]  # FastAPI's default, on an operation that takes nothing to refuse
            continue
        if _is_fastapi_validation(response):
            response["description"] = ERROR_DESCRIPTIONS[422]
        response["content"] = {**{k: v for k, v in response.get("content", {}).items() if k != "application/json"},
                               **PROBLEM_CONTENT}  # fmt: skip


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("/HTTPValidationError")


def declared_query_names(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    for d in dependants(dependant):
        for param in d.query_params:
            names.add(param.alias)
            names.add(param.name)
    return frozenset(names)


def _add_parameter(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    params = operation.setdefault("parameters", [])
    if not any(p.get("in") == "header" and p.get("name", "").lower() == parameter["name"].lower() for p in params):
        params.append(dict(parameter))


def _add_header(operation: dict[str, Any], status: str, name: str, header: dict[str, Any]) -> None:
    response = operation.get("responses", {}).get(status)
    if response is not None:
        response.setdefault("headers", {}).setdefault(name, dict(header))


def plain_summary(operation: dict[str, Any]) -> str | None:
    """FastAPI titles an operation after its function ("Create Plan"); a person reads the first sentence of
    its docstring better, or at least the name in sentence case ("Create plan")."""
    operation_id = operation.get("operationId", "")
    if operation.get("summary") != operation_id.replace("_", " ").title():
        return None
    description = (operation.get("description") or "").strip()
    first = re.split(r"(?<=[.!?])\s|\n", description, maxsplit=1)[0].rstrip(".").strip()
    if first and len(first) <= 120:
        return first[:1].upper() + first[1:]
    words = [_ACRONYMS.get(w, w) for w in operation_id.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


_ACRONYMS = {"sbu": "SBU", "sbus": "SBUs", "api": "API", "xml": "XML", "jwks": "JWKS", "swot": "SWOT", "kpis": "KPIs"}


def _annotate(
    app: FastAPI, document: dict[str, Any], extra_schemes: dict[str, Any], idempotent_posts: bool
) -> dict[str, Any]:
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = BEARER_SCHEME
    components["securitySchemes"].update(extra_schemes)
    for name, schema in components.get("schemas", {}).items():
        # a parametrised Page[...] does not inherit the generic's docstring
        if name.startswith("Page_") and not schema.get("description"):
            schema["description"] = PAGE_DESCRIPTION
    components.setdefault("schemas", {}).update(Problem=PROBLEM_SCHEMA, ProblemFieldError=PROBLEM_FIELD_ERROR_SCHEMA)
    dependants = {(method, path): dependant for method, path, dependant in operations(app)}
    secured = {key for key, dependant in dependants.items() if checks_token(dependant)}
    for path, item in document.get("paths", {}).items():
        versioned = any(item.get(m, {}).get("responses", {}).get("412") for m in WRITE_METHODS)
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            summary = plain_summary(operation)
            if summary is not None:
                operation["summary"] = summary
            if (method, path) in secured:
                operation["security"] = [{BEARER: []}]
            elif path.startswith("/v1/"):
                # public, or secured by a scheme of its own the route declared (the bootstrap token)
                operation.setdefault("security", [])
            if method == "post" and idempotent_posts:
                _add_parameter(operation, IDEMPOTENCY_KEY)
            dependant = dependants.get((method, path))
            if dependant is not None:
                possible = possible_errors(method, path, dependant, operation)
                if method == "post" and idempotent_posts:
                    possible |= {400, 409, 422}  # a malformed key; a key still running; reused with another body
                _declare_errors(operation, possible)
            if method in WRITE_METHODS and "412" in operation.get("responses", {}):
                _add_parameter(operation, IF_MATCH)
            _add_header(operation, "201", "Location", LOCATION_HEADER)
            if versioned and method in ("get", "patch", "put"):
                _add_header(operation, "200", "ETag", ETAG_HEADER)
            _add_header(operation, "503", "Retry-After", RETRY_AFTER_HEADER)
    # FastAPI's own validation-error schemas: every 422 is the problem above
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    return document


def install_openapi(app: FastAPI, *, extra_schemes: dict[str, Any] | None = None, idempotent_posts: bool) -> None:
    """Annotate the document when it is first built (included routers are resolved only then)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _annotate(app, build(), extra_schemes or {}, idempotent_posts)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def refuse_unknown_query(request: Request) -> None:
    """An app-wide dependency: a GET naming a query parameter its operation does not declare is 422."""
    if request.method != "GET" or not request.query_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or getattr(dependant.call, "ignores_query", False):
        return
    cache = context_of(request.app).query_names
    known = cache.get(id(dependant))
    if known is None:
        known = cache[id(dependant)] = declared_query_names(dependant)
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise Unprocessable(
            f"unknown query parameter {unknown[0]!r}; this operation accepts: {allowed}", loc=["query", unknown[0]]
        )
