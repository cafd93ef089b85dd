"""What a frontend developer gets from each service's ``/openapi.json`` and ``/docs``: a valid document that says
how to authenticate and which headers matter, and docs pages that load nothing from the internet."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.security.operations import NOT_ROLE_GUARDED
from tests.support import Tenant

pytestmark = pytest.mark.db

SERVICES = ("plans", "campaigns", "compliance")
METHODS = ("get", "post", "put", "patch", "delete")


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def v1_operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
        if method in METHODS
    ]


@pytest.mark.parametrize("service", SERVICES)
async def test_each_document_is_valid_and_declares_security_on_every_non_public_operation(
    clients: dict[str, httpx.AsyncClient], service: str
) -> None:
    doc = await document(clients[service])
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    unsecured = []
    for method, path, op in v1_operations(doc):
        if (method, path) in NOT_ROLE_GUARDED:
            # public: declared so, or with the scheme of its own (the bootstrap token)
            assert op["security"] in ([], [{"bootstrapToken": []}]), (method, path, op.get("security"))
            for requirement in op["security"]:
                assert set(requirement) <= set(schemes)
        elif op.get("security") != [{"bearerAuth": []}]:
            unsecured.append((method, path))
    assert unsecured == []


async def test_the_bootstrap_header_has_its_own_scheme(plans: httpx.AsyncClient) -> None:
    doc = await document(plans)
    assert doc["components"]["securitySchemes"]["bootstrapToken"] == {
        **doc["components"]["securitySchemes"]["bootstrapToken"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Bootstrap-Token",
    }
    assert doc["paths"]["/v1/orgs"]["post"]["security"] == [{"bootstrapToken": []}]


@pytest.mark.parametrize("service", SERVICES)
async def test_conventional_headers_are_declared_where_they_apply(
    clients: dict[str, httpx.AsyncClient], service: str
) -> None:
    doc = await document(clients[service])
    for method, path, op in v1_operations(doc):
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        responses = op["responses"]
        if method == "POST":
            assert "Idempotency-Key" in headers, (method, path)
        if method in ("PATCH", "PUT", "DELETE") and "412" in responses:
            assert "If-Match" in headers, (method, path)
        if "201" in responses:
            assert "Location" in responses["201"].get("headers", {}), (method, path)
        if "503" in responses:
            assert "Retry-After" in responses["503"].get("headers", {}), (method, path)
    # the resources that honour If-Match say which version they are
    versioned = [
        p
        for p, item in doc["paths"].items()
        if any("412" in item.get(m, {}).get("responses", {}) for m in ("patch", "put", "delete"))
    ]
    for path in versioned:
        get = doc["paths"][path].get("get")
        if get is not None:
            assert "ETag" in get["responses"]["200"]["headers"], path


async def test_declared_headers_are_the_ones_the_service_honours(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    """Idempotency-Key, ETag, If-Match and Location, used as the document describes them."""
    body = {
        "name": "Company A — docs plan",
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
        "base_currency": "USD",
        "trade_direction": "export",
    }
    headers = {**tenant.auth("executive"), "Idempotency-Key": "docs-plan-1"}
    first = await plans.post("/v1/plans", json=body, headers=headers)
    again = await plans.post("/v1/plans", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    got = await plans.get(first.headers["location"], headers=tenant.auth("analyst"))
    assert got.status_code == 200 and got.json()["id"] == first.json()["id"]
    stale = '"0000"'
    refused = await plans.patch(
        first.headers["location"], json={"name": "renamed"}, headers={**tenant.auth("executive"), "If-Match": stale}
    )
    assert refused.status_code == 412
    changed = await plans.patch(
        first.headers["location"],
        json={"name": "renamed"},
        headers={**tenant.auth("executive"), "If-Match": got.headers["etag"]},
    )
    assert changed.status_code == 200 and changed.json()["name"] == "renamed"


ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_every_asset_from_the_service(
    clients: dict[str, httpx.AsyncClient], service: str, page: str
) -> None:
    client = clients[service]
    html = await client.get(page)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "cdn." not in html.text and "googleapis" not in html.text
    urls = [a or b for a, b in ASSET.findall(html.text)]
    assert urls, html.text
    for url in urls:
        assert url.startswith("/"), f"{page} loads {url} from outside the service"
        asset = await client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 0, url
    if page == "/docs":
        # the Authorize button keeps a pasted token while the page is open ("Try it out" sends it)
        assert '"persistAuthorization": true' in html.text


@pytest.mark.parametrize("service", SERVICES)
async def test_every_request_body_says_what_it_is(clients: dict[str, httpx.AsyncClient], service: str) -> None:
    doc = await document(clients[service])
    schemas = doc["components"]["schemas"]
    bodies = set()
    for _, _, op in v1_operations(doc):
        ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if ref:
            bodies.add(ref.rsplit("/", 1)[1])
    assert bodies
    assert sorted(b for b in bodies if not schemas[b].get("description")) == []


async def test_every_plans_schema_has_a_description_and_summaries_read_as_english(plans: httpx.AsyncClient) -> None:
    doc = await document(plans)
    assert [n for n, s in doc["components"]["schemas"].items() if not s.get("description")] == []
    for method, path, op in v1_operations(doc):
        summary = op["summary"]
        # not FastAPI's title-cased function name ("Create Plan"), nor "a" before a vowel
        assert summary != op["operationId"].replace("_", " ").title(), (method, path, summary)
        assert not re.search(r"\ba [aeiou]", summary), (method, path, summary)
