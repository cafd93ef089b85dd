"""``python -m bench.relay_backlog``: the event relay under a sustained ingest, on PostgreSQL.

The three services run as processes (as ``make bench`` starts them); orders arrive at ``--rate`` per second (each
as its order, payment and waybill: three requests) for ``--seconds``, every one completing its triple, so each
publishes its events (matched, declared …) to plans' and campaigns' own subscriptions. Every ``--every`` seconds
the compliance database is read: deliveries still pending, the oldest one's age, deliveries made. The backlog is
bounded when it stays flat (the second half's highest no higher than the first half's, plus a pass's worth)
instead of growing with the time the load lasts; the relay's throughput is the deliveries made per second.

The figures are printed as a Markdown section for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import time
from dataclasses import dataclass, field

import asyncpg

from bench import seed
from bench.loadgen import http_request, open_loop_raw
from bench.procs import Databases, Servers, plain
from bench.run import DEFAULT_SERVER, OUT

JSON = {"Content-Type": "application/json"}
KINDS = ("orders", "payments", "waybills")


@dataclass
class Sample:
    at: float
    pending: int
    oldest_seconds: float
    delivered: int
    events: int


@dataclass
class Backlog:
    samples: list[Sample] = field(default_factory=list)

    async def sample(self, url: str, started: float) -> None:
        conn = await asyncpg.connect(plain(url))
        try:
            row = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE status = 'pending') AS pending,"
                " coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0) AS oldest,"
                " count(*) FILTER (WHERE status = 'delivered') AS delivered FROM event_deliveries"
            )
            events = await conn.fetchval("SELECT count(*) FROM outbox_events")
        finally:
            await conn.close()
        assert row is not None
        self.samples.append(
            Sample(time.monotonic() - started, row["pending"], float(row["oldest"]), row["delivered"], events)
        )


def requests(org: seed.Org, prefix: str):  # type: ignore[no-untyped-def]
    headers = {**org.auth("integration"), **JSON}

    def request(i: int) -> bytes:
        n, kind = divmod(i, 3)
        order_no = f"{prefix}{n:08d}"
        buyer = seed.buyer_id(n)  # one buyer per order: the annual limit never holds one back
        body = {"orders": seed.order, "payments": seed.payment}.get(KINDS[kind])
        data = body(order_no, buyer) if body else seed.waybill(order_no)
        return http_request("POST", f"/v1/compliance/{KINDS[kind]}", headers, json.dumps(data).encode())

    return request


async def measure(args: argparse.Namespace) -> str:
    dbs = Databases(args.database_url)
    urls = await dbs.create()
    pii_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    servers = Servers(OUT / f"relay-{dbs.run_id}", urls, pii_key)
    backlog = Backlog()
    try:
        servers.start()
        await servers.wait_up()
        org = await seed.new_org(servers.urls["plans"], "Relay backlog")
        await seed.compliance_setup(servers.urls["compliance"], org)
        await servers.settle()
        started = time.monotonic()
        stop = asyncio.Event()

        async def sampler() -> None:
            while not stop.is_set():
                await backlog.sample(urls["compliance"], started)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=args.every)
                except TimeoutError:
                    pass

        sampling = asyncio.create_task(sampler())
        load = await open_loop_raw(
            "ingest", servers.urls["compliance"], requests(org, "R"), rate=args.rate * 3, seconds=args.seconds
        )
        loaded = time.monotonic() - started
        drained = await servers.settle(limit=args.seconds)
        stop.set()
        await sampling
        await backlog.sample(urls["compliance"], started)
    finally:
        servers.stop()
        await dbs.drop()
    return report(args, backlog, load, loaded, drained)


def report(args: argparse.Namespace, backlog: Backlog, load, loaded: float, drained: float) -> str:  # type: ignore[no-untyped-def]
    during = [s for s in backlog.samples if s.at <= loaded]
    half = len(during) // 2
    first, second = during[: max(1, half)], during[half:] or during
    last = backlog.samples[-1]
    events_per_s = last.events / loaded
    delivered_per_s = last.delivered / (loaded + drained)
    highest_first = max(s.pending for s in first)
    highest_second = max(s.pending for s in second)
    per_pass = args.rate * 3 * args.every  # what one sampling interval's ingest publishes, roughly
    bounded = highest_second <= highest_first + per_pass
    lines = [
        f"## The relay under a sustained ingest ({args.rate:g} orders/s for {args.seconds:g} s, PostgreSQL)",
        "",
        f"`python -m bench.relay_backlog --rate {args.rate:g} --seconds {args.seconds:g}`: {load.requests} ingest "
        f"requests, {load.errors} errors, p50 {load.p50:.1f} ms, p99 {load.p99:.1f} ms.",
        "",
        f"- events published: {last.events} ({events_per_s:.1f}/s); deliveries made: {last.delivered} "
        f"({delivered_per_s:.1f}/s over the load and the drain)",
        f"- pending deliveries, highest: {highest_first} in the first half, {highest_second} in the second half; "
        f"oldest pending at most {max(s.oldest_seconds for s in during):.1f} s old",
        f"- drained {drained:.1f} s after the load; pending at the end: {last.pending}",
        f"- **backlog {'bounded' if bounded else 'NOT bounded'}** (second half within one interval's ingest of "
        f"the first half's highest)",
        "",
        "| s | pending | oldest pending (s) | delivered | events |",
        "|---|---|---|---|---|",
        *(
            f"| {s.at:.0f} | {s.pending} | {s.oldest_seconds:.1f} | {s.delivered} | {s.events} |"
            for s in backlog.samples
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.relay_backlog", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER)
    parser.add_argument("--rate", type=float, default=12.0, help="orders per second (three requests each)")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two readings of the backlog")
    text = asyncio.run(measure(parser.parse_args()))
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "relay_backlog.md").write_text(text)


if __name__ == "__main__":
    main()
