"""Organisation A's world: one object of every kind, created through the API, with the value of every path
parameter the services take and a valid body (and required query) for every operation.

A path parameter or an operation body the world does not know makes the walks fail with a message saying what
to add here: that is how new routes join the isolation matrix.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from shared.context import context_of
from shared.events.outbox import publish
from shared.events.relay import Outcome, Relay
from tests.compliance.support import ITEM
from tests.security.operations import PARAM, Operation
from tests.support import Tenant

CUSTOMS_SAMPLES = Path(__file__).resolve().parents[1] / "compliance" / "customs" / "samples" / "import"
HOOK_URL = "http://127.0.0.1:9/xbm-walk"
EBP, PAY, LOGISTICS, SKU = "1105910159", "PAY0000001", "LOG0000001", "SCARF-1"


@dataclass(frozen=True)
class Raw:
    """A body that is not JSON."""

    content: bytes
    media_type: str


class WorldGap(AssertionError):
    """The world lacks what an operation needs: the message says what to add."""


@dataclass
class World:
    service: str
    tenant: Tenant
    #: path parameter name → value; ``"<segment>/<name>"`` wins for a name several collections share (item_id)
    params: dict[str, str] = field(default_factory=dict)
    #: (METHOD, path) → a valid body (JSON-able, or Raw), or a function making a new one each time (unique keys)
    bodies: dict[tuple[str, str], Any] = field(default_factory=dict)
    #: (METHOD, path) → the required query parameters
    queries: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def value(self, path: str, name: str, overrides: dict[str, str] | None = None) -> str:
        before = path.split("{" + name + "}")[0].rstrip("/").rsplit("/", 1)[-1]
        # ``"<path>:<name>"``: the value for one operation alone (an object in the one state it reads)
        for key in (f"{path}:{name}", f"{before}/{name}", name):
            for source in (overrides or {}, self.params):
                if key in source:
                    return source[key]
        raise WorldGap(
            f"{self.service}: the isolation world has no value for {{{name}}} in {path}: create one such object "
            f"of organisation A in tests/security/support.py and record its id as params[{name!r}] "
            f"(or params['{before}/{name}'] when several collections call it {name})"
        )

    def url(self, op: Operation, overrides: dict[str, str] | None = None) -> str:
        return PARAM.sub(lambda m: quote(self.value(op.path, m.group(1), overrides), safe=""), op.path)

    def request(self, op: Operation, overrides: dict[str, str] | None = None) -> dict[str, Any]:
        """The arguments of ``client.request`` for this operation on A's objects (headers added by the caller)."""
        kwargs: dict[str, Any] = {"method": op.method, "url": self.url(op, overrides), "headers": {}}
        missing = [q for q in op.required_query if q not in self.queries.get(op.key, {})]
        if missing:
            raise WorldGap(
                f"{self.service}: {op} needs the query parameters {missing}: add them to queries[{op.key!r}] "
                "in tests/security/support.py"
            )
        if op.key in self.queries:
            kwargs["params"] = self.queries[op.key]
        if op.key in self.bodies:
            body = self.bodies[op.key]
            body = body() if callable(body) else body
            if isinstance(body, Raw):
                kwargs["content"] = body.content
                kwargs["headers"]["Content-Type"] = body.media_type
            else:
                kwargs["json"] = body
        elif op.body_required:
            raise WorldGap(
                f"{self.service}: {op} takes a body and the world has none: add a valid body as "
                f"bodies[{op.key!r}] in tests/security/support.py (a 422 would stop the walk before the tenancy check)"
            )
        return kwargs


async def created(client: httpx.AsyncClient, method: str, url: str, tenant: Tenant, role: str, body: Any) -> Any:
    response = await client.request(method, url, json=body, headers=tenant.auth(role))
    assert response.status_code in (200, 201), f"world: {method} {url} → {response.status_code} {response.text}"
    return response.json()


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


# --- subscriptions and deliveries (every service with events) -------------------------------------------------


