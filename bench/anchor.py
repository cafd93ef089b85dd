"""The benchmark's anchor: the thinnest correct FastAPI service doing the work of XBM's two headline requests,
with nothing but FastAPI, PyJWT, asyncpg and orjson, run by ``bench/run.py`` as a uvicorn process beside the
three services (the same uvicorn flags), on the same PostgreSQL. XBM's req/s are reported as a ratio to it.

- ``GET /v1/sbus/{id}``: the bearer token XBM's plans issues, verified (EdDSA against plans' JWKS, fetched once at
  start; issuer, audience, expiry, lifetime, organisation and role checked as XBM checks them; a verified token is
  remembered until it expires, as XBM's verifier does), then the same row from plans' own ``sbus`` table with
  its customer's, channel's and product's labels, scoped to the token's organisation (404 otherwise), answered as
  JSON with an ETag over the body.
- ``POST /v1/compliance/orders``: the canonical order JSON parsed and the fields the matching needs checked
  (422 otherwise), then in one transaction: the order number locked (``pg_advisory_xact_lock``), its payment
  and waybill looked up by order number, the order stored in a table of the anchor's own with the state they
  give (``awaiting_documents``, ``matched`` or ``mismatch``; the buyer's ID number masked; a copy already stored
  → 200 ``duplicate``), and an outbox row written; 201 JSON.
- ``GET /healthz``.

What XBM does and the anchor does not: the revocation list of API keys, encrypting and hashing the buyer's ID
number, the ten matching rules, idempotency keys, request limits, access logs, metrics and traces. The anchor's
tables live in schema ``anchor`` of the compliance database, made at start.

Settings (environment): ``XBM_ANCHOR_PLANS_URL`` (its JWKS), ``XBM_ANCHOR_PLANS_DATABASE_URL`` and
``XBM_ANCHOR_COMPLIANCE_DATABASE_URL`` (``postgresql://`` URLs).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg
import jwt
import orjson
from fastapi import FastAPI, Request, Response

ISSUER, AUDIENCE, ALGORITHM = "xbm-plans", "xbm", "EdDSA"
MAX_TOKEN_LIFETIME = 3600
READERS = frozenset({"admin", "executive", "supervisor", "specialist", "analyst"})
INGESTERS = frozenset({"admin", "integration"})
ROLES = READERS | INGESTERS
JSON_TYPE = "application/json"
WAITING = "awaiting_documents"  # as XBM names an order whose payment or waybill has not come

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS anchor;
CREATE TABLE IF NOT EXISTS anchor.orders (
    org_id text NOT NULL, ebp_code text NOT NULL, order_no text NOT NULL, state text NOT NULL,
    actual_paid numeric(18, 4) NOT NULL, currency text NOT NULL, document jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (org_id, ebp_code, order_no));
CREATE TABLE IF NOT EXISTS anchor.payments (
    org_id text NOT NULL, order_no text NOT NULL, amount_paid numeric(18, 4) NOT NULL, document jsonb NOT NULL,
    PRIMARY KEY (org_id, order_no));
CREATE TABLE IF NOT EXISTS anchor.waybills (
    org_id text NOT NULL, order_no text NOT NULL, document jsonb NOT NULL, PRIMARY KEY (org_id, order_no));
CREATE TABLE IF NOT EXISTS anchor.outbox (
    id bigserial PRIMARY KEY, org_id text NOT NULL, topic text NOT NULL, payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
"""

SBU = """
SELECT s.id, s.org_id, s.plan_id, s.status, s.customer_id, s.channel_id, s.product_id, s.need, s.demand,
       s.budget_amount, s.budget_currency, s.revenue_target_amount, s.revenue_target_currency, s.owner,
       s.derived_from, s.retired_reason, s.retired_at, s.created_at, s.updated_at,
       c.name AS customer_name, ch.name AS channel_name, ch.platform, ch.business_model,
       p.name AS product_name, p.sku
FROM sbus s JOIN customers c ON c.id = s.customer_id JOIN channels ch ON ch.id = s.channel_id
     JOIN products p ON p.id = s.product_id
WHERE s.id = $1 AND s.org_id = $2
"""
STORE_ORDER = """
INSERT INTO anchor.orders (org_id, ebp_code, order_no, state, actual_paid, currency, document)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING created_at
"""
COUNTERPARTS = """
SELECT (SELECT amount_paid FROM anchor.payments WHERE org_id = $1 AND order_no = $2) AS paid,
       EXISTS (SELECT 1 FROM anchor.waybills WHERE org_id = $1 AND order_no = $2) AS shipped
"""
OUTBOX = "INSERT INTO anchor.outbox (org_id, topic, payload) VALUES ($1, $2, $3)"

KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,60}$")
CODE = re.compile(r"^[A-Za-z0-9]{1,30}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9Xx]$")


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def problem(status: int, detail: str) -> Response:
    return Response(orjson.dumps({"status": status, "detail": detail}), status, media_type="application/problem+json")


# --- tokens ---------------------------------------------------------------------------------------------------


