"""Crash safety of intake: 2,000 signed documents from 16 concurrent senders, compliance killed with SIGKILL
mid-way and restarted on the same database and port; senders redeliver what got no 2xx (the same delivery:
same ``webhook-id`` and body, a fresh timestamp and signature). Every document acknowledged is stored exactly
once, and the matching ends as in a clean run of the same documents into a second database."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.compliance.app import MIGRATIONS as COMPLIANCE_MIGRATIONS
from services.plans.app import MIGRATIONS as PLANS_MIGRATIONS
from shared.migrations import aupgrade_to_head
from tests.compliance.support import EBP, ITEM, LOGISTICS, PAY, buyer_id, encode, payment, profile, swh_headers, waybill
from tests.conftest import BACKEND
from tests.support import BOOTSTRAP_TOKEN, Tenant, make_tenant
from tests.system.procs import ROOT, child_env, free_port

pytestmark = [
    pytest.mark.system,
    pytest.mark.db,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="crash safety is proven on PostgreSQL: SIGKILL of a process that shares a SQLite file says "
        "nothing about the server deployments run on",
    ),
]

ORDERS = 667  # 667 orders, 667 payments, 666 waybills: 2,000 documents
SENDERS = 16
KILL_AFTER = 700  # acknowledged documents before the SIGKILL
SERVICE_SECRET = "crash-test-service-secret-0123456789"


class Service:
    """One service as a real uvicorn process (what ``xbm.run`` starts), on a fixed port."""

    def __init__(self, name: str, port: int, data_dir: Path, env: dict[str, str]):
        self.name, self.port, self.data_dir, self.env = name, port, data_dir, env
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.data_dir / f"{self.name}-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", f"services.{self.name}.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.data_dir.glob(f"{self.name}-*.log")))

    async def wait_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.url, timeout=1) as client:
            while time.monotonic() < deadline:
                assert self.proc is not None and self.proc.poll() is None, f"{self.name} exited:\n{self.logs()}"
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not come up:\n{self.logs()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def service_env(data_dir: Path, **urls: str) -> dict[str, str]:
    env = child_env()
    env.update(
        {
            "XBM_DATA_DIR": str(data_dir),
            "XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
            "XBM_SERVICE_SECRET": SERVICE_SECRET,
            "PYTHONUNBUFFERED": "1",
            **urls,
        }
    )
    return env


# --- the documents ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    source: str  # platform | payment | logistics
    webhook_id: str
    body: bytes


def canonical_order(order_no: str, buyer: str) -> dict[str, Any]:
    return {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "goods_value": "200.00", "freight": "20.00",
        "discount": "0", "tax_total": "20.02", "actual_paid": "240.02", "currency": "CNY", "pay_code": PAY,
        "buyer": {"reg_no": "u1", "name": "Jiao Hongyu", "id_number": buyer, "telephone": "13522652231"},
        "consignee": {"name": "Jiao Hongyu", "telephone": "13522652231",
                      "address": "Beijing Haidian 1 Zhongguancun Street"},
        "items": [{"gnum": 1, "item_no": "SCARF-1", "name": "Wool scarf", "qty": "2", "price": "100",
                   "total": "200"}],
    }  # fmt: skip


def documents() -> list[Doc]:
    """Every ninth payment disagrees with its order (a mismatch); the last order never gets its waybill.
    Each order has its own buyer, so no order's quota depends on which other order was matched first."""
    docs = []
    for i in range(ORDERS):
        order_no, buyer = f"CRASH{i:05d}", buyer_id(i)
        amount = "199.00" if i % 9 == 4 else "240.02"
        docs.append(
            Doc("platform", f"msg-o-{order_no}", encode({"type": "order", "data": canonical_order(order_no, buyer)}))
        )
        pay = payment(order_no, buyer=buyer, amount=amount) | {"paid_at": "2026-03-01T08:00:00+00:00"}
        docs.append(Doc("payment", f"msg-p-{order_no}", encode({"type": "payment", "data": pay})))
        if i < ORDERS - 1:
            docs.append(Doc("logistics", f"msg-w-{order_no}", encode({"type": "waybill", "data": waybill(order_no)})))
    random.Random(7).shuffle(docs)
    return docs


# --- a seller set up on one compliance database -----------------------------------------------------------------