async def subscribe(world: World, client: httpx.AsyncClient, app: Any) -> None:
    """A subscription to every event the service publishes, made before the other objects so their events
    reach it."""
    if context_of(app).events is None:
        return
    body = {"url": HOOK_URL, "event_types": list(context_of(app).events.event_types), "description": "walk"}
    world.bodies[("POST", "/v1/subscriptions")] = body
    world.bodies[("PATCH", "/v1/subscriptions/{subscription_id}")] = {"description": "walked"}
    sub = await created(client, "POST", "/v1/subscriptions", world.tenant, "admin", body)
    world.params["subscription_id"] = sub["id"]


async def find_delivery(world: World, client: httpx.AsyncClient, app: Any) -> None:
    """A delivery to A's subscription: one of the world's events if any reached it, else one recorded directly
    (the outbox is the only way deliveries come to exist)."""
    if context_of(app).events is None:
        return
    url = f"/v1/subscriptions/{world.params['subscription_id']}/deliveries"
    items = (await client.get(url, headers=world.tenant.auth())).json()["items"]
    if not items:
        tables = context_of(app).events
        assert tables is not None
        async with context_of(app).sessionmaker() as session:
            await publish(session, tables, tables.events[0].model_construct(), org_id=world.tenant.org_id)
            await session.commit()
        items = (await client.get(url, headers=world.tenant.auth())).json()["items"]
    world.params["delivery_id"] = items[0]["id"]
    # as the relay records a 2xx from the subscriber: a delivered event can be replayed (a pending one is 409)
    relay = Relay(
        context_of(app).sessionmaker, context_of(app).events, context_of(app).http, context_of(app).outbound_policy
    )
    await relay.record_outcomes([Outcome(items[0]["id"], world.params["subscription_id"], 200, None, 1)])


# --- plans ----------------------------------------------------------------------------------------------------

PLAN = {
    "name": "Walk plan",
    "period_start": "2027-01-01",
    "period_end": "2027-12-31",
    "base_currency": "USD",
    "trade_direction": "export",
}


