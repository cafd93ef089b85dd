"""What a frontend developer builds from each service's ``/openapi.json`` holds: every field says what it is,
every request body has an example the service accepts, every error is the problem+json docs/api.md describes
and only where the operation can answer it, and a decimal sent as a string is bounded in the document exactly as
the service bounds it."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.compliance.support import dxp_id_of
from tests.security.operations import operations, walk_order
from tests.security.support import (
    BUILDERS,
    EBP,
    EXPORT_RETURN,
    Raw,
    World,
    _cop_no,
    _post_xml,
    _receipt,
    documents,
    export_documents,
    released_export,
)
from tests.support import Tenant

pytestmark = pytest.mark.db

SERVICES = ("plans", "campaigns", "compliance")
METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM = "application/problem+json"


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


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


# --- descriptions ---------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def undescribed(doc: dict[str, Any]) -> list[str]:
    """Every property of every schema (nested objects included) without a description, or whose description only
    repeats its name ("name": "Name")."""
    found = []

    def walk(schema: Any, where: str) -> None:
        if isinstance(schema, dict):
            for name, prop in (schema.get("properties") or {}).items():
                description = prop.get("description", "") if isinstance(prop, dict) else ""
                if not description.strip() or _words(description) == _words(name):
                    found.append(f"{where}.{name}")
                walk(prop, f"{where}.{name}")
            for key in ("items", "additionalProperties"):
                walk(schema.get(key), where + "[]")
            for key in ("anyOf", "oneOf", "allOf"):
                for branch in schema.get(key, []):
                    walk(branch, where)

    for name, schema in doc["components"]["schemas"].items():
        walk(schema, name)
    return found


@pytest.mark.parametrize("service", SERVICES)
async def test_every_field_of_every_schema_says_what_it_is(clients: dict[str, httpx.AsyncClient], service: str) -> None:
    doc = await document(clients[service])
    missing = undescribed(doc)
    assert missing == [], f"{len(missing)} fields without a description:\n" + "\n".join(missing)


# --- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_every_error_response_is_problem_json_and_only_where_it_can_happen(
    clients: dict[str, httpx.AsyncClient], service: str
) -> None:
    doc = await document(clients[service])
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert "errors" in problem["properties"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # FastAPI's shape, which no error has
    wrong = []
    for method, path, op in v1_operations(doc):
        errors = {status: r for status, r in op["responses"].items() if status[0] in "45"}
        for status, response in errors.items():
            content = response.get("content", {})
            if content.get(PROBLEM, {}).get("schema") != {"$ref": "#/components/schemas/Problem"} or set(content) != {
                PROBLEM
            }:
                wrong.append(f"{method} {path} {status}: {sorted(content)}")
        own = _declared_by_route(op)
        takes_input = "requestBody" in op or op.get("parameters") or "{" in path or method == "GET"
        if "413" in errors and "requestBody" not in op:
            wrong.append(f"{method} {path}: 413 without a body")
        if "422" in errors and not takes_input:
            wrong.append(f"{method} {path}: 422 without any input")
        if "404" in errors and "{" not in path and "404" not in own:
            wrong.append(f"{method} {path}: 404 without an object in the path")
        for status in ("401", "403"):
            if status in errors and op.get("security") != [{"bearerAuth": []}] and status not in own:
                wrong.append(f"{method} {path}: {status} without a token to check")
    assert wrong == []
    if service == "plans":
        assert set(doc["paths"]["/v1/auth/jwks"]["get"]["responses"]) == {"200"}


def _declared_by_route(op: dict[str, Any]) -> set[str]:
    """Statuses whose description is the route's own (not one of the shared descriptions)."""
    from shared.openapi import ERROR_DESCRIPTIONS

    shared = set(ERROR_DESCRIPTIONS.values())
    return {s for s, r in op["responses"].items() if r.get("description") not in shared}


async def test_the_public_jwks_answers_200_whatever_the_query(plans: httpx.AsyncClient) -> None:
    for params in ({}, {"v": "2"}, {"nmae": "x"}):
        response = await plans.get("/v1/auth/jwks", params=params)
        assert response.status_code == 200 and response.json()["keys"], (params, response.text)