async def set_up(compliance: httpx.AsyncClient, tenant: Tenant) -> dict[str, dict[str, Any]]:
    admin = tenant.auth()
    r = await compliance.put("/v1/compliance/customs-profile", json=profile(tenant), headers=admin)
    assert r.status_code in (200, 201), r.text
    institution = {"pay_code": PAY, "name": "XBM Pay", "licence_no": "Z2000000000001",
                   "scopes": ["internet_payment"], "status": "active"}  # fmt: skip
    r = await compliance.post("/v1/compliance/payment-institutions", json=institution, headers=admin)
    assert r.status_code == 201, r.text
    r = await compliance.put("/v1/compliance/items/SCARF-1", json=ITEM, headers=admin)
    assert r.status_code == 201, r.text
    sources = {}
    for role, codes in (("platform", {"ebp_code": EBP}), ("payment", {"pay_code": PAY}),
                        ("logistics", {"logistics_code": LOGISTICS})):  # fmt: skip
        body = {"name": f"{role} sender", "kind": "standard_webhooks", "role": role, **codes}
        r = await compliance.post("/v1/compliance/sources", json=body, headers=admin)
        assert r.status_code == 201, r.text
        sources[role] = r.json()
    return sources


@dataclass
class Sending:
    acked: dict[int, int] = field(default_factory=dict)  # document index → first 2xx status
    failed_attempts: int = 0
    refused: list[str] = field(default_factory=list)  # 4xx other than 409: a bug, never retried


async def send_all(
    url: str, sources: dict[str, dict[str, Any]], docs: list[Doc], on_ack: Callable[[int], Awaitable[None]] | None
) -> Sending:
    """16 senders; each retries its document until it gets a 2xx, as a real sender's retry queue would."""
    state = Sending()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(docs)):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def deliver(i: int) -> None:
            doc, source = docs[i], sources[docs[i].source]
            while True:
                headers = swh_headers(source["secret"], doc.body, doc.webhook_id)  # fresh timestamp, same id
                try:
                    r = await client.post(source["webhook_path"], content=doc.body, headers=headers)
                except httpx.HTTPError:
                    r = None
                if r is not None and 200 <= r.status_code < 300:
                    state.acked[i] = r.status_code
                    if on_ack is not None:
                        await on_ack(len(state.acked))
                    return
                if r is not None and 400 <= r.status_code < 500 and r.status_code != 409:
                    state.refused.append(f"{doc.webhook_id}: {r.status_code} {r.text[:300]}")
                    return
                state.failed_attempts += 1
                await asyncio.sleep(0.05)

        async def sender() -> None:
            while not queue.empty():
                await deliver(queue.get_nowait())

        await asyncio.gather(*(sender() for _ in range(SENDERS)))
    return state


# --- reading the database directly -----------------------------------------------------------------------------


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def stored(url: str, org_id: str) -> dict[str, dict[str, int]]:
    """How many rows each document left, by its natural key."""
    queries = {
        "platform": "SELECT 'msg-o-' || order_no, count(*) FROM orders WHERE org_id = $1 GROUP BY 1",
        "payment": "SELECT 'msg-p-' || order_no, count(*) FROM payments WHERE org_id = $1 GROUP BY 1",
        "logistics": "SELECT 'msg-w-' || order_no, count(*) FROM waybills WHERE org_id = $1 GROUP BY 1",
        "deliveries": "SELECT substr(dedupe_key, 5), count(*) FROM deliveries WHERE org_id = $1 GROUP BY 1",
    }
    conn = await asyncpg.connect(plain(url))
    try:
        return {name: dict(await conn.fetch(sql, org_id)) for name, sql in queries.items()}  # type: ignore[arg-type]
    finally:
        await conn.close()


async def matching(url: str, org_id: str) -> dict[str, tuple[Any, ...]]:
    conn = await asyncpg.connect(plain(url))
    try:
        rows = await conn.fetch(
            "SELECT o.order_no, o.state, o.checks::text, o.failing_rules, o.tax, o.dutiable_value, "
            "(SELECT count(*) FROM declarations d WHERE d.order_id = o.id) "
            "FROM orders o WHERE o.org_id = $1",
            org_id,
        )
    finally:
        await conn.close()
    return {r[0]: (r[1], json.loads(r[2]) if r[2] else None, *r[3:]) for r in rows}


