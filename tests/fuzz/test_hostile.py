"""Hostile but well-formed input never gives a 5xx: nesting that would exhaust a parser, bodies that grow
past the limit while they arrive, platform numbers that are not numbers or are astronomically large, sums of
maximal amounts, and a database that cannot be reached."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.plans.app import create_app as create_plans
from services.plans.context import plans_context
from services.plans.settings import PlansSettings
from shared.errors import Unavailable
from shared.observability import JsonDepth
from tests.compliance.support import Seller, buyer_id, new_order_no, shopify_headers, shopify_order, swh_headers
from tests.conftest import asgi_client
from tests.support import assert_problem


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


async def test_five_thousand_deep_json_in_a_signed_webhook_is_refused_cleanly(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    deep = b'{"type":"order","data":' + b"[" * 5000 + b"]" * 5000 + b"}"
    pay = seller.sources["pay"]
    r = await compliance.post(pay["webhook_path"], content=deep, headers=swh_headers(pay["secret"], deep))
    assert "nested deeper" in assert_problem(r, 422)["detail"]
    shop = seller.sources["shop"]
    r = await compliance.post(
        shop["webhook_path"], content=_nested(5000), headers=shopify_headers(shop["secret"], _nested(5000))
    )
    assert_problem(r, 422)
    # sent as text/plain, or chunked, it is refused just the same
    chunks = [deep[i : i + 1000] for i in range(0, len(deep), 1000)]

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    headers = {**swh_headers(pay["secret"], deep), "Content-Type": "text/plain"}
    assert_problem(await compliance.post(pay["webhook_path"], content=stream(), headers=headers), 422)


@pytest.mark.parametrize("service", ["plans", "campaigns", "compliance"])
async def test_deep_json_on_every_service_is_422_and_ordinary_nesting_passes(clients, tenant, service):
    client = clients[service]
    path = {"plans": "/v1/plans", "campaigns": "/v1/campaigns", "compliance": "/v1/compliance/orders"}[service]
    r = await client.post(path, content=_nested(5000), headers={**tenant.auth(), "Content-Type": "application/json"})
    assert_problem(r, 422)
    r = await client.post(path, content=_nested(20), headers={**tenant.auth(), "Content-Type": "application/json"})
    assert r.status_code == 422 and "nested deeper" not in r.text  # refused by validation, not by depth


async def _too_big(size: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        yield b" " * 65536
        sent += 65536


@pytest.mark.parametrize("idempotency_key", [None, "chunked-1"])
async def test_an_oversized_chunked_post_is_413(plans, tenant, idempotency_key):
    headers = {**tenant.auth(), "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    r = await plans.post("/v1/plans", content=_too_big(2 * 1024 * 1024), headers=headers)
    assert "exceeds" in assert_problem(r, 413)["detail"]
    # the key was not used up by the refused body
    ok = await plans.post(
        "/v1/plans",
        json={"name": "P", "period_start": "2027-01-01", "period_end": "2027-12-31", "base_currency": "USD",
              "trade_direction": "export"},
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )  # fmt: skip
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    ("price", "qty"),
    [
        ("1e999999", 1),
        ("NaN", 1),
        ("-Infinity", 1),
        ("9" * 400, 1),
        ("abc", 1),
        ("100.00", "1e999999"),
        ("100.00", "x"),
    ],
)
async def test_non_numbers_and_huge_numbers_in_a_platform_order_are_no_server_error(compliance, tenant, price, qty):
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    order = shopify_order(order_no, buyer=buyer_id(91), total="100.00")
    order["line_items"][0].update(price=price, quantity=qty)
    r = await seller.send_order(order)
    assert r.status_code < 500, r.text
    r = await compliance.get(f"/v1/compliance/orders/{order['name'][1:]}", headers=tenant.auth())
    assert r.status_code < 500


async def test_sbu_performance_of_ten_maximal_budgets_is_exact(plans, campaigns, tenant):
    from tests.security.test_hardening_writes import _sbu

    _, sbu = await _sbu(plans, tenant)
    body = {
        "sbu_id": sbu["id"],
        "kind": "social",
        "name": "max",
        "budget": {"amount": "99999999999999.9999", "currency": "USD"},
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-30",
        "settings": {"platform": "tiktok", "handles": ["@a"], "post_plan": [{"date": "2026-09-01", "topic": "x"}]},
    }
    ids = []
    for _ in range(10):
        r = await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    rows = {"rows": [{"date": f"2026-09-{d:02d}", "impressions": 1, "clicks": 1, "conversions": 1,
                      "cost": {"amount": "10000000000", "currency": "USD"},
                      "revenue": {"amount": "10000000000", "currency": "USD"}} for d in range(1, 11)]}  # fmt: skip
    for campaign_id in ids[:2]:
        r = await campaigns.put(f"/v1/campaigns/{campaign_id}/metrics", json=rows, headers=tenant.auth("specialist"))
        assert r.status_code == 200, r.text
    r = await campaigns.get(f"/v1/sbus/{sbu['id']}/performance?as_of=2026-09-15", headers=tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    perf = r.json()
    # past 2^63 units of 10^-4, summed exactly
    assert Decimal(perf["pacing"]["budget"]["amount"]) == Decimal("999999999999999.999")  # 10 campaigns
    assert Decimal(perf["totals"]["revenue"]["amount"]) == Decimal("200000000000")  # 20 maximal metric rows


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:////nonexistent-xbm-dir/plans.db", "postgresql+asyncpg://xbm@127.0.0.1:1/plans"]
)
async def test_an_unreachable_database_is_503_with_retry_after(tmp_path: Path, url: str):
    settings = PlansSettings(
        environment="test", data_dir=tmp_path, database_url=url, bootstrap_token="b" * 32, run_relay=False,
        service_secret="s",
    )  # fmt: skip
    app = create_plans(settings)
    async with app.router.lifespan_context(app), asgi_client(app, "http://plans") as client:
        token = plans_context(app).signing_key.mint(subject="k", org_id="o", role="admin", ttl_seconds=60)
        auth = {"Authorization": f"Bearer {token}"}
        for response in (
            await client.get("/v1/plans", headers=auth),
            await client.post("/v1/plans", json={"name": "x"}, headers={**auth, "Idempotency-Key": "k1"}),
            await client.post("/v1/auth/token", json={"api_key": "xbm_nothing"}),
            await client.post("/v1/orgs", json={"name": "A"}, headers={"X-Bootstrap-Token": "b" * 32}),
        ):
            assert_problem(response, 503)
            assert int(response.headers["retry-after"]) >= 1


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}'),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='k"\\[{', max_size=3),
                                                                                  inner, max_size=3),
                    max_leaves=30),
       st.integers(min_value=1, max_value=17))  # fmt: skip
def test_the_depth_guard_measures_json_nesting_exactly_whatever_the_chunking(value: Any, chunk: int) -> None:
    text = json.dumps(value).encode()

    def depth_of(v: Any) -> int:
        if isinstance(v, list):
            return 1 + max((depth_of(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth_of(x) for x in v.values()), default=0)
        return 0

    real = depth_of(value)
    for limit, fits in ((real, True), (real - 1, False)):
        if limit < 0:
            continue
        guard = JsonDepth(limit)
        ok = all(guard.feed(text[i : i + chunk]) for i in range(0, len(text), chunk))
        assert ok is fits, (text, limit)


async def test_the_breaker_half_opens_after_its_cool_down_with_one_trial():
    from shared.http import CircuitBreaker, ServiceClient

    calls: list[int] = []
    up = False

    def peer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200 if up else 503)

    http = httpx.AsyncClient(transport=httpx.MockTransport(peer))
    breaker = CircuitBreaker(threshold=2, reset_seconds=0.3)
    svc = ServiceClient(http, "http://plans", attempts=2, backoff_seconds=0.001, breaker=breaker)
    with pytest.raises(Unavailable):
        await svc.request("GET", "/x")
    assert not breaker.allow() and len(calls) == 2
    up = True  # plans is back
    await asyncio.sleep(0.35)
    results = await asyncio.gather(*(svc.request("GET", "/x") for _ in range(5)), return_exceptions=True)
    assert len(calls) >= 3  # a trial went through within the cool-down of plans coming back
    assert any(isinstance(r, httpx.Response) and r.status_code == 200 for r in results)
    assert (await svc.request("GET", "/x")).status_code == 200 and breaker.opened_at is None
    await http.aclose()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=40))
def test_exact_sum_equals_the_python_sum_on_sqlite_past_64_bits(values: list[int]) -> None:
    import sqlite3

    from sqlalchemy import BigInteger, Column, MetaData, Table, select
    from sqlalchemy.dialects import sqlite

    from shared.db import exact_sum

    table = Table("t", MetaData(), Column("v", BigInteger))
    sql = str(select(exact_sum(table.c.v)).compile(dialect=sqlite.dialect()))
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE t (v INTEGER)")
        db.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
        (total,) = db.execute(sql).fetchone()
    assert (None if total is None else int(total)) == (sum(values) if values else None)