async def plan_with_tactics(plans: httpx.AsyncClient, tenant: Tenant, world: World | None = None) -> dict[str, Any]:
    """A draft plan with its strategic and tactical layers and an SBU; records bodies and ids in ``world``."""
    w = world or World("plans", tenant)
    plan = await created(plans, "POST", "/v1/plans", tenant, "executive", PLAN)
    base = f"/v1/plans/{plan['id']}"
    w.params["plan_id"] = plan["id"]
    w.bodies[("POST", "/v1/plans")] = PLAN
    w.bodies[("PATCH", "/v1/plans/{plan_id}")] = {"description": "walked"}
    factor = {"scope": "macro", "category": "economy", "description": "tariffs fall", "impact": 3}
    segment = {"name": "Office golfers", "countries": ["US"], "attractiveness": 8, "fit": 9}
    children: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
        "environment-factors": ("executive", factor, {"impact": 2}),
        "swot-items": (
            "executive",
            {"quadrant": "strength", "description": "fast", "weight": "0.5"},
            {"weight": "0.4"},
        ),
        "segments": ("executive", segment, {"fit": 7}),
    }
    ids: dict[str, str] = {}
    for path, (role, body, patch) in children.items():
        ids[path] = (await created(plans, "POST", f"{base}/{path}", tenant, role, body))["id"]
        w.bodies[("POST", f"/v1/plans/{{plan_id}}/{path}")] = body
        w.bodies[("PATCH", f"/v1/plans/{{plan_id}}/{path}/{{item_id}}")] = patch
    targeting = {"segment_ids": [ids["segments"]]}
    positioning = {"target_segment_id": ids["segments"], "statement": "The office golf coach"}
    for path, body in (("targeting", targeting), ("positioning", positioning)):
        await created(plans, "PUT", f"{base}/{path}", tenant, "executive", body)
        w.bodies[("PUT", f"/v1/plans/{{plan_id}}/{path}")] = body
    product = {"sku": "GS-200", "name": "Golf kit", "unit_cost": money("300"), "price": money("500")}
    tactics: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
        "customers": (
            "supervisor",
            {
                "name": "Business people",
                "segment_id": ids["segments"],
                "needs": [{"statement": "practise", "demand": "strong"}],
            },
            {"description": "walked"},
        ),
        "channels": (
            "supervisor",
            {"name": "Store", "platform": "amazon", "mode": "platform", "business_model": "B2C", "countries": ["US"]},
            {"countries": ["DE"]},
        ),
        "products": ("supervisor", product, {"pricing_note": "walked"}),
        "innovations": (
            "executive",
            {"title": "Live demos", "layer": "tactical", "hypothesis": "demos sell", "budget": money("100")},
            {"status": "running"},
        ),
        "reviews": (
            "specialist",
            {"loop": "pdca", "phase": "plan", "findings": "f", "actions": "a"},
            {"findings": "g"},
        ),
        "status-snapshots": (
            "supervisor",
            {"as_of": "2027-03-31", "customer_count": 10, "repurchase_rate": "0.2", "member_activity_rate": "0.1"},
            {"notes": "walked"},
        ),
        "membership-tiers": ("supervisor", {"name": "Gold", "level": 1, "benefits": ["free shipping"]}, {"level": 2}),
        "service-channels": ("supervisor", {"kind": "email", "role": "core"}, {"notes": "walked"}),
    }
    for path, (role, body, patch) in tactics.items():
        ids[path] = (await created(plans, "POST", f"{base}/{path}", tenant, role, body))["id"]
        w.bodies[("POST", f"/v1/plans/{{plan_id}}/{path}")] = body
        w.bodies[("PATCH", f"/v1/plans/{{plan_id}}/{path}/{{item_id}}")] = patch
    for path, item_id in ids.items():
        w.params[f"{path}/item_id"] = item_id
    w.bodies[("POST", "/v1/plans/{plan_id}/products")] = lambda: {**product, "sku": "GS-" + uuid.uuid4().hex[:8]}
    other_product = await created(plans, "POST", f"{base}/products", tenant, "supervisor", {**product, "sku": "GS-300"})
    sbu_body = {
        "customer_id": ids["customers"],
        "channel_id": ids["channels"],
        "product_id": ids["products"],
        "need": "practise in the office",
        "demand": "strong",
        "budget": money("10000"),
        "revenue_target": money("60000"),
        "owner": "Li Wei",
    }
    sbu = await created(plans, "POST", f"{base}/sbus", tenant, "supervisor", sbu_body)
    w.params["sbu_id"] = sbu["id"]
    w.bodies[("POST", "/v1/plans/{plan_id}/sbus")] = sbu_body
    w.bodies[("PATCH", "/v1/sbus/{sbu_id}")] = {"owner": "Walker"}
    w.bodies[("POST", "/v1/sbus/{sbu_id}/derive")] = {"product_id": other_product["id"], "reason": "walk"}
    w.bodies[("POST", "/v1/sbus/{sbu_id}/retire")] = {"reason": "walk"}
    return sbu


async def plans_world(clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant) -> World:
    plans = clients["plans"]
    world = World("plans", tenant)
    world.params["org_id"] = tenant.org_id
    await subscribe(world, plans, apps["plans"])
    key_body = {"name": "walk key", "role": "analyst"}
    world.params["key_id"] = (await created(plans, "POST", "/v1/api-keys", tenant, "admin", key_body))["id"]
    world.bodies[("POST", "/v1/api-keys")] = key_body
    world.bodies[("POST", "/v1/auth/token")] = {"api_key": tenant.admin_key}
    world.bodies[("POST", "/v1/orgs")] = {"name": "Walk org"}
    await plan_with_tactics(plans, tenant, world)
    await find_delivery(world, plans, apps["plans"])
    return world


# --- campaigns ------------------------------------------------------------------------------------------------

SEM = {"keywords": [{"text": "golf simulator", "match_type": "exact"}], "daily_budget": "50.00"}


