"""The clearance pipeline: orders cleared per second, and compliance's CPU per order, from the three signed
deliveries of each order to its signed customs messages (the CEB311 order and the CEB621 inventory list) in the
e-port outbox.

Compliance is restarted with an SM2 key and certificate (``XBM_COMPLIANCE_SIGNING_KEY``/``_CERT``, made fresh
by :mod:`bench.sm2`) and an outbox folder (``XBM_COMPLIANCE_CUSTOMS_OUTBOX``), as a seller runs it. Each order
arrives as the senders deliver it: the order from the seller's platform, the payment from the payment
institution and the waybill from the logistics company, each a Standard Webhooks delivery signed with its
source's secret, sent by ``concurrency`` senders in a closed loop (raw HTTP/1.1 on kept-alive connections, so the
client's CPU stays small). Compliance verifies, stores and compares each triple, declares the order, and its relay
builds its messages, validates them, signs them with SM2-SM3 and writes them to the outbox. The compliance
database is polled until every order's messages are out, signed; orders/s counts from the first delivery until
the last order is cleared. Compliance is restarted as it was afterwards, so the figures after this one are unchanged."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from lxml import etree
from standardwebhooks.webhooks import Webhook

from bench import seed
from bench.loadgen import exchange, http_request
from bench.procs import Servers, plain
from bench.sm2 import card
from services.compliance.customs.transport import DXP

SOURCES = {
    "order": {"name": "Bench site", "kind": "standard_webhooks", "role": "platform", "ebp_code": seed.EBP,
              "ebp_name": "XBM Bench Seller Ltd"},
    "payment": {"name": "Bench pay", "kind": "standard_webhooks", "role": "payment", "pay_code": seed.PAY},
    "waybill": {"name": "Bench ship", "kind": "standard_webhooks", "role": "logistics",
                "logistics_code": seed.LOGISTICS},
}  # fmt: skip
#: an order is cleared when its CEB621 and every other message of it (its CEB311) are out, signed
SIGNED_OUT = """
SELECT count(*) FILTER (WHERE cleared) AS cleared, sum(messages) AS messages, sum(failed) AS failed,
       max(reason) AS reason
FROM (SELECT bool_and(m.status IN ('sent', 'acknowledged') AND m.signed)
                 AND bool_or(m.message_type = 'CEB621') AS cleared,
             count(*) AS messages, count(*) FILTER (WHERE m.status = 'failed') AS failed,
             max(m.failure_reason) AS reason
      FROM customs_messages m JOIN orders o ON o.id = m.order_id
      WHERE o.org_id = $1 AND o.order_no LIKE $2 GROUP BY o.id) per_order
"""


@dataclass
class Clearance:
    orders: int
    concurrency: int
    seconds: float  # first delivery → last message out
    send_seconds: float  # first delivery → last delivery answered
    cleared: int
    server_cpu: float
    errors: int
    error_sample: str
    latencies_ms: list[float] = field(repr=False, default_factory=list)  # one delivery's
    messages: int = 0  # customs messages of the orders (a CEB311 and a CEB621 each)
    sm2_in_outbox: bool = False
    load: float = 0.0

    @property
    def orders_per_second(self) -> float:
        return self.cleared / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_order(self) -> float:
        return self.server_cpu * 1000 / max(1, self.cleared)


class Senders:
    """The three sources of one organisation and their secrets: a signed delivery of each document."""

    def __init__(self, sources: dict[str, dict[str, Any]]):
        self.paths = {kind: s["webhook_path"] for kind, s in sources.items()}
        self.hooks = {kind: Webhook(s["secret"]) for kind, s in sources.items()}

    def delivery(self, kind: str, data: dict[str, Any]) -> bytes:
        body = json.dumps({"type": kind, "data": data}).encode()
        msg_id, at = "msg_" + uuid.uuid4().hex, datetime.now(UTC)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self.hooks[kind].sign(msg_id, at, body.decode()),
        }
        return http_request("POST", self.paths[kind], headers, body)

    def of_order(self, order_no: str, n: int) -> list[bytes]:
        buyer = seed.buyer_id(n)  # a buyer per order: no annual limit holds one back
        return [
            self.delivery("order", seed.order(order_no, buyer)),
            self.delivery("payment", seed.payment(order_no, buyer)),
            self.delivery("waybill", seed.waybill(order_no)),
        ]


async def setup(compliance_url: str, org: seed.Org) -> Senders:
    await seed.compliance_setup(compliance_url, org)
    sources = {}
    async with httpx.AsyncClient(base_url=compliance_url, timeout=30) as c:
        for kind, body in SOURCES.items():
            sources[kind] = seed.expect(await c.post("/v1/compliance/sources", json=body, headers=org.auth()), 201)
    return Senders(sources)


async def send(url: str, senders: Senders, prefix: str, count: int, concurrency: int) -> tuple[int, str, list[float]]:
    """Every order's three deliveries, ``concurrency`` senders in a closed loop; (errors, first error, latencies)."""
    host, _, port = url.removeprefix("http://").partition(":")
    next_order, errors, sample = 0, 0, ""
    latencies: list[float] = []

    async def sender() -> None:
        nonlocal next_order, errors, sample
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while next_order < count:
                n = next_order = next_order + 1
                for request in senders.of_order(seed.order_no(prefix, n), n):
                    t0 = time.perf_counter()
                    try:
                        status = await exchange(reader, writer, request)
                    except (ConnectionError, asyncio.IncompleteReadError):  # the server closed a kept-alive one
                        writer.close()
                        reader, writer = await asyncio.open_connection(host, int(port))
                        status = await exchange(reader, writer, request)
                    latencies.append((time.perf_counter() - t0) * 1000)
                    if status not in (200, 201):
                        errors += 1
                        sample = sample or f"HTTP {status}"
        finally:
            writer.close()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return errors, sample, latencies


