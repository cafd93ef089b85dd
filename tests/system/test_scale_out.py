"""Two replicas of compliance on one PostgreSQL database, as behind the gateway (docs/operations.md, "Several
replicas"): a burst of signed deliveries split across both — each sent to both, as a platform retrying
against another replica would — is stored once, nothing lost, nothing doubled; and the two embedded relays
share one outbox (``FOR UPDATE SKIP LOCKED``): every event reaches the subscriber once, and both relays send
some of them."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.compliance.app import MIGRATIONS as COMPLIANCE_MIGRATIONS
from services.plans.app import MIGRATIONS as PLANS_MIGRATIONS
from shared.migrations import aupgrade_to_head
from tests.compliance.support import Seller, buyer_id, new_order_no, payment, shopify_order, waybill
from tests.conftest import BACKEND
from tests.support import BOOTSTRAP_TOKEN, make_tenant
from tests.system.procs import ROOT, child_env, free_port

pytestmark = [
    pytest.mark.system,
    pytest.mark.db,
    pytest.mark.skipif(BACKEND != "postgres", reason="replicas share a PostgreSQL database"),
]
ORDERS = 24


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _inode_of_connection(local_port: int, remote_port: int) -> str | None:
    """The socket inode of the open connection from ``local_port`` to ``remote_port``: an earlier connection from
    the same port may still linger in TIME_WAIT, owned by no process (inode 0)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
            if (local, remote) == (local_port, remote_port) and fields[9] != "0":
                return fields[9]
    return None


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # both relays connect at once
    daemon_threads = True