async def campaigns_world(clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant) -> World:
    campaigns = clients["campaigns"]
    world = World("campaigns", tenant)
    await subscribe(world, campaigns, apps["campaigns"])
    sbu = await plan_with_tactics(clients["plans"], tenant)
    world.params["sbu_id"] = sbu["id"]
    kind = {"key": "walk_" + uuid.uuid4().hex[:8], "name": "Walk kind", "settings_schema": {"type": "object"}}
    world.params["key"] = (await created(campaigns, "POST", "/v1/campaign-kinds", tenant, "supervisor", kind))["key"]
    world.bodies[("POST", "/v1/campaign-kinds")] = lambda: {**kind, "key": "walk_" + uuid.uuid4().hex[:8]}
    node = {
        "name": "Black Friday",
        "platform": "amazon",
        "starts_on": "2026-11-27",
        "ends_on": "2026-11-30",
        "budget": money("1000"),
    }
    world.params["node_id"] = (await created(campaigns, "POST", "/v1/event-nodes", tenant, "supervisor", node))["id"]
    world.bodies[("POST", "/v1/event-nodes")] = node
    campaign = {
        "sbu_id": sbu["id"],
        "kind": "sem",
        "name": "sem push",
        "budget": money("3000.00"),
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-30",
        "event_node_id": world.params["node_id"],
        "settings": SEM,
    }
    campaign_id = (await created(campaigns, "POST", "/v1/campaigns", tenant, "specialist", campaign))["id"]
    world.params["campaign_id"] = campaign_id
    world.bodies[("POST", "/v1/campaigns")] = campaign
    world.bodies[("PATCH", "/v1/campaigns/{campaign_id}")] = {"name": "walked"}
    world.bodies[("POST", "/v1/campaigns/{campaign_id}/transitions")] = {"to": "scheduled"}
    row = {
        "date": "2026-09-01",
        "variant": "a",
        "impressions": 1000,
        "clicks": 50,
        "cost": money("25.00"),
        "conversions": 5,
        "revenue": money("100.00"),
    }
    metrics = {"rows": [row, {**row, "variant": "b"}]}
    await created(campaigns, "PUT", f"/v1/campaigns/{campaign_id}/metrics", tenant, "specialist", metrics)
    world.bodies[("PUT", "/v1/campaigns/{campaign_id}/metrics")] = metrics
    world.bodies[("POST", "/v1/campaigns/metrics/imports")] = {
        "data": [{"campaign_id": "120210000000000001", "date_start": "2026-09-02", "date_stop": "2026-09-02"}]
    }
    experiment = {"name": "hero", "metric": "ctr", "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}]}
    url = f"/v1/campaigns/{campaign_id}/experiments"
    world.params["experiment_id"] = (await created(campaigns, "POST", url, tenant, "specialist", experiment))["id"]
    world.bodies[("POST", "/v1/campaigns/{campaign_id}/experiments")] = experiment
    review = {"loop": "pdca", "phase": "check", "findings": "CTR low", "actions": "new creatives"}
    url = f"/v1/campaigns/{campaign_id}/reviews"
    world.params["review_id"] = (await created(campaigns, "POST", url, tenant, "specialist", review))["id"]
    world.bodies[("POST", "/v1/campaigns/{campaign_id}/reviews")] = review
    await created(
        campaigns, "POST", f"/v1/campaigns/{campaign_id}/transitions", tenant, "specialist", {"to": "scheduled"}
    )
    await find_delivery(world, campaigns, apps["campaigns"])
    return world


# --- compliance -----------------------------------------------------------------------------------------------

PROFILE = {
    "ebc_code": EBP,
    "ebc_name": "XBM Walk Seller Ltd",
    "agent_code": "1105980159",
    "agent_name": "XBM Walk Broker",
    "assure_code": "ASSURE0001",
    "customs_code": "4604",
    "port_code": "4604",
    "trade_mode": "9610",
    "cop_code": EBP,
    "cop_name": "XBM Walk Seller Ltd",
    "dxp_id": "DXPENT0000000001",
}
BUYER = "110101199001010042"


def documents(order_no: str) -> dict[str, dict[str, Any]]:
    """An order, its payment and its waybill that match: the order ends declared."""
    person = {"name": "Jiao Hongyu", "id_number": BUYER, "telephone": "13522652231"}
    consignee = {"name": "Jiao Hongyu", "telephone": "13522652231", "address": "Beijing Haidian 1 Zhongguancun Street"}
    item = {"gnum": 1, "item_no": SKU, "name": "Wool scarf", "qty": "2", "unit": "011", "price": "100", "total": "200"}
    order = {
        "order_no": order_no,
        "ebp_code": EBP,
        "ebc_code": EBP,
        "trade_direction": "import",
        "goods_value": "200.00",
        "freight": "20.00",
        "discount": "0",
        "tax_total": "20.02",
        "actual_paid": "240.02",
        "currency": "CNY",
        "buyer": {"reg_no": "u1", **person},
        "consignee": consignee,
        "items": [item],
        "pay_code": PAY,
        "pay_transaction_id": "T" + order_no,
    }
    payment = {
        "pay_code": PAY,
        "pay_transaction_id": "T" + order_no,
        "order_no": order_no,
        "ebp_code": EBP,
        "payer": person,
        "amount_paid": "240.02",
        "currency": "CNY",
        "paid_at": "2026-09-01T08:00:00+00:00",
    }
    waybill = {
        "logistics_code": LOGISTICS,
        "logistics_no": "L" + order_no,
        "order_no": order_no,
        "freight": "20.00",
        "weight_kg": "0.4",
        "consignee": consignee,
        "traf_no": "CA1234",
        "voyage_no": "CA1234",
        "bill_no": "999-12345675",
    }
    return {"orders": order, "payments": payment, "waybills": waybill}


def export_documents(order_no: str) -> dict[str, dict[str, Any]]:
    """A US buyer's USD order (no ID number), the receipt of its payment and its waybill: declared for export,
    summarised monthly (statisticsFlag B)."""
    consignee = {"name": "Jane Roe", "telephone": "+1 555 0100", "address": "1 Main St, Springfield", "country": "US"}
    item = {"gnum": 1, "item_no": SKU, "name": "Wool scarf", "qty": "1", "unit": "011", "price": "100", "total": "100"}
    order = {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "trade_direction": "export", "trade_mode": "9610",
        "statistics_flag": "B", "goods_value": "100.00", "freight": "10.00", "discount": "0", "tax_total": "0",
        "actual_paid": "110.00", "currency": "USD", "destination_country": "US",
        "buyer": {"name": "Jane Roe", "country": "US"}, "consignee": consignee, "items": [item],
    }  # fmt: skip
    payment = {
        "pay_code": PAY, "pay_transaction_id": "T" + order_no, "order_no": order_no, "ebp_code": EBP,
        "payer": {"name": "Jane Roe"}, "amount_paid": "110.00", "currency": "USD",
        "paid_at": "2026-09-01T08:00:00+00:00",
    }  # fmt: skip
    waybill = {
        "logistics_code": LOGISTICS, "logistics_no": "E" + order_no, "order_no": order_no, "freight": "10.00",
        "weight_kg": "0.4", "consignee": consignee, "destination_country": "US", "pod": "002",
    }  # fmt: skip
    return {"orders": order, "payments": payment, "waybills": waybill}


async def b2b_objects(c: httpx.AsyncClient, world: World, tenant: Tenant) -> None:
    """Today's USD rate, and a 9710 export of USD 1,000 (above ¥5,000) held for a customs declaration (报关单): the
    broker's document is read from it; recording a declaration walks the world's import order (409 for A)."""
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    rate = {"rate": "7.1307", "source": "PBOC central parity"}
    await created(c, "PUT", f"/v1/compliance/exchange-rates/USD/{day}", tenant, "integration", rate)
    world.params |= {"currency": "USD", "day": day}
    world.bodies[("PUT", "/v1/compliance/exchange-rates/{currency}/{day}")] = rate
    held = "B2B" + uuid.uuid4().hex[:12].upper()
    docs = export_documents(held)
    docs["orders"] |= {"trade_mode": "9710", "goods_value": "1000.00", "actual_paid": "1010.00",
                       "items": [{**docs["orders"]["items"][0], "qty": "10", "total": "1000"}]}  # fmt: skip
    docs["payments"]["amount_paid"] = "1010.00"
    for kind, body in docs.items():
        await created(c, "POST", f"/v1/compliance/{kind}", tenant, "integration", body)
    view = (await c.get(f"/v1/compliance/orders/{EBP}/{held}", headers=tenant.auth())).json()
    assert view["state"] == "needs_customs_declaration", f"world: the B2B export is {view['state']}"
    world.params["/v1/compliance/orders/{ebp_code}/{order_no}/customs-declaration:order_no"] = held
    declared = {"entry_id": "460420261000123456", "declared_on": day}
    for tail in ("customs-declaration/declared", "declared-elsewhere"):
        world.bodies[("POST", f"/v1/compliance/orders/{{ebp_code}}/{{order_no}}/{tail}")] = declared


def _yesterday() -> str:
    """A day ago in China time (customs' clock, 14 digits): a return counts its 30 days from customs' release."""
    return (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=1)).strftime("%Y%m%d%H%M%S")


