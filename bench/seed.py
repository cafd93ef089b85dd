"""Seeding the benchmark's data: organisations, a plan with 1,000 SBUs, a campaign and a compliance setup through
the API; and, for the matching-cost benchmark, stored orders (with their payments, waybills, order-number locks
and declarations) written straight into compliance's tables with ``INSERT … SELECT generate_series``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench.procs import BOOTSTRAP_TOKEN, plain
from services.compliance.orders.documents import OrderDoc, PaymentDoc, WaybillDoc
from services.compliance.pii import Pii, mask

ROLES = ("executive", "supervisor", "specialist", "analyst", "integration")
EBP, PAY, LOGISTICS, SKU = "1105910159", "PAY0000001", "LOG0000001", "SCARF-1"


def expect(response: httpx.Response, *codes: int) -> dict[str, Any]:
    if response.status_code not in codes:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json() if response.content else {}  # type: ignore[no-any-return]


@dataclass
class Org:
    """An organisation with an API key per role; tokens are minted again before each phase (they live 15 min)."""

    plans_url: str
    org_id: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def refresh(self) -> None:
        async with httpx.AsyncClient(base_url=self.plans_url, timeout=30) as plans:
            for role, key in self.keys.items():
                body = expect(await plans.post("/v1/auth/token", json={"api_key": key}), 200)
                self.tokens[role] = body["access_token"]


async def new_org(plans_url: str, name: str) -> Org:
    org = Org(plans_url)
    async with httpx.AsyncClient(base_url=plans_url, timeout=30) as plans:
        created = expect(
            await plans.post("/v1/orgs", json={"name": name}, headers={"X-Bootstrap-Token": BOOTSTRAP_TOKEN}), 201
        )
        org.org_id, org.keys["admin"] = created["org"]["id"], created["admin_api_key"]
        await org.refresh()
        for role in ROLES:
            key = expect(await plans.post("/v1/api-keys", json={"name": role, "role": role}, headers=org.auth()), 201)
            org.keys[role] = key["key"]
    await org.refresh()
    return org


# --- plans and campaigns --------------------------------------------------------------------------------------


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


PLAN = {"name": "Bench plan", "period_start": "2027-01-01", "period_end": "2027-12-31", "base_currency": "USD",
        "trade_direction": "export"}  # fmt: skip


async def _post_all(client: httpx.AsyncClient, url: str, bodies: list[dict[str, Any]], headers: Any) -> list[dict]:
    """POST many bodies, eight at a time."""
    gate = asyncio.Semaphore(8)

    async def one(body: dict[str, Any]) -> dict[str, Any]:
        async with gate:
            return expect(await client.post(url, json=body, headers=headers), 201)

    return list(await asyncio.gather(*(one(b) for b in bodies)))


async def plan_with_sbus(plans_url: str, org: Org, side: int = 10) -> tuple[str, list[str]]:
    """A plan with ``side``³ SBUs: every customer × channel × product of ``side`` of each."""
    async with httpx.AsyncClient(base_url=plans_url, timeout=60) as plans:
        plan = expect(await plans.post("/v1/plans", json=PLAN, headers=org.auth("executive")), 201)
        base, sup = f"/v1/plans/{plan['id']}", org.auth("supervisor")
        customers = await _post_all(plans, f"{base}/customers", [
            {"name": f"Customer {i}", "needs": [{"statement": f"need {i}", "demand": "strong"}]}
            for i in range(side)], sup)  # fmt: skip
        channels = await _post_all(plans, f"{base}/channels", [
            {"name": f"Channel {i}", "platform": "alibaba_international", "mode": "platform",
             "business_model": "B2B", "countries": ["US"]} for i in range(side)], sup)  # fmt: skip
        products = await _post_all(plans, f"{base}/products", [
            {"sku": f"GS-{i}", "name": f"Product {i}", "unit_cost": money("300"), "price": money("500")}
            for i in range(side)], sup)  # fmt: skip
        bodies = [
            {"customer_id": c["id"], "channel_id": ch["id"], "product_id": p["id"], "need": "practise",
             "demand": "strong", "budget": money("10000"), "revenue_target": money("60000"), "owner": "Li Wei"}
            for c in customers for ch in channels for p in products
        ]  # fmt: skip
        sbus = await _post_all(plans, f"{base}/sbus", bodies, sup)
    return plan["id"], [s["id"] for s in sbus]


async def campaign_on(campaigns_url: str, org: Org, sbu_id: str) -> str:
    body = {
        "sbu_id": sbu_id, "kind": "sem", "name": "Bench SEM", "budget": money("30000"),
        "starts_on": "2026-01-01", "ends_on": "2028-12-31",
        "settings": {"keywords": [{"text": "golf simulator", "match_type": "exact", "max_cpc": "1.20"}],
                     "daily_budget": "50.00"},
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=campaigns_url, timeout=30) as campaigns:
        return str(expect(await campaigns.post("/v1/campaigns", json=body, headers=org.auth("specialist")), 201)["id"])


def metric_rows(n: int) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 1).toordinal()
    return [
        {"date": datetime.fromordinal(start + i).date().isoformat(), "impressions": 1000 + i, "clicks": 50,
         "cost": money("25.00"), "conversions": 5, "revenue": money("100.00")}
        for i in range(n)
    ]  # fmt: skip


# --- compliance -----------------------------------------------------------------------------------------------

PROFILE = {
    "ebc_code": EBP, "ebc_name": "XBM Bench Seller Ltd", "agent_code": "1105980159", "agent_name": "XBM Broker",
    "assure_code": "ASSURE0001", "customs_code": "4604", "port_code": "4604", "trade_mode": "9610",
    "cop_code": EBP, "cop_name": "XBM Bench Seller Ltd", "dxp_id": "DXPENT0000000001",
}  # fmt: skip
ITEM = {"gname": "Wool scarf", "gmodel": "100% wool", "hs_code": "6214200000", "unit": "011", "unit1": "011",
        "qty1_per_unit": "1", "origin_country": "303", "vat_rate": "0.13", "consumption_tax_rate": "0",
        "net_weight_kg": "0.15"}  # fmt: skip


def dxp_id(org_id: str) -> str:
    """The organisation's own DxpMsg id: an e-port id belongs to one organisation (customs sends its receipts
    there), so each benchmark organisation has its own."""
    return "DXPENT" + org_id.replace("-", "")[:10].upper()


async def compliance_setup(compliance_url: str, org: Org) -> None:
    admin = org.auth()
    institution = {"pay_code": PAY, "name": "XBM Pay", "licence_no": "Z2000000000001",
                   "scopes": ["internet_payment"], "status": "active"}  # fmt: skip
    profile = {**PROFILE, "dxp_id": dxp_id(org.org_id)}
    async with httpx.AsyncClient(base_url=compliance_url, timeout=30) as c:
        expect(await c.put("/v1/compliance/customs-profile", json=profile, headers=admin), 200, 201)
        expect(await c.post("/v1/compliance/payment-institutions", json=institution, headers=admin), 201)
        expect(await c.put(f"/v1/compliance/items/{SKU}", json=ITEM, headers=admin), 201)


def buyer_id(n: int) -> str:
    return f"{110101199001010000 + n:018d}"


def order(order_no: str, buyer: str) -> dict[str, Any]:
    """A canonical import order that passes every check once its payment and waybill are here."""
    return {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "goods_value": "200.00", "freight": "20.00",
        "discount": "0", "tax_total": "20.02", "actual_paid": "240.02", "currency": "CNY", "pay_code": PAY,
        "pay_transaction_id": "T" + order_no, "utm_campaign": "spring",
        "buyer": {"reg_no": "u1", "name": "Jiao Hongyu", "id_number": buyer, "telephone": "13522652231"},
        "consignee": {"name": "Jiao Hongyu", "telephone": "13522652231",
                      "address": "Beijing Haidian 1 Zhongguancun Street"},
        "items": [{"gnum": 1, "item_no": SKU, "name": "Wool scarf", "qty": "2", "price": "100", "total": "200"}],
    }  # fmt: skip


def payment(order_no: str, buyer: str) -> dict[str, Any]:
    return {
        "pay_code": PAY, "pay_transaction_id": "T" + order_no, "order_no": order_no, "ebp_code": EBP,
        "payer": {"name": "Jiao Hongyu", "id_number": buyer, "telephone": "13522652231"},
        "amount_paid": "240.02", "currency": "CNY", "paid_at": "2026-03-01T08:00:00+00:00",
    }  # fmt: skip


def waybill(order_no: str) -> dict[str, Any]:
    return {
        "logistics_code": LOGISTICS, "logistics_name": "XBM Express", "logistics_no": "L" + order_no,
        "order_no": order_no, "ebp_code": EBP, "freight": "20.00", "insured_fee": "0", "weight_kg": "0.4",
        "traf_no": "CA1234", "voyage_no": "CA1234", "bill_no": "999-12345675",
        "consignee": {"name": "Jiao Hongyu", "telephone": "135 2265 2231",
                      "address": "Beijing Haidian 1 Zhongguancun Street"},
    }  # fmt: skip


# --- stored orders, straight into the tables ------------------------------------------------------------------

ORDERS_PER_BUYER = 5
NO = "__NO__"


def _stored_json(model: Any, data: dict[str, Any], party: str | None) -> str:
    """The document as compliance stores it (canonical, the ID number masked), with the order number left as a
    placeholder for SQL to fill in."""
    document = model.model_validate(data).model_dump(mode="json")
    if party:
        document[party]["id_number"] = mask(document[party]["id_number"])
    return json.dumps(document, ensure_ascii=False)


def _templates() -> dict[str, str]:
    buyer = buyer_id(0)
    return {
        "order": _stored_json(OrderDoc, order(NO, buyer), "buyer"),
        "payment": _stored_json(PaymentDoc, payment(NO, buyer), "payer"),
        "waybill": _stored_json(WaybillDoc, waybill(NO), None),
    }


CHECKS = json.dumps(
    [{"rule": r, "passed": True, "detail": "seeded"} for r in ("order_total", "amount_paid", "consignee",
     "payer_identity", "payment_institution", "currency", "single_limit", "annual_limit", "item_records", "tax")]
)  # fmt: skip


def _numbers(prefix: str) -> str:
    """The SQL of order number ``<prefix>`` + ``g`` (a ``generate_series`` column), as :func:`order_no` spells it."""
    return f"'{prefix}' || lpad(g::text, 9, '0')"


def _seed_sql(prefix: str) -> dict[str, str]:
    """The INSERT … SELECTs for order numbers ``<prefix>000000001`` …; $1 org, $2..$3 the range."""
    no = _numbers(prefix)
    return {
        # as the locks note them: an order stored under each number, or (counterparts) only its payment and waybill
        "match_keys": f"""
            INSERT INTO match_keys (id, org_id, order_no, touched_at, has_order, ebp_code)
            SELECT gen_random_uuid()::text, $1, {no}, now(), true, '{EBP}' FROM generate_series($2::int, $3::int) g""",
        "match_keys_unpaired": f"""
            INSERT INTO match_keys (id, org_id, order_no, touched_at, has_order, ebp_code)
            SELECT gen_random_uuid()::text, $1, {no}, now(), false, '{EBP}' FROM generate_series($2::int, $3::int) g""",
        "orders": f"""
            INSERT INTO orders (id, org_id, ebp_code, order_no, trade_direction, state, currency, actual_paid,
                utm_campaign, document, buyer_id_encrypted, buyer_id_hash, buyer_verified, quota_year,
                dutiable_value, tax, checks, failing_rules, declaration_id, receipts, state_changed_at,
                released_at, created_at, updated_at)
            SELECT md5('o' || g)::uuid::text, $1, '{EBP}', {no}, 'import',
                CASE WHEN g % 10 = 0 THEN 'released' ELSE 'declared' END, 'CNY', 2400200, 'spring',
                replace($4, '{NO}', {no})::json, $5, b.hash, false, $6, 2200000, 200200, $7::json, NULL,
                md5('d' || g)::uuid::text, '[]'::json, now(), NULL, now() - g * interval '1 second', now()
            FROM generate_series($2::int, $3::int) g JOIN bench_buyers b ON b.n = g % $8""",
        "payments": f"""
            INSERT INTO payments (id, org_id, pay_code, pay_transaction_id, ebp_code, order_no, document,
                payer_id_encrypted, payer_id_hash, created_at, updated_at)
            SELECT gen_random_uuid()::text, $1, '{PAY}', 'T' || {no}, '{EBP}', {no},
                replace($4, '{NO}', {no})::json, $5, b.hash, now(), now()
            FROM generate_series($2::int, $3::int) g JOIN bench_buyers b ON b.n = g % $6""",
        "waybills": f"""
            INSERT INTO waybills (id, org_id, logistics_code, logistics_no, order_no, ebp_code, document,
                created_at, updated_at)
            SELECT gen_random_uuid()::text, $1, '{LOGISTICS}', 'L' || {no}, {no}, '{EBP}',
                replace($4, '{NO}', {no})::json, now(), now()
            FROM generate_series($2::int, $3::int) g""",
        "declarations": """
            INSERT INTO declarations (id, org_id, order_id, message_type, guid, cop_no, declared_at, created_at,
                updated_at)
            SELECT md5('d' || g)::uuid::text, $1, md5('o' || g)::uuid::text, 'CEB621',
                upper(md5('g' || g)::uuid::text), 'XBM' || upper(substr(md5('c' || g), 1, 17)), now(), now(),
                now()
            FROM generate_series($2::int, $3::int) g""",
    }


def order_no(prefix: str, n: int) -> str:
    """The order number the seeding gives order ``n`` of a prefix."""
    return f"{prefix}{n:09d}"


def buyer_of(n: int, buyers: int) -> str:
    """The buyer the seeding gives order ``n`` (its payment is the buyer's, so a new order of that number
    matches)."""
    return buyer_id(n % buyers)


def buyers_for(stored: int) -> int:
    return max(1, stored // ORDERS_PER_BUYER)


async def buyers_table(conn: asyncpg.Connection, pii: Pii, count: int) -> None:
    """``bench_buyers(n, hash)``: the lookup hashes of ``count`` buyers, as compliance computes them."""
    await conn.execute("CREATE TABLE IF NOT EXISTS bench_buyers (n int PRIMARY KEY, hash text NOT NULL)")
    have = await conn.fetchval("SELECT count(*) FROM bench_buyers")
    rows = [(n, pii.lookup_hash(buyer_id(n))) for n in range(have, count)]
    if rows:
        await conn.copy_records_to_table("bench_buyers", records=rows)


async def store_orders(database_url: str, pii: Pii, org_id: str, first: int, last: int) -> float:
    """Orders ``first``..``last`` (numbered S000000001 …) stored as matched and declared, five per buyer, with
    their payments, waybills, order-number locks and declarations; then what autovacuum and the checkpointer do
    in the hour after such a load (:func:`at_rest`). Seconds."""
    started = time.perf_counter()
    templates = _templates()
    enc = pii.encrypt(buyer_id(0), f"buyer:{org_id}")
    year = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).year
    buyers = buyers_for(last)
    sql = _seed_sql("S")
    conn = await asyncpg.connect(plain(database_url))
    try:
        await buyers_table(conn, pii, buyers)
        step = 100_000
        for lo in range(first, last + 1, step):
            hi = min(last, lo + step - 1)
            async with conn.transaction():
                await conn.execute(sql["match_keys"], org_id, lo, hi)
                await conn.execute(sql["orders"], org_id, lo, hi, templates["order"], enc, year, CHECKS, buyers)
                await conn.execute(sql["payments"], org_id, lo, hi, templates["payment"], enc, buyers)
                await conn.execute(sql["waybills"], org_id, lo, hi, templates["waybill"])
                await conn.execute(sql["declarations"], org_id, lo, hi)
        await at_rest(conn)
    finally:
        await conn.close()
    return time.perf_counter() - started


async def at_rest(conn: asyncpg.Connection) -> None:
    """The database as it is an hour after a bulk load, not while it is still being written out: vacuumed and
    analysed (the visibility map lets index-only scans skip the heap; the planner knows the sizes) and
    checkpointed (the load's dirty pages written), so the figures that follow measure the requests, not
    autovacuum and the checkpointer running beside them on the same CPUs."""
    await conn.execute("VACUUM (ANALYZE)")
    with contextlib.suppress(asyncpg.InsufficientPrivilegeError):  # a role without pg_checkpoint: left to the server
        await conn.execute("CHECKPOINT")


async def store_counterparts(database_url: str, pii: Pii, org_id: str, prefix: str, count: int, buyers: int) -> None:
    """Payments and waybills already here for orders ``<prefix>000000001``..``count`` that have not arrived:
    each of those orders completes its triple when it comes, so ingesting it runs the whole comparison."""
    templates = _templates()
    enc = pii.encrypt(buyer_id(0), f"payer:{org_id}")
    sql = _seed_sql(prefix)
    conn = await asyncpg.connect(plain(database_url))
    try:
        async with conn.transaction():
            await conn.execute(sql["match_keys_unpaired"], org_id, 1, count)
            await conn.execute(sql["payments"], org_id, 1, count, templates["payment"], enc, buyers)
            await conn.execute(sql["waybills"], org_id, 1, count, templates["waybill"])
        await conn.execute("ANALYZE match_keys, payments, waybills")
    finally:
        await conn.close()


async def store_exceptions(database_url: str, org_id: str, count: int) -> None:
    """Stored orders ``S000000001``..``count`` turned into mismatches (their amounts disagree): the exceptions
    queue then holds the same ``count`` orders however many others are stored beside them."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        await conn.execute(
            f"""UPDATE orders SET state = 'mismatch', failing_rules = 'amount_matches', declaration_id = NULL
                WHERE org_id = $1 AND order_no IN (SELECT {_numbers("S")} FROM generate_series(1, $2::int) g)""",
            org_id,
            count,
        )
        await conn.execute("ANALYZE orders")
    finally:
        await conn.close()