async def test_an_error_answered_is_the_schema_the_document_declares(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    from jsonschema import Draft202012Validator

    doc = await document(plans)
    schema = {**doc["components"]["schemas"]["Problem"], "components": doc["components"]}
    schema["properties"]["errors"]["items"] = {"$ref": "#/components/schemas/ProblemFieldError"}
    validator = Draft202012Validator(schema)
    refused = await plans.post("/v1/plans", json={"name": ""}, headers=tenant.auth("executive"))
    forbidden = await plans.post("/v1/plans", json={"name": "x"}, headers=tenant.auth("analyst"))
    missing = await plans.get("/v1/plans/00000000-0000-4000-8000-000000000000", headers=tenant.auth())
    for response, status in ((refused, 422), (forbidden, 403), (missing, 404)):
        assert response.status_code == status and response.headers["content-type"].startswith(PROBLEM)
        assert list(validator.iter_errors(response.json())) == [], response.text
        assert (
            str(status)
            in doc["paths"][response.request.url.path.replace("00000000-0000-4000-8000-000000000000", "{plan_id}")][
                response.request.method.lower()
            ]["responses"]
        )


# --- examples -------------------------------------------------------------------------------------------------


def body_example(doc: dict[str, Any], op: dict[str, Any]) -> tuple[str, Any] | None:
    """(media type, example) of an operation's body: the media type's own example, or its schema's first."""
    for media_type, media in op["requestBody"]["content"].items():
        if "example" in media:
            return media_type, media["example"]
        if media.get("examples"):
            return media_type, next(iter(media["examples"].values()))["value"]
        schema = media.get("schema", {})
        for branch in schema.get("anyOf", [schema]):
            resolved = resolve(doc, branch)
            if resolved.get("examples"):
                return media_type, resolved["examples"][0]
    return None


#: fields that name another object of the organisation: the test puts the world's object there, as a frontend
#: puts the one its user picked
REFERENCES = {
    "sbu_id", "customer_id", "channel_id", "product_id", "segment_id", "target_segment_id", "segment_ids",
    "factor_id", "event_node_id", "declaration_ids", "api_key", "ebp_code", "ebc_code", "pay_code",
    "logistics_code", "cop_code", "item_no", "tier_id",
}  # fmt: skip


#: and where the example names something only the deployment knows: the test's own webhook endpoint, the month
#: its export lists were declared in
DEPLOYMENT = {"url", "month"}


async def fresh_product(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """A new SBU's triple needs a product no live SBU sells yet."""
    plan = world.params["plan_id"]
    body = world.bodies[("POST", "/v1/plans/{plan_id}/products")]
    made = await client.post(f"/v1/plans/{plan}/products", json=body(), headers=world.tenant.auth())
    assert made.status_code == 201, made.text
    return {"product_id": made.json()["id"]}


async def ready_plan(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """Activation needs the SWOT quadrants the world's draft leaves empty."""
    plan = world.params["plan_id"]
    for quadrant in ("weakness", "opportunity", "threat"):
        item = {"quadrant": quadrant, "description": f"a {quadrant}", "weight": "0.5"}
        made = await client.post(f"/v1/plans/{plan}/swot-items", json=item, headers=world.tenant.auth())
        assert made.status_code == 201, made.text
    return {}


async def live_sbu(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """Retiring needs a live SBU (deriving retired the world's)."""
    body = {**world.bodies[("POST", "/v1/plans/{plan_id}/sbus")], **await fresh_product(client, world)}
    made = await client.post(f"/v1/plans/{world.params['plan_id']}/sbus", json=body, headers=world.tenant.auth())
    assert made.status_code == 201, made.text
    return {"sbu_id": made.json()["id"]}


SHOPIFY_SECRET = "shpss_example0000000000000000000000"


async def shopify_source(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """A webhook needs a source whose secret the test knows, to sign the example as the store would."""
    body = {**world.bodies[("POST", "/v1/compliance/sources")], "name": "Example store", "secret": SHOPIFY_SECRET}
    made = await client.post("/v1/compliance/sources", json=body, headers=world.tenant.auth())
    assert made.status_code == 201, made.text
    world.params["source_secret"] = SHOPIFY_SECRET
    return {"source_id": made.json()["id"]}


async def declared_order(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """A withdrawal needs an order declared and not yet released: its three documents, matching."""
    order_no = "EX" + uuid.uuid4().hex[:12].upper()
    for kind, body in documents(order_no).items():
        made = await client.post(f"/v1/compliance/{kind}", json=body, headers=world.tenant.auth())
        assert made.status_code in (200, 201), made.text
    view = (await client.get(f"/v1/compliance/orders/{EBP}/{order_no}", headers=world.tenant.auth())).json()
    assert view["state"] == "declared", view["checks"]
    return {"order_no": order_no, "declaration_id": view["declaration_id"]}


async def released_order(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """A return needs an order customs released, with every line still to return."""
    order = await declared_order(client, world)
    cop_no = await _cop_no(client, world.tenant, order["declaration_id"])
    invt_no = "I" + uuid.uuid4().hex[:17].upper()
    for status in (120, 800):
        receipt = _receipt("CEB622Message", "InventoryReturn", cop_no, status, invt_no, order["order_no"])
        await _post_xml(client, world.tenant, receipt)
    return {"order_no": order["order_no"]}


async def tax_disagreeing_order(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """Accepting customs' tax needs a declared order whose tax bill (CEB816) disagrees with XBM's tax."""
    order = await declared_order(client, world)
    cop_no = await _cop_no(client, world.tenant, order["declaration_id"])
    invt_no = "I" + uuid.uuid4().hex[:17].upper()
    receipt = _receipt("CEB622Message", "InventoryReturn", cop_no, 120, invt_no, order["order_no"])
    await _post_xml(client, world.tenant, receipt)
    guid = str(uuid.uuid4()).upper()
    bill = (
        f'<CEB816Message xmlns="http://www.chinaport.gov.cn/ceb" guid="{guid}" version="1.0"><Tax><TaxHeadRd>'
        f"<guid>{guid}</guid><returnTime>20261111100300000</returnTime><invtNo>{invt_no}</invtNo>"
        f"<taxNo>T{invt_no}</taxNo><customsTax>0</customsTax><valueAddedTax>99.00</valueAddedTax>"
        f"<consumptionTax>0</consumptionTax><status>1</status><ebcCode>{EBP}</ebcCode></TaxHeadRd><TaxListRd>"
        "<gnum>1</gnum><gcode>6214200000</gcode><taxPrice>1</taxPrice><customsTax>0</customsTax>"
        "<valueAddedTax>99.00</valueAddedTax><consumptionTax>0</consumptionTax></TaxListRd></Tax></CEB816Message>"
    ).encode()
    await _post_xml(client, world.tenant, Raw(bill, "application/xml"))
    return {"order_no": order["order_no"]}


async def incomplete_order(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """Completing needs an incomplete order: a store's order without the buyer's ID number, as a signed Shopify
    delivery brings one."""
    from services.compliance.intake.router import SHOPIFY_ORDER

    source = await shopify_source(client, world)
    content = json.dumps({**SHOPIFY_ORDER, "id": 5821479999, "name": "#1999"}).encode()
    headers = {**shopify_signed(content, SHOPIFY_SECRET), "Content-Type": "application/json"}
    delivered = await client.post(f"/v1/compliance/webhooks/{source['source_id']}", content=content, headers=headers)
    assert delivered.status_code in (200, 201), delivered.text
    held = await client.get("/v1/compliance/orders", params={"state": "incomplete"}, headers=world.tenant.auth())
    assert held.status_code == 200 and held.json()["items"], held.text
    order = held.json()["items"][-1]
    return {"ebp_code": order["ebp_code"], "order_no": order["order_no"]}


async def buyer_to_erase(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """An erasure needs a buyer XBM keeps: a declared order's, named by its number (no platform customer id)."""
    world.params["erased_order_no"] = (await declared_order(client, world))["order_no"]
    return {"customer_id": "-"}


async def erased_order(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    return {"ebp_code": EBP, "order_nos": [world.params["erased_order_no"]]}


async def held_b2b_order(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    """The world's B2B export held for a customs declaration (报关单): the one whose declaration is recorded."""
    return {"order_no": world.params["/v1/compliance/orders/{ebp_code}/{order_no}/customs-declaration:order_no"]}


async def export_to_return(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """An export return needs an export order customs released, with its lines still to return."""
    return {"order_no": await released_export(client, world.tenant)}


async def export_return_to_tally(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """A tally needs an export return whose goods are not tallied yet (the world's are)."""
    order_no = await released_export(client, world.tenant)
    url = f"/v1/compliance/orders/{EBP}/{order_no}/export-returns"
    made = await client.post(url, json=EXPORT_RETURN, headers=world.tenant.auth())
    assert made.status_code == 201, made.text
    return {"export-returns/return_id": made.json()["id"]}


async def goods_back_now(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """The goods of a return come back after its release (a day ago in the world): now."""
    return {"arrived_at": datetime.now(UTC).isoformat()}


#: what an operation needs beyond the world (a frontend's user would have made it first): path parameters
PATH_SETUP = {
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/customs-declaration/declared"): held_b2b_order,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/declared-elsewhere"): held_b2b_order,
    ("PATCH", "/v1/compliance/orders/{ebp_code}/{order_no}"): incomplete_order,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/returns"): released_order,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/export-returns"): export_to_return,
    ("POST", "/v1/compliance/export-returns/{return_id}/tally"): export_return_to_tally,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/cancellation"): declared_order,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/tax/accept"): tax_disagreeing_order,
    ("POST", "/v1/compliance/webhooks/{source_id}"): shopify_source,
    ("POST", "/v1/sbus/{sbu_id}/retire"): live_sbu,
    ("POST", "/v1/compliance/customers/{customer_id}/erasure"): buyer_to_erase,
}


async def own_dxp_id(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """An e-port id is one organisation's (unique across them): the example's, in this organisation's own."""
    return {"dxp_id": dxp_id_of(world.tenant.org_id)}


async def released_export_list(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """A month's summary needs a statisticsFlag-B export list customs released that no summary holds yet."""
    order_no = "EXP" + uuid.uuid4().hex[:12].upper()
    for kind, body in export_documents(order_no).items():
        made = await client.post(f"/v1/compliance/{kind}", json=body, headers=world.tenant.auth())
        assert made.status_code in (200, 201), made.text
    view = (await client.get(f"/v1/compliance/orders/{EBP}/{order_no}", headers=world.tenant.auth())).json()
    cop_no, invt_no = await _cop_no(client, world.tenant, view["declaration_id"]), "E" + uuid.uuid4().hex[:17].upper()
    for status in (120, 800):
        await _post_xml(client, world.tenant, _receipt("CEB604Message", "InventoryReturn", cop_no, status, invt_no,
                                                       order_no))  # fmt: skip
    return {}


#: and body fields
SETUP = {
    ("POST", "/v1/compliance/summaries"): released_export_list,
    ("POST", "/v1/plans/{plan_id}/sbus"): fresh_product,
    ("POST", "/v1/plans/{plan_id}/activate"): ready_plan,
    ("PUT", "/v1/compliance/customs-profile"): own_dxp_id,
    ("POST", "/v1/compliance/customers/{customer_id}/erasure"): erased_order,
    ("POST", "/v1/compliance/returns/{return_id}/goods-back"): goods_back_now,
}


def with_references(example: Any, valid: Any) -> Any:
    """The example, with the world's objects where it names one (the ids of its plan's customer, channel …)."""
    if isinstance(example, dict) and isinstance(valid, dict):
        return {
            k: (valid[k] if k in REFERENCES | DEPLOYMENT and k in valid else with_references(v, valid.get(k)))
            for k, v in example.items()
        }
    if isinstance(example, list) and isinstance(valid, list) and valid:
        return [with_references(v, valid[min(i, len(valid) - 1)]) for i, v in enumerate(example)]
    return example


def shopify_signed(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(), "X-Shopify-Topic": "orders/create"}


#: after the walk's order (reads, puts, patches, posts), the moves that end an object's working life go last
LAST = ("/activate", "/retire", "/transitions", "/cancellation", "/returns")


async def post_examples(client: httpx.AsyncClient, doc: dict[str, Any], world: World, app: Any) -> list[str]:
    failures = []
    ops = [op for op in walk_order(operations(world.service, app)) if op.takes_body]
    ops.sort(key=lambda op: op.path.endswith(LAST))
    for op in ops:
        spec = doc["paths"][op.path][op.method.lower()]
        found = body_example(doc, spec)
        if found is None:
            failures.append(f"{op}: no example")
            continue
        media_type, example = found
        overrides = await PATH_SETUP[op.key](client, world) if op.key in PATH_SETUP else None
        request = world.request(op, overrides)
        request.pop("json", None)
        request.pop("content", None)
        headers = {**request.pop("headers"), **world.tenant.auth()}
        if op.key == ("POST", "/v1/orgs"):
            from tests.support import BOOTSTRAP_TOKEN

            headers = {"X-Bootstrap-Token": BOOTSTRAP_TOKEN}
        if media_type == "application/json":
            valid = world.bodies.get(op.key)
            body = with_references(copy.deepcopy(example), valid() if callable(valid) else valid)
            if op.key in SETUP:
                body.update(await SETUP[op.key](client, world))
            content = json.dumps(body).encode()
        else:
            content = example.encode()
        if op.key == ("POST", "/v1/compliance/webhooks/{source_id}"):
            headers = shopify_signed(content, world.params["source_secret"])
        response = await client.request(**request, content=content, headers={**headers, "Content-Type": media_type})
        if not 200 <= response.status_code < 300:
            failures.append(f"{op}: {response.status_code} {response.text[:400]}")
    return failures


@pytest.mark.parametrize("service", SERVICES)
async def test_every_request_body_has_an_example_the_service_accepts(
    clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant, service: str
) -> None:
    doc = await document(clients[service])
    world = await BUILDERS[service](clients, apps, tenant)
    failures = await post_examples(clients[service], doc, world, apps[service])
    assert failures == [], "\n".join(failures)


# --- decimal strings ------------------------------------------------------------------------------------------


def decimal_fields(doc: dict[str, Any], schema: dict[str, Any], path: tuple[Any, ...] = ()) -> list[Any]:
    """(path in the body, number branch, string branch) of every decimal a body takes as a number or a string."""
    schema = resolve(doc, schema)
    found = []
    branches = schema.get("anyOf", [])
    number = next((b for b in branches if b.get("type") == "number"), None)
    text = next((b for b in branches if b.get("type") == "string"), None)
    if number is not None and text is not None:
        return [(path, number, text)]
    for branch in branches:
        if branch.get("type") != "null":
            found += decimal_fields(doc, branch, path)
    for name, prop in (schema.get("properties") or {}).items():
        found += decimal_fields(doc, prop, (*path, name))
    if schema.get("type") == "array" and "items" in schema:
        found += decimal_fields(doc, schema["items"], (*path, 0))
    return found


def probes(number: dict[str, Any]) -> list[str]:
    """Decimal strings at, just inside and just outside the number branch's bounds, and some with many places."""
    values = {"0", "-0", "1", "5", "-1", "0.5", "0.00001", "12.3456789", "1000000000000000", "0.1234", "0.12345"}
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in number:
            bound = Decimal(str(number[key])).normalize()
            for step in (Decimal("0.0001"), Decimal("0.01"), Decimal(1)):
                values |= {str(bound), str(bound + step), str(bound - step), "00" + str(abs(bound))}
    return sorted(v if "E" not in v else format(Decimal(v), "f") for v in values)


def names_the_field(loc: list[Any], path: tuple[Any, ...]) -> bool:
    """Whether an error's location (after ``body``) is the field, skipping the tags pydantic puts in a union's
    location (``["fx_rates", "list[FxRate]", 0, "rate"]``) and a decimal branch's tag after it."""
    steps = [part for part in loc if part in path or isinstance(part, int)]
    return steps[: len(path)] == list(path) and loc[-1] in (path[-1], "decimal", "function-before[_decimal_text()]")


def nested(path: tuple[Any, ...], value: Any) -> Any:
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return value


@pytest.mark.parametrize("service", SERVICES)
async def test_a_decimal_string_is_bounded_in_the_document_as_the_service_bounds_it(
    clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant, service: str
) -> None:
    """For every decimal field of every body: the string branch's pattern accepts a decimal string exactly when
    the service does (a 422 naming the field is a refusal), at each bound, just past it and with too many
    places; and it says the bounds in words (x-minimum …)."""
    client = clients[service]
    doc = await document(client)
    world = await BUILDERS[service](clients, apps, tenant)
    disagreements, checked = [], 0
    for op in operations(service, apps[service]):
        media = op.spec.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None or op.key == ("PUT", "/v1/campaigns/{campaign_id}/metrics"):
            continue  # metrics rows would be stored: their bounds are checked on the experiment's and plan's fields
        for path, number, text in decimal_fields(doc, media["schema"]):
            for key, word in (("minimum", "x-minimum"), ("maximum", "x-maximum")):
                if key in number and word not in text and f"x-exclusive{key.title()}" not in text:
                    disagreements.append(f"{op} {path}: {key} not on the string branch")
            pattern = re.compile(text["pattern"])
            for value in probes(number):
                request = world.request(op)
                request.pop("content", None)
                request["json"] = nested(path, value)
                response = await client.request(**{**request, "headers": {**request["headers"], **world.tenant.auth()}})
                refused = response.status_code == 422 and any(
                    names_the_field(e["loc"][1:], path) for e in response.json().get("errors", [])
                )
                checked += 1
                documented = bool(pattern.search(value)) and len(value) <= text.get("maxLength", len(value))
                if documented == refused:
                    disagreements.append(
                        f"{op} {'.'.join(map(str, path))} = {value!r}: the service "
                        + ("refuses it, the document accepts it" if refused else "accepts it, the document refuses it")
                    )
    assert checked > 20
    assert disagreements == [], "\n".join(disagreements)