async def released_export(c: httpx.AsyncClient, tenant: Tenant) -> str:
    """An export order customs released (CEB604 800): the order number."""
    export_no = "EXR" + uuid.uuid4().hex[:12].upper()
    for kind, body in export_documents(export_no).items():
        await created(c, "POST", f"/v1/compliance/{kind}", tenant, "integration", body)
    view = (await c.get(f"/v1/compliance/orders/{EBP}/{export_no}", headers=tenant.auth())).json()
    assert view["state"] == "declared", f"world: the export order did not end declared: {view['checks']}"
    cop_no = await _cop_no(c, tenant, view["declaration_id"])
    invt_no = "E" + uuid.uuid4().hex[:17].upper()
    for status in (120, 800):
        await _post_xml(c, tenant, _receipt("CEB604Message", "InventoryReturn", cop_no, status, invt_no, export_no))
    return export_no


#: what an export return names beyond the original waybill (the walk's waybill says no flight)
EXPORT_RETURN = {"reason": "walk", "traf_name": "CA984", "voyage_no": "CA984"}
TALLY = {"operator_code": "4604980001", "operator_name": "Walk site"}


def _receipt(message: str, node: str, cop_no: str, status: int, invt_no: str, order_no: str) -> Raw:
    ns = "http://www.chinaport.gov.cn/ceb"
    guid = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
    body = (
        f'<{message} xmlns="{ns}" guid="{guid}" version="1.0"><{node}><guid>{guid}</guid>'
        f"<agentCode>1105980159</agentCode><copNo>{cop_no}</copNo><preNo>P{invt_no[1:]}</preNo>"
        f"<invtNo>{invt_no}</invtNo><ebcCode>{EBP}</ebcCode><ebpCode>{EBP}</ebpCode><orderNo>{order_no}</orderNo>"
        f"<returnStatus>{status}</returnStatus><returnTime>{_yesterday()}{status:03d}</returnTime>"
        f"<returnInfo>walk</returnInfo></{node}></{message}>"
    )
    return Raw(body.encode(), "application/xml")