@dataclass
class Verifier:
    """Plans' public keys, and the tokens verified with them (until each expires)."""

    keys: dict[str, Any]
    cache_size: int = 10_000
    verified: dict[str, tuple[str, str, float]] = field(default_factory=dict)

    def principal(self, request: Request, roles: frozenset[str]) -> str:
        """The organisation of the request's bearer token; 401 without a valid token, 403 for another role."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 8192:
            raise Refused(401, "missing bearer token")
        known = self.verified.get(token)
        if known is None or time.time() >= known[2]:
            known = self._verify(token)
            if len(self.verified) >= self.cache_size:
                self.verified.pop(next(iter(self.verified)))
            self.verified[token] = known
        org, role, _ = known
        if role not in roles:
            raise Refused(403, f"role {role!r} may not do this")
        return org

    def _verify(self, token: str) -> tuple[str, str, float]:
        try:
            header = jwt.get_unverified_header(token)
            key = self.keys.get(header.get("kid", "")) if header.get("alg") == ALGORITHM else None
            if key is None:
                raise Refused(401, "access token signed by an unknown key")
            claims = jwt.decode(token, key=key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "iss", "aud"]}, leeway=5)  # fmt: skip
        except jwt.PyJWTError as exc:
            raise Refused(401, f"invalid access token: {exc}") from exc
        exp, iat, org, role = claims["exp"], claims["iat"], claims.get("org"), claims.get("role")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, iat)):
            raise Refused(401, "access token times are not numbers")
        if exp - iat > MAX_TOKEN_LIFETIME:
            raise Refused(401, f"access tokens may live at most {MAX_TOKEN_LIFETIME} seconds")
        if not isinstance(org, str) or role not in ROLES:
            raise Refused(401, "access token lacks organisation or role")
        return org, role, float(exp)


def fetch_jwks(plans_url: str, seconds: float = 180.0) -> dict[str, Any]:
    """Plans' EdDSA keys by kid, fetched once (retried while plans starts)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(plans_url.rstrip("/") + "/v1/auth/jwks", timeout=5) as answer:
                document = json.load(answer)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return {
        k["kid"]: jwt.PyJWK(k).key
        for k in document.get("keys", [])
        if k.get("kty") == "OKP" and k.get("crv") == "Ed25519" and "kid" in k
    }


# --- the SBU --------------------------------------------------------------------------------------------------


def amount(units: int) -> str:
    """Money stored as 10^-4 units, written as XBM writes it: two places at least, four at most."""
    sign, units = ("-" if units < 0 else ""), abs(units)
    whole, rest = divmod(units, 10_000)
    return f"{sign}{whole}.{rest // 100:02d}" if rest % 100 == 0 else f"{sign}{whole}.{rest:04d}".rstrip("0")


def sbu_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"], "org_id": row["org_id"], "plan_id": row["plan_id"], "status": row["status"],
        "customer_id": row["customer_id"], "channel_id": row["channel_id"], "product_id": row["product_id"],
        "need": row["need"], "demand": row["demand"],
        "budget": {"amount": amount(row["budget_amount"]), "currency": row["budget_currency"]},
        "revenue_target": {"amount": amount(row["revenue_target_amount"]),
                           "currency": row["revenue_target_currency"]},
        "owner": row["owner"], "derived_from": row["derived_from"], "retired_reason": row["retired_reason"],
        "retired_at": row["retired_at"], "created_at": row["created_at"], "updated_at": row["updated_at"],
        "customer": {"id": row["customer_id"], "name": row["customer_name"]},
        "channel": {"id": row["channel_id"], "name": row["channel_name"], "platform": row["platform"],
                    "business_model": row["business_model"]},
        "product": {"id": row["product_id"], "name": row["product_name"], "sku": row["sku"]},
    }  # fmt: skip


# --- the order ------------------------------------------------------------------------------------------------


def _text(data: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None, limit: int = 255) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Refused(422, f"{name}: a text of 1 to {limit} characters is required")
    if pattern is not None and not pattern.match(value):
        raise Refused(422, f"{name}: not a valid value")
    return value


def _money(data: dict[str, Any], name: str) -> Decimal:
    value = data.get(name)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise Refused(422, f"{name}: a decimal amount is required")
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise Refused(422, f"{name}: not a decimal amount") from exc
    if not number.is_finite() or number < 0 or number > Decimal("1e14") or number != number.quantize(Decimal("1e-4")):
        raise Refused(422, f"{name}: an amount from 0 to 1e14 with at most 4 places")
    return number