async def order_cursor_at(database_url: str, org_id: str, position: int) -> str:
    """The order list's ``next_cursor`` after ``position`` orders (oldest first): a page deep in the list."""
    from shared.pagination import encode_cursor

    conn = await asyncpg.connect(plain(database_url))
    try:
        row = await conn.fetchrow(
            "SELECT created_at, id FROM orders WHERE org_id = $1 ORDER BY created_at, id OFFSET $2 LIMIT 1",
            org_id,
            position - 1,
        )
    finally:
        await conn.close()
    return encode_cursor(row["created_at"], row["id"])


async def more_sbus(database_url: str, plan_id: str, copies: int) -> tuple[float, list[str]]:
    """``copies`` copies of each of the plan's customers, each with the SBUs of the customer it copies, written
    straight into plans' tables: the 10 × 10 × 10 plan grows to (copies + 1) × 1,000 SBUs. Returns the seconds
    it took and the ids of 1,000 of the new SBUs, drawn at random."""
    from services.plans.sbus.models import Sbu
    from services.plans.tactics.models import Customer

    started = time.perf_counter()
    customer_cols = [c.name for c in Customer.__table__.columns]
    sbu_cols = [c.name for c in Sbu.__table__.columns]
    customer_values = {"id": "m.copy", "name": "c.name || ' copy ' || m.k"}
    sbu_values = {"id": "gen_random_uuid()::text", "customer_id": "m.copy"}
    conn = await asyncpg.connect(plain(database_url))
    try:
        async with conn.transaction():
            await conn.execute(
                """CREATE TEMP TABLE bench_customer_copies ON COMMIT DROP AS
                   SELECT c.id AS source, gen_random_uuid()::text AS copy, k
                   FROM customers c, generate_series(1, $2::int) k WHERE c.plan_id = $1""",
                plan_id,
                copies,
            )
            await conn.execute(
                f"""INSERT INTO customers ({", ".join(customer_cols)})
                    SELECT {", ".join(customer_values.get(c, "c." + c) for c in customer_cols)}
                    FROM customers c JOIN bench_customer_copies m ON m.source = c.id"""
            )
            await conn.execute(
                f"""INSERT INTO sbus ({", ".join(sbu_cols)})
                    SELECT {", ".join(sbu_values.get(c, "s." + c) for c in sbu_cols)}
                    FROM sbus s JOIN bench_customer_copies m ON m.source = s.customer_id WHERE s.plan_id = $1""",
                plan_id,
            )
        await at_rest(conn)
        ids = await conn.fetch(
            "SELECT id FROM sbus WHERE plan_id = $1 AND customer_id IN "
            "(SELECT id FROM customers WHERE plan_id = $1 AND name LIKE '% copy %') ORDER BY random() LIMIT 1000",
            plan_id,
        )
    finally:
        await conn.close()
    return time.perf_counter() - started, [r["id"] for r in ids]