class Subscriber:
    """Answers 200 to every delivery and notes its ``webhook-id`` and which process sent it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, int | None]] = []
        self.pids: list[int] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                inode = _inode_of_connection(self.client_address[1], self.server.server_address[1])
                sender = next((pid for pid in outer.pids if inode and inode in _socket_inodes(pid)), None)
                with outer.lock:
                    outer.received.append((self.headers["webhook-id"], sender))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _serve(name: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "--factory", f"services.{name}.app:create_app", "--host",
               "127.0.0.1", "--port", str(port), "--no-access-log"]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def _retried(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """A delivery as a platform sends it: a connection that fails before an answer is tried again (the same
    webhook id, so the replica that already stored it answers as a repeat)."""
    for attempt in range(3):
        try:
            return await send()
        except httpx.TransportError:
            if attempt == 2:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _up(client: httpx.AsyncClient, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, _tail(log)
        try:
            if (await client.get(url + "/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not come up:\n" + _tail(log)
        await asyncio.sleep(0.2)


async def test_two_compliance_replicas_on_one_database(databases, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plans_db, compliance_db = await databases.new("so_plans"), await databases.new("so_compliance")
    await aupgrade_to_head(PLANS_MIGRATIONS, plans_db)
    await aupgrade_to_head(COMPLIANCE_MIGRATIONS, compliance_db)
    ports = {"plans": free_port(), "a": free_port(), "b": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = child_env()
    env.update(
        {
            "XBM_DATA_DIR": str(tmp_path),
            "XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
            "XBM_SERVICE_SECRET": "scale-out-" + secrets.token_hex(8),
            "XBM_COMPLIANCE_PII_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "XBM_PLANS_URL": urls["plans"],
            "XBM_COMPLIANCE_URL": urls["a"],  # the gateway's address in a real deployment
            "XBM_PLANS_DATABASE_URL": plans_db,
            "XBM_COMPLIANCE_DATABASE_URL": compliance_db,
            "XBM_COMPLIANCE_RELAY_IDLE_SECONDS": "0.2",
            "XBM_PLANS_RUN_RELAY": "false",
        }
    )
    procs = {"plans": _serve("plans", ports["plans"], env, tmp_path / "plans.log")}
    for name in ("a", "b"):
        procs[name] = _serve("compliance", ports[name], env, tmp_path / f"compliance-{name}.log")
    subscriber = Subscriber()
    subscriber.pids = [procs["a"].pid, procs["b"].pid]
    try:
        async with httpx.AsyncClient(timeout=30) as probe:
            for name, url in urls.items():
                await _up(
                    probe, url, procs[name], tmp_path / ("plans.log" if name == "plans" else f"compliance-{name}.log")
                )
        async with (
            httpx.AsyncClient(base_url=urls["plans"], timeout=30) as plans,
            httpx.AsyncClient(base_url=urls["a"], timeout=60) as a,
            httpx.AsyncClient(base_url=urls["b"], timeout=60) as b,
        ):
            tenant = await make_tenant(plans)
            seller = await Seller(a, tenant).setup()
            wanted = {"url": subscriber.url, "event_types": ["order.matched", "order.declared"]}
            r = await b.post("/v1/subscriptions", headers=tenant.auth(), json=wanted)
            assert r.status_code == 201, r.text
            senders = (seller, Seller(b, tenant))
            senders[1].sources = seller.sources

            async def deliver(i: int) -> list[int]:
                order_no, buyer = new_order_no(), buyer_id(700 + i)
                statuses = []
                for kind, data in (
                    ("order", shopify_order(order_no, buyer=buyer)),
                    ("payment", payment(order_no, buyer=buyer)),
                    ("waybill", waybill(order_no)),
                ):
                    webhook_id = f"so-{i}-{kind}"
                    first, second = senders[i % 2], senders[(i + 1) % 2]
                    # the same delivery at both replicas at once, as a platform retrying elsewhere would
                    if kind == "order":
                        sent = await asyncio.gather(
                            *(_retried(partial(s.send_order, data, webhook_id)) for s in (first, second))
                        )
                    else:
                        key = "pay" if kind == "payment" else "ship"
                        sent = await asyncio.gather(
                            *(
                                _retried(partial(s.send_swh, key, kind, data, msg_id=webhook_id))
                                for s in (first, second)
                            )
                        )
                    statuses += [x.status_code for x in sent]
                return statuses

            results = await asyncio.gather(*(deliver(i) for i in range(ORDERS)))
            assert all(s in (200, 201) for statuses in results for s in statuses), results

        conn = await asyncpg.connect(compliance_db.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            stored = await conn.fetch("SELECT order_no, state FROM orders WHERE org_id = $1", tenant.org_id)
            assert len(stored) == ORDERS and len({r["order_no"] for r in stored}) == ORDERS
            assert {r["state"] for r in stored} <= {"matched", "declared"}, [r["state"] for r in stored]
            for table in ("payments", "waybills"):
                assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE org_id = $1", tenant.org_id) == ORDERS
            events = await conn.fetch(
                "SELECT id FROM outbox_events WHERE org_id = $1 AND type IN ('order.matched', 'order.declared')",
                tenant.org_id,
            )
            assert len(events) >= ORDERS
            sub_id = await conn.fetchval("SELECT id FROM event_subscriptions WHERE url = $1", subscriber.url)
            query = "SELECT status, attempts FROM event_deliveries WHERE subscription_id = $1"
            deadline = time.monotonic() + 30
            states = await conn.fetch(query, sub_id)
            while not all(s["status"] == "delivered" for s in states) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                states = await conn.fetch(query, sub_id)
            await asyncio.sleep(1.5)  # a doubled delivery would have arrived by now
        finally:
            await conn.close()
        ids = [webhook_id for webhook_id, _ in subscriber.received]
        assert sorted(ids) == sorted(e["id"] for e in events)  # every event once: none lost, none doubled
        assert len(states) == len(events), states
        # (an attempt that failed before the subscriber saw it, e.g. a refused connection, is retried: attempts 2)
        assert all(s["status"] == "delivered" for s in states), [dict(s) for s in states]
        senders_seen = {pid for _, pid in subscriber.received}
        assert senders_seen == set(subscriber.pids), (senders_seen, subscriber.pids)  # both relays sent some
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        subscriber.server.shutdown()