def checked_order(body: bytes) -> tuple[dict[str, Any], bool]:
    """The canonical order with the fields the matching compares checked (422 names the first bad one), and
    whether its totals agree (its lines with the goods value, the parts with what was paid)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused(422, "the body is not JSON") from exc
    if not isinstance(data, dict):
        raise Refused(422, "the body must be a JSON object")
    _text(data, "order_no", KEY, 60)
    _text(data, "ebp_code", CODE, 30)
    _text(data, "pay_code", CODE, 30)
    _text(data, "pay_transaction_id", KEY, 60)
    _text(data, "currency", CURRENCY, 3)
    paid = _money(data, "actual_paid")
    # the totals are compared (a mismatch), not refused: as XBM's order_total rule
    parts = sum(_money(data, n) for n in ("goods_value", "freight", "tax_total")) - _money(data, "discount")
    buyer, consignee, items = data.get("buyer"), data.get("consignee"), data.get("items")
    if not isinstance(buyer, dict) or not isinstance(consignee, dict):
        raise Refused(422, "buyer and consignee are required")
    _text(buyer, "name", None, 60)
    _text(buyer, "id_number", ID_NUMBER, 18)
    for name in ("name", "telephone", "address"):
        _text(consignee, name, None, 200)
    if not isinstance(items, list) or not 1 <= len(items) <= 99 or not all(isinstance(i, dict) for i in items):
        raise Refused(422, "items: 1 to 99 lines are required")
    lines = sum(_money(item, "total") for item in items if _text(item, "item_no", None, 60))
    lines_agree = all(_money(i, "qty") * _money(i, "price") == _money(i, "total") for i in items)
    buyer["id_number"] = buyer["id_number"][:6] + "*" * 8 + buyer["id_number"][-4:]
    return data, parts == paid and lines_agree and lines == _money(data, "goods_value")


async def ingest(pool: asyncpg.Pool, org: str, order: dict[str, Any], totals_agree: bool) -> tuple[int, dict[str, Any]]:
    ebp, number = order["ebp_code"], order["order_no"]
    paid = Decimal(order["actual_paid"])
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{org}/{ebp}/{number}")
        counterparts = await conn.fetchrow(COUNTERPARTS, org, number)
        state = WAITING if totals_agree else "mismatch"
        if totals_agree and counterparts["paid"] is not None and counterparts["shipped"]:
            state = "matched" if counterparts["paid"] == paid else "mismatch"
        document = orjson.dumps(order).decode()
        if await conn.fetchval(STORE_ORDER, org, ebp, number, state, paid, order["currency"], document) is None:
            state = await conn.fetchval(
                "SELECT state FROM anchor.orders WHERE org_id = $1 AND ebp_code = $2 AND order_no = $3",
                org,
                ebp,
                number,
            )
            return 200, {
                "status": "duplicate",
                "kind": "order",
                "ebp_code": ebp,
                "order_no": number,
                "state": state,
                "outcome": None,
            }
        event = {"order_no": number, "ebp_code": ebp, "state": state, "utm_campaign": order.get("utm_campaign")}
        await conn.execute(OUTBOX, org, f"order.{state}", orjson.dumps(event).decode())
    return 201, {
        "status": "stored",
        "kind": "order",
        "ebp_code": ebp,
        "order_no": number,
        "state": state,
        "outcome": None,
    }


# --- the app --------------------------------------------------------------------------------------------------


def create_app() -> FastAPI:
    plans_db = os.environ["XBM_ANCHOR_PLANS_DATABASE_URL"]
    compliance_db = os.environ["XBM_ANCHOR_COMPLIANCE_DATABASE_URL"]
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys = await asyncio.to_thread(fetch_jwks, os.environ["XBM_ANCHOR_PLANS_URL"])
        state["verifier"] = Verifier(keys)
        conn = await asyncpg.connect(compliance_db)
        try:
            await conn.execute(SCHEMA)
        finally:
            await conn.close()
        # at most as many connections as each XBM service may hold (the bench sets XBM_DB_POOL_SIZE for all four
        # servers); those idle for a few seconds are closed, so between figures the anchor holds few
        size = int(os.environ.get("XBM_DB_POOL_SIZE", "20")) + int(os.environ.get("XBM_DB_MAX_OVERFLOW", "0"))
        pool = {"min_size": 2, "max_size": size, "max_inactive_connection_lifetime": 5.0}
        state["plans"] = await asyncpg.create_pool(plans_db, **pool)
        state["compliance"] = await asyncpg.create_pool(compliance_db, **pool)
        try:
            yield
        finally:
            await state["plans"].close()
            await state["compliance"].close()

    app = FastAPI(title="XBM bench anchor", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return problem(exc.status, exc.detail)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type=JSON_TYPE)

    @app.get("/v1/sbus/{sbu_id}")
    async def get_sbu(sbu_id: str, request: Request) -> Response:
        org = state["verifier"].principal(request, READERS)
        row = await state["plans"].fetchrow(SBU, sbu_id, org) if len(sbu_id) <= 36 else None
        if row is None:
            raise Refused(404, f"sbu {sbu_id[:64]!r} not found")
        body = orjson.dumps(sbu_json(row), option=orjson.OPT_UTC_Z)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return Response(body, media_type=JSON_TYPE, headers={"ETag": etag})

    @app.post("/v1/compliance/orders")
    async def post_order(request: Request) -> Response:
        org = state["verifier"].principal(request, INGESTERS)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != JSON_TYPE:
            raise Refused(415, "send the order as application/json")
        order, totals_agree = checked_order(await request.body())
        status, answer = await ingest(state["compliance"], org, order, totals_agree)
        headers = (
            {"Location": f"/v1/compliance/orders/{order['ebp_code']}/{order['order_no']}"} if status == 201 else {}
        )
        return Response(orjson.dumps(answer), status, media_type=JSON_TYPE, headers=headers)

    return app