async def wait_cleared(database_url: str, org_id: str, prefix: str, count: int, limit: float) -> tuple[int, int, str]:
    """Poll until ``count`` orders of ``prefix`` have every message out, signed (or ``limit`` seconds passed);
    (orders cleared, their messages, a failure's reason)."""
    deadline = time.monotonic() + limit
    conn = await asyncpg.connect(plain(database_url))
    try:
        while True:
            row = await conn.fetchrow(SIGNED_OUT, org_id, prefix + "%")
            assert row is not None
            if row["cleared"] >= count or time.monotonic() > deadline:
                return int(row["cleared"]), int(row["messages"] or 0), str(row["reason"] or "")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


def sm2_signed_files(outbox: Path) -> bool:
    """Whether the messages in the outbox (a DxpMsg envelope each, the message in base64) carry an SM2-SM3
    signature, what customs takes; a sample of them is read."""
    files = sorted(p for p in outbox.iterdir() if p.suffix == ".xml")[:20]
    for path in files:
        data = etree.fromstring(path.read_bytes()).findtext(f"{{{DXP}}}Data") or ""
        if b"xmldsig#sm2-sm3" not in base64.b64decode(data):
            return False
    return bool(files)


async def measure(servers: Servers, orders: int, concurrency: int = 16, warmup: int = 32) -> Clearance:
    folder = servers.data_dir / "clearance"
    key, cert = card(folder / "key")
    outbox = folder / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    signing = {"XBM_COMPLIANCE_SIGNING_KEY": str(key), "XBM_COMPLIANCE_SIGNING_CERT": str(cert),
               "XBM_COMPLIANCE_CUSTOMS_OUTBOX": str(outbox)}  # fmt: skip
    url, database_url = servers.urls["compliance"], servers.database_urls["compliance"]
    await servers.restart("compliance", signing)
    try:
        org = await seed.new_org(servers.urls["plans"], "Bench clearance")
        senders = await setup(url, org)
        # warm-up: a few orders through the whole pipeline, not counted
        await send(url, senders, "CW", warmup, concurrency)
        await wait_cleared(database_url, org.org_id, "CW", warmup, 120)
        await servers.settle()
        cpu, started = servers.cpu_seconds("compliance"), time.perf_counter()
        errors, sample, latencies = await send(url, senders, "CL", orders, concurrency)
        sent = time.perf_counter()
        cleared, messages, reason = await wait_cleared(database_url, org.org_id, "CL", orders, 120 + orders / 5)
        done = time.perf_counter()
        result = Clearance(
            orders, concurrency, done - started, sent - started, cleared, servers.cpu_seconds("compliance") - cpu,
            errors, sample or (f"messages failed: {reason[:160]}" if reason else ""), latencies, messages,
        )  # fmt: skip
        result.sm2_in_outbox, result.load = sm2_signed_files(outbox), os.getloadavg()[0]
    finally:
        await servers.restart("compliance", {})
    return result