# --- the test ------------------------------------------------------------------------------------------------------


async def test_sigkill_mid_intake_loses_and_duplicates_nothing(tmp_path: Path, databases) -> None:  # type: ignore[no-untyped-def]
    plans_db = await databases.new("crashplans")
    crash_db, clean_db = await databases.new("crash"), await databases.new("clean")
    for url, migrations in ((plans_db, PLANS_MIGRATIONS), (crash_db, COMPLIANCE_MIGRATIONS),
                            (clean_db, COMPLIANCE_MIGRATIONS)):  # fmt: skip
        await aupgrade_to_head(migrations, url)

    plans_port = free_port()
    urls = {"XBM_PLANS_URL": f"http://127.0.0.1:{plans_port}"}
    plans = Service("plans", plans_port, tmp_path, service_env(tmp_path, XBM_PLANS_DATABASE_URL=plans_db, **urls))
    crash_dir, clean_dir = tmp_path / "crash", tmp_path / "clean"
    crash_dir.mkdir()
    clean_dir.mkdir()
    crash = Service(
        "compliance", free_port(), crash_dir, service_env(crash_dir, XBM_COMPLIANCE_DATABASE_URL=crash_db, **urls)
    )
    clean = Service(
        "compliance", free_port(), clean_dir, service_env(clean_dir, XBM_COMPLIANCE_DATABASE_URL=clean_db, **urls)
    )
    docs = documents()
    assert len(docs) == 2000
    try:
        plans.start()
        crash.start()
        clean.start()
        await asyncio.gather(plans.wait_up(), crash.wait_up(), clean.wait_up())
        async with httpx.AsyncClient(base_url=plans.url, timeout=10) as client:
            tenant = await make_tenant(client)
        async with httpx.AsyncClient(base_url=crash.url, timeout=10) as client:
            crash_sources = await set_up(client, tenant)
        async with httpx.AsyncClient(base_url=clean.url, timeout=10) as client:
            clean_sources = await set_up(client, tenant)

        killed_at: list[int] = []

        async def kill_once(acked: int) -> None:
            if acked >= KILL_AFTER and not killed_at:
                killed_at.append(acked)
                crash.kill()
                crash.start()  # the same database, data directory and port
                await crash.wait_up()

        # both runs at once, each on its own server and database: the clean one is never interrupted
        clean_sent, crash_sent = await asyncio.gather(
            send_all(clean.url, clean_sources, docs, None), send_all(crash.url, crash_sources, docs, kill_once)
        )
    finally:
        for service in (crash, clean, plans):
            service.stop()

    assert not clean_sent.refused, clean_sent.refused[:5]
    assert len(clean_sent.acked) == 2000
    assert not crash_sent.refused, crash_sent.refused[:5]
    assert killed_at and KILL_AFTER <= killed_at[0] < 1500, killed_at  # it died mid-way
    assert crash_sent.failed_attempts > 0, "no sender noticed the crash"
    assert len(crash_sent.acked) == 2000, "every document was acknowledged in the end"

    # every acknowledged document is stored exactly once, and so is its delivery
    rows = await stored(crash_db, tenant.org_id)
    for i in crash_sent.acked:
        doc = docs[i]
        assert rows[doc.source].get(doc.webhook_id) == 1, (doc.webhook_id, rows[doc.source].get(doc.webhook_id))
        assert rows["deliveries"].get(doc.webhook_id) == 1, doc.webhook_id
    assert sum(rows["deliveries"].values()) == 2000
    assert (len(rows["platform"]), len(rows["payment"]), len(rows["logistics"])) == (667, 667, 666)

    # the matching ends exactly as in the clean run
    after_crash, clean_result = await matching(crash_db, tenant.org_id), await matching(clean_db, tenant.org_id)
    assert len(clean_result) == ORDERS
    differing = [no for no in clean_result if after_crash.get(no) != clean_result[no]]
    assert not differing, [(no, after_crash.get(no), clean_result[no]) for no in differing[:3]]
    states = [r[0] for r in clean_result.values()]
    assert states.count("mismatch") == sum(1 for i in range(ORDERS) if i % 9 == 4)
    assert states.count("awaiting_documents") == 1
    assert states.count("declared") == ORDERS - states.count("mismatch") - 1
    assert all(r[-1] == (1 if r[0] == "declared" else 0) for r in after_crash.values())