async def _post_xml(c: httpx.AsyncClient, tenant: Tenant, raw: Raw) -> None:
    r = await c.post(
        "/v1/compliance/messages", content=raw.content, headers={**tenant.auth(), "Content-Type": raw.media_type}
    )
    assert r.status_code == 200, f"world: {r.status_code} {r.text}"


async def _cop_no(c: httpx.AsyncClient, tenant: Tenant, declaration_id: str) -> str:
    from lxml import etree

    xml = await c.get(f"/v1/compliance/declarations/{declaration_id}/xml", headers=tenant.auth())
    assert xml.status_code == 200, f"world: {xml.text}"
    return str(etree.fromstring(xml.content).findtext(".//{http://www.chinaport.gov.cn/ceb}copNo"))


async def customs_objects(
    c: httpx.AsyncClient, world: World, tenant: Tenant, order_no: str, declaration_id: str
) -> None:
    """A released import order with a declared return; an export order, numbered by customs, whose withdrawal is
    requested (its declaration serves every declaration message); a month's summary of it."""
    cop_no = await _cop_no(c, tenant, declaration_id)
    invt_no = "I" + uuid.uuid4().hex[:17].upper()
    for status in (120, 800):
        await _post_xml(c, tenant, _receipt("CEB622Message", "InventoryReturn", cop_no, status, invt_no, order_no))
    url = f"/v1/compliance/orders/{EBP}/{order_no}/returns"
    world.params["return_id"] = (await created(c, "POST", url, tenant, "integration", {"reason": "walk"}))["id"]
    world.bodies[("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/returns")] = {"reason": "walk"}
    world.bodies[("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/tax/accept")] = {"note": "walk"}
    world.bodies[("POST", "/v1/compliance/returns/{return_id}/goods-back")] = lambda: {
        "arrived_at": datetime.now(UTC).isoformat()
    }
    returned_no = await released_export(c, tenant)
    url = f"/v1/compliance/orders/{EBP}/{returned_no}/export-returns"
    export_return = await created(c, "POST", url, tenant, "integration", EXPORT_RETURN)
    world.params["export-returns/return_id"] = export_return["id"]
    world.bodies[("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/export-returns")] = EXPORT_RETURN
    world.bodies[("POST", "/v1/compliance/export-returns/{return_id}/tally")] = TALLY
    url = f"/v1/compliance/export-returns/{export_return['id']}/tally"
    await created(c, "POST", url, tenant, "integration", TALLY)
    export_no = "EXP" + uuid.uuid4().hex[:12].upper()
    for kind, body in export_documents(export_no).items():
        await created(c, "POST", f"/v1/compliance/{kind}", tenant, "integration", body)
    view = (await c.get(f"/v1/compliance/orders/{EBP}/{export_no}", headers=tenant.auth())).json()
    assert view["state"] == "declared", f"world: the export order did not end declared: {view['checks']}"
    export_cop = await _cop_no(c, tenant, view["declaration_id"])
    invt_no = "E" + uuid.uuid4().hex[:17].upper()
    await _post_xml(c, tenant, _receipt("CEB604Message", "InventoryReturn", export_cop, 120, invt_no, export_no))
    r = await c.post(
        f"/v1/compliance/orders/{EBP}/{export_no}/cancellation", json={"reason": "walk"}, headers=tenant.auth()
    )
    assert r.status_code == 200 and r.json()["state"] == "cancel_requested", f"world: {r.text}"
    world.params["declaration_id"] = view["declaration_id"]
    world.bodies[("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/cancellation")] = {"reason": "walk"}
    bill = {"logistics_code": LOGISTICS, "bill_no": "999-12345675", "traf_name": "CA983", "voyage_no": "CA983",
            "declaration_ids": [view["declaration_id"]]}  # fmt: skip
    world.params["link_id"] = (await created(c, "POST", "/v1/compliance/master-bills", tenant, "integration", bill))[
        "id"
    ]
    world.bodies[("POST", "/v1/compliance/master-bills")] = bill
    # the month's summary holds the lists customs released: one more export order, released
    await released_export(c, tenant)
    month = {"month": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")}
    world.params["summary_id"] = (await created(c, "POST", "/v1/compliance/summaries", tenant, "admin", month))["id"]
    world.bodies[("POST", "/v1/compliance/summaries")] = month


async def compliance_world(clients: dict[str, httpx.AsyncClient], apps: dict[str, Any], tenant: Tenant) -> World:
    c = clients["compliance"]
    world = World("compliance", tenant)
    await subscribe(world, c, apps["compliance"])
    own = {**PROFILE, "dxp_id": "DXP" + hashlib.sha256(tenant.org_id.encode()).hexdigest()[:13].upper()}
    await created(c, "PUT", "/v1/compliance/customs-profile", tenant, "admin", own)
    world.bodies[("PUT", "/v1/compliance/customs-profile")] = own
    exports = {**own, "name": "B2B exports", "trade_mode": "9710"}
    world.params["profile_id"] = (await created(c, "POST", "/v1/compliance/customs-profiles", tenant, "admin",
                                                exports))["id"]  # fmt: skip
    world.bodies[("POST", "/v1/compliance/customs-profiles")] = lambda: {
        **own, "name": "Another office", "customs_code": f"{uuid.uuid4().int % 10000:04d}",
        "dxp_id": "DXP" + uuid.uuid4().hex[:13].upper(),
    }  # fmt: skip
    world.bodies[("PATCH", "/v1/compliance/customs-profiles/{profile_id}")] = {"agent_name": "Another broker"}
    lifecycle = {"new_days": 30, "active_days": 90, "at_risk_days": 180}
    world.bodies[("PUT", "/v1/compliance/customers/lifecycle")] = lifecycle
    institution = {
        "pay_code": PAY,
        "name": "XBM Pay",
        "licence_no": "Z2000000000001",
        "scopes": ["internet_payment"],
        "status": "active",
    }
    url = "/v1/compliance/payment-institutions"
    world.params["institution_id"] = (await created(c, "POST", url, tenant, "admin", institution))["id"]
    world.bodies[("POST", url)] = lambda: {**institution, "pay_code": "PAY" + uuid.uuid4().hex[:7].upper()}
    world.bodies[("PATCH", "/v1/compliance/payment-institutions/{institution_id}")] = {"name": "XBM Pay Ltd"}
    await created(c, "PUT", f"/v1/compliance/items/{SKU}", tenant, "integration", ITEM)
    world.params["item_no"] = SKU
    world.bodies[("PUT", "/v1/compliance/items/{item_no}")] = ITEM
    source = {"name": "Shop", "kind": "shopify", "role": "platform", "ebp_code": EBP, "ebp_name": "XBM Shop"}
    world.params["source_id"] = (await created(c, "POST", "/v1/compliance/sources", tenant, "admin", source))["id"]
    world.bodies[("POST", "/v1/compliance/sources")] = {**source, "name": "Another shop"}
    world.bodies[("POST", "/v1/compliance/webhooks/{source_id}")] = {"id": 1, "name": "#ORDWALK"}
    order_no = "ORD" + uuid.uuid4().hex[:12].upper()
    for kind, body in documents(order_no).items():
        await created(c, "POST", f"/v1/compliance/{kind}", tenant, "integration", body)
    for kind, body in documents("ORD" + uuid.uuid4().hex[:12].upper()).items():
        world.bodies[("POST", f"/v1/compliance/{kind}")] = body
    world.params |= {"ebp_code": EBP, "order_no": order_no}
    view = (await c.get(f"/v1/compliance/orders/{EBP}/{order_no}", headers=tenant.auth())).json()
    assert view["declaration_id"], f"world: the order did not end declared: {view['state']} {view['checks']}"
    await customs_objects(c, world, tenant, order_no, view["declaration_id"])
    await b2b_objects(c, world, tenant)
    # a buyer of their own to erase (an admin erases them; nothing else in the walk reads their order)
    erased = documents("ERA" + uuid.uuid4().hex[:12].upper())["orders"]
    erased["buyer"] = {**erased["buyer"], "reg_no": "walk-erasure"}
    await created(c, "POST", "/v1/compliance/orders", tenant, "integration", erased)
    world.params["customer_id"] = "walk-erasure"
    world.bodies[("POST", "/v1/compliance/customers/{customer_id}/erasure")] = {}
    world.bodies[("PATCH", "/v1/compliance/orders/{ebp_code}/{order_no}")] = {"consignee": {"telephone": "13522652231"}}
    rotated = {"secret": "shpss_walk0000000000000000000000000"}
    world.bodies[("POST", "/v1/compliance/sources/{source_id}/secret")] = rotated
    world.bodies[("POST", "/v1/compliance/messages")] = Raw(
        (CUSTOMS_SAMPLES / "CEB311Message.xml").read_bytes(), "application/xml"
    )
    world.queries[("GET", "/v1/compliance/quota")] = {"buyer_id_number": BUYER}
    await find_delivery(world, c, apps["compliance"])
    return world


BUILDERS = {"plans": plans_world, "campaigns": campaigns_world, "compliance": compliance_world}
