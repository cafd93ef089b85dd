"""``make bench`` (``python -m bench.run``): the three services as processes on fresh PostgreSQL databases,
seeded, then measured in one run against the same servers by load generators in separate processes.

The headline is XBM against its anchor (``bench/anchor.py``, the thinnest correct FastAPI service doing the same
work): the SBU read and the order ingest driven by wrk on XBM and on the anchor in turn, five rounds, their
medians and XBM's ratio to the anchor; then SM2-SM3 sign and verify (in this process, before the servers start)
and the clearance pipeline (three signed deliveries per order to its SM2-signed customs message in the outbox).
Then wrk (a C load generator, server-bound): requests/s, p50/p99, each figure's ratio to the bare
``GET /healthz`` of the same server in the same run, and the server CPU per request (with the ratio that CPU alone
allows). The same loops with httpx follow as a second opinion; then the p99 in open loop at half the peak rate for
reads and ingest (``--open-runs``, default 3); and the matching cost per ingested order with 10,000 and with
``--stored`` orders. The report (Markdown) is printed and written to ``bench/out/``; databases are dropped.

Options: ``--seconds`` per closed-loop run (default 10), ``--stored`` the large store (default 1,000,000),
``--only`` a comma-separated subset (anchor, sm2, clearance, health, sbu, ingest, metrics, grid, wrk, httpx, open,
growth), ``--quick`` (``--stored 10000 --seconds 5 --open-runs 1 --clearance-orders 200``, to iterate),
``--sm2-operations`` (default 2,000), ``--clearance-orders`` (default 1,000), ``--profile SERVICE`` to run that
service under pyinstrument (its report lands in ``bench/out/``), ``--database-url`` the server (default
``$XBM_BENCH_DATABASE_URL`` or the local one).
"""

# One module of about 500 lines on purpose: it is the benchmark's script — start the servers, seed, run each
# figure in order, write the report — read top to bottom; the load generators, seeding and processes it drives
# live in wrk.py, loadgen.py, seed.py and procs.py.

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import clearance, seed, sm2, versus, wrk
from bench.loadgen import RawRequest, Result, closed_loop, http_request, open_loop_raw
from bench.procs import MIGRATIONS, ROOT, Databases, Servers, plain
from services.compliance.pii import Pii

OUT = ROOT / "bench" / "out"
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT = ("anchor", "sm2", "clearance", "health", "sbu", "ingest", "metrics", "grid", "wrk", "httpx", "open", "growth")
# growth: the matching cost, the order list and the exceptions queue at 10,000 and --stored orders, then the SBU
# read with 1,000 and 100,000 SBUs stored
ALL = DEFAULT
GROWTH_ORDERS = 1000  # orders ingested at each store size


@dataclass
class Figure:
    result: Result
    service: str
    concurrency: int
    base: str | None = None  # the bare endpoint this one is compared with
    server_cpu: float = 0.0  # CPU seconds the service's process spent during the run
    load: float = field(default_factory=lambda: os.getloadavg()[0])  # 1-minute load average when it ended

    @property
    def server_ms(self) -> float:
        """Server CPU per request: what the endpoint costs, whatever else the machine was doing."""
        return self.server_cpu * 1000 / max(1, self.result.sent)

    @property
    def client_ms(self) -> float:
        return self.result.client_cpu * 1000 / max(1, self.result.sent)


@dataclass
class Run:
    args: argparse.Namespace
    servers: Servers
    figures: dict[str, Figure] = field(default_factory=dict)
    growth: dict[int, dict[str, float]] = field(default_factory=dict)
    #: ms per request (one at a time) of the order list and exceptions queue, by figure and orders stored
    scans: dict[str, dict[int, float]] = field(default_factory=dict)
    #: seconds waited before each figure for the relays to deliver what earlier loops published
    settled: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sm2: list[sm2.Timing] = field(default_factory=list)
    clearance: clearance.Clearance | None = None

    def wants(self, name: str) -> bool:
        return name in self.args.only

    async def settle(self, key: str) -> None:
        waited = await self.servers.settle()
        if waited > 1:
            print(f"  ({waited:.1f} s for the relays to deliver what came before {key})", flush=True)
        self.settled[key] = waited

    async def closed(self, key: str, service: str, fn: Any, concurrency: int, base: str | None = None) -> Result:
        await self.settle(key)
        url = self.servers.urls[service]
        cpu = self.servers.cpu_seconds(service)
        result = await closed_loop(key, url, fn, concurrency=concurrency, seconds=self.args.seconds)
        return self._keep(key, Figure(result, service, concurrency, base, self.servers.cpu_seconds(service) - cpu))

    async def open(self, key: str, service: str, request: RawRequest, peak: float) -> Result:
        rate = max(1.0, peak / 2)
        await self.settle(key)
        cpu = self.servers.cpu_seconds(service)
        result = await open_loop_raw(key, self.servers.urls[service], request, rate=rate, seconds=self.args.seconds)
        return self._keep(key, Figure(result, service, 0, None, self.servers.cpu_seconds(service) - cpu))

    async def wrk(self, key: str, service: str, lua: str, connections: int, base: str | None = None) -> Result:
        await self.settle(key)
        cpu = self.servers.cpu_seconds(service)
        result = await wrk.run(key, self.servers.urls[service], lua, connections=connections, seconds=self.args.seconds)
        return self._keep(key, Figure(result, service, connections, base, self.servers.cpu_seconds(service) - cpu))

    async def counted(self, key: str, service: str, fn: Any, requests: int) -> Result:
        """``requests`` sent one at a time after two of warm-up, none in flight when the CPU is read: the server
        CPU per request of a heavy request, exact whatever the load (a timed loop of a few slow requests
        counts the CPU of those still in flight at its end, but not the requests)."""
        url = self.servers.urls[service]
        await self.settle(key)
        await closed_loop(key, url, fn, concurrency=1, requests=2)
        cpu = self.servers.cpu_seconds(service)
        result = await closed_loop(key, url, fn, concurrency=1, requests=requests)
        result.mode = f"{requests} one at a time"
        return self._keep(key, Figure(result, service, 1, None, self.servers.cpu_seconds(service) - cpu))

    def _keep(self, key: str, figure: Figure) -> Result:
        self.figures[key] = figure
        r = figure.result
        print(f"  {key:<28} {r.rps:8.1f} req/s  p50 {r.p50:7.1f} ms  p99 {r.p99:7.1f} ms  server CPU "
              f"{figure.server_ms:6.2f} ms/req  client CPU {figure.client_ms:5.2f} ms/req  errors {r.errors} "
              f"{r.error_sample[:120]}", flush=True)  # fmt: skip
        return r


# --- the benchmarks -------------------------------------------------------------------------------------------


def order_body(prefix: str, buyers: int = 100_000) -> Any:
    """Request bodies of unique canonical orders: ``prefix`` + the request number."""
    template = json.dumps(seed.order("__NO__", "__BUYER__")).encode()

    def body(i: int) -> bytes:
        return template.replace(b"__NO__", seed.order_no(prefix, i).encode()).replace(
            b"__BUYER__", seed.buyer_of(i, buyers).encode()
        )

    return body


JSON = {"Content-Type": "application/json"}


async def throughput(run: Run, org: seed.Org, plan_id: str, sbu_ids: list[str], campaign_id: str) -> None:
    reader, integration = org.auth("analyst"), {**org.auth("integration"), **JSON}
    if run.wants("health"):
        for service in ("plans", "compliance", "campaigns"):
            await run.closed(f"healthz_{service}", service, lambda c, i: c.get("/healthz"), 16)
    if run.wants("sbu"):
        await run.closed(
            "sbu_get", "plans", lambda c, i: c.get(f"/v1/sbus/{sbu_ids[i % len(sbu_ids)]}", headers=reader), 16,
            "healthz_plans",
        )  # fmt: skip
    if run.wants("ingest"):
        body = order_body("P")
        await run.closed(
            "order_ingest", "compliance",
            lambda c, i: c.post("/v1/compliance/orders", content=body(i), headers=integration), 16,
            "healthz_compliance",
        )  # fmt: skip
    if run.wants("metrics"):
        rows = json.dumps({"rows": seed.metric_rows(1000)}).encode()
        writer = {**org.auth("integration"), **JSON}
        await run.closed(
            "metrics_put_1000_rows", "campaigns",
            lambda c, i: c.put(f"/v1/campaigns/{campaign_id}/metrics", content=rows, headers=writer), 4,
            "healthz_campaigns",
        )  # fmt: skip
    if run.wants("grid"):
        await run.closed(
            "sbu_grid_1000", "plans", lambda c, i: c.get(f"/v1/plans/{plan_id}/sbu-grid", headers=reader), 4,
            "healthz_plans",
        )  # fmt: skip


async def throughput_wrk(run: Run, org: seed.Org, plan_id: str, sbu_ids: list[str], campaign_id: str) -> None:
    """The same closed loops driven by wrk, whose CPU cost per request is negligible next to the servers'."""
    reader, integration = org.auth("analyst"), {**org.auth("integration"), **JSON}
    if run.wants("health"):
        for service in ("plans", "compliance", "campaigns"):
            await run.wrk(f"healthz_{service}_wrk", service, wrk.script("GET", ["/healthz"], {}), 16)
    if run.wants("sbu"):
        paths = [f"/v1/sbus/{i}" for i in sbu_ids]
        await run.wrk("sbu_get_wrk", "plans", wrk.script("GET", paths, reader), 16, "healthz_plans_wrk")
    if run.wants("ingest"):
        body = json.dumps(seed.order("W__N__", seed.buyer_id(1)))
        lua = wrk.script("POST", ["/v1/compliance/orders"], integration, body)
        await run.wrk("order_ingest_wrk", "compliance", lua, 16, "healthz_compliance_wrk")
    if run.wants("metrics"):
        rows = json.dumps({"rows": seed.metric_rows(1000)})
        lua = wrk.script("PUT", [f"/v1/campaigns/{campaign_id}/metrics"], integration, rows)
        await run.wrk("metrics_put_1000_rows_wrk", "campaigns", lua, 4, "healthz_campaigns_wrk")
    if run.wants("grid"):
        lua = wrk.script("GET", [f"/v1/plans/{plan_id}/sbu-grid"], reader)
        await run.wrk("sbu_grid_1000_wrk", "plans", lua, 4, "healthz_plans_wrk")


def _peak(run: Run, key: str) -> float | None:
    """The closed-loop peak of ``key``: wrk's (server-bound) when it ran, else the httpx one."""
    for name in (f"{key}_wrk", key):
        if name in run.figures:
            return run.figures[name].result.rps
    return None


HEAVY_REQUESTS = 20


async def heavy_cpu(run: Run, org: seed.Org, plan_id: str, campaign_id: str) -> None:
    """The server CPU per heavy request (the budgets' figure), counted over requests sent one at a time."""
    reader, writer = org.auth("analyst"), {**org.auth("integration"), **JSON}
    if run.wants("metrics"):
        rows = json.dumps({"rows": seed.metric_rows(1000)}).encode()
        await run.counted(
            "metrics_put_1000_rows_cpu", "campaigns",
            lambda c, i: c.put(f"/v1/campaigns/{campaign_id}/metrics", content=rows, headers=writer), HEAVY_REQUESTS,
        )  # fmt: skip
    if run.wants("grid"):
        await run.counted(
            "sbu_grid_1000_cpu", "plans", lambda c, i: c.get(f"/v1/plans/{plan_id}/sbu-grid", headers=reader),
            HEAVY_REQUESTS,
        )  # fmt: skip


async def half_peak(run: Run, org: seed.Org, plan_id: str, sbu_ids: list[str], n: int) -> None:
    """Run ``n`` of the open loops at half the closed-loop peak (keys end in ``_half_peak`` or, from the second
    run on, ``_half_peak_<n>``)."""
    reader, integration = org.auth("analyst"), {**org.auth("integration"), **JSON}
    suffix = "_half_peak" if n == 1 else f"_half_peak_{n}"
    if (peak := _peak(run, "sbu_get")) is not None:
        reads = [http_request("GET", f"/v1/sbus/{i}", reader) for i in sbu_ids]
        await run.open("sbu_get" + suffix, "plans", lambda i: reads[i % len(reads)], peak)
    if (peak := _peak(run, "order_ingest")) is not None:
        body = order_body(f"H{n}")
        await run.open(
            "order_ingest" + suffix, "compliance",
            lambda i: http_request("POST", "/v1/compliance/orders", integration, body(i)), peak,
        )  # fmt: skip
    if n == 1 and (peak := _peak(run, "sbu_grid_1000")) is not None:
        grid = http_request("GET", f"/v1/plans/{plan_id}/sbu-grid", reader)
        await run.open("sbu_grid_1000" + suffix, "plans", lambda i: grid, peak)


async def matching_cost(run: Run, database_url: str, pii: Pii) -> None:
    """Orders that complete their triple (payment and waybill already stored), ingested one at a time: the
    whole comparison and the declaration, with 10,000 and then ``--stored`` orders in the tables."""
    org = await seed.new_org(run.servers.urls["plans"], "Bench growth")
    await seed.compliance_setup(run.servers.urls["compliance"], org)
    previous = 0
    for stored, prefix in ((10_000, "N"), (run.args.stored, "M")):
        seconds = await seed.store_orders(database_url, pii, org.org_id, previous + 1, stored)
        if not previous:
            await seed.store_exceptions(database_url, org.org_id, EXCEPTIONS)
        previous = stored
        buyers = seed.buyers_for(stored)
        await seed.store_counterparts(database_url, pii, org.org_id, prefix, GROWTH_ORDERS, buyers)
        await org.refresh()
        headers = {**org.auth("integration"), **JSON}
        body = order_body(prefix, buyers)
        result = await closed_loop(
            f"matching_{stored}", run.servers.urls["compliance"],
            lambda c, i, body=body, headers=headers: c.post("/v1/compliance/orders", content=body(i), headers=headers),  # type: ignore[misc]
            concurrency=1, requests=GROWTH_ORDERS,
        )  # fmt: skip
        declared = await _declared(database_url, org.org_id, prefix)
        run.growth[stored] = {
            "seed_seconds": seconds,
            "ms_per_order": result.seconds * 1000 / max(1, result.requests),
            "p50": result.p50,
            "p99": result.p99,
            "errors": result.errors,
            "declared": declared,
        }
        print(f"  matching with {stored:>9,} stored: {run.growth[stored]['ms_per_order']:.2f} ms/order "
              f"p50 {result.p50:.2f} p99 {result.p99:.2f}; {declared} declared; seeded in {seconds:.1f} s "
              f"{result.error_sample[:120]}", flush=True)  # fmt: skip
        await order_scans(run, org, database_url, stored)


#: orders whose amounts disagree, stored once: the exceptions queue holds them at every store size
EXCEPTIONS = 200
SCAN_REQUESTS = 50  # sequential requests per order-list or exceptions figure
SBUS_GROWN = 100_000


async def order_scans(run: Run, org: seed.Org, database_url: str, stored: int) -> None:
    """The order list (its first page and a page halfway through the store) and the exceptions queue, each
    requested one at a time: what a page costs with ``stored`` orders in the table."""
    reader = org.auth("analyst")
    deep = await seed.order_cursor_at(database_url, org.org_id, stored // 2)
    requests = {
        "orders_first_page": ("/v1/compliance/orders", {"limit": 50}),
        "orders_deep_page": ("/v1/compliance/orders", {"limit": 50, "cursor": deep}),
        "exceptions_first_page": ("/v1/compliance/exceptions", {"limit": 50}),
    }
    for name, (path, params) in requests.items():
        result = await run.counted(
            f"{name}_{stored}", "compliance",
            lambda c, i, path=path, params=params: c.get(path, params=params, headers=reader),  # type: ignore[misc]
            SCAN_REQUESTS,
        )  # fmt: skip
        run.scans.setdefault(name, {})[stored] = result.seconds * 1000 / max(1, result.requests)


async def sbu_read_growth(run: Run, org: seed.Org, plan_id: str, sbu_ids: list[str], database_url: str) -> None:
    """The SBU read with wrk, on the 1,000-SBU plan and again once 99,000 more SBUs are stored beside them."""
    reader = org.auth("analyst")
    await run.wrk("sbu_get_1000_stored_wrk", "plans", wrk.script("GET", [f"/v1/sbus/{i}" for i in sbu_ids], reader),
                  16, "healthz_plans_wrk")  # fmt: skip
    seconds, grown = await seed.more_sbus(database_url, plan_id, SBUS_GROWN // len(sbu_ids) - 1)
    print(f"  stored {SBUS_GROWN:,} SBUs in {seconds:.1f} s", flush=True)
    await org.refresh()
    reader = org.auth("analyst")
    await run.wrk(f"sbu_get_{SBUS_GROWN}_stored_wrk", "plans",
                  wrk.script("GET", [f"/v1/sbus/{i}" for i in grown], reader), 16, "healthz_plans_wrk")  # fmt: skip


async def _declared(database_url: str, org_id: str, prefix: str) -> int:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM orders WHERE org_id = $1 AND order_no LIKE $2 AND state = 'declared'",
                org_id,
                prefix + "%",
            )
        )
    finally:
        await conn.close()


# --- the machine and the report -------------------------------------------------------------------------------


def host() -> dict[str, str]:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "commit": commit.stdout.strip(),
        "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


async def postgres(database_url: str) -> str:
    conn = await asyncpg.connect(plain(database_url))
    try:
        version = await conn.fetchval("SHOW server_version")
        buffers, sync = await conn.fetchval("SHOW shared_buffers"), await conn.fetchval("SHOW synchronous_commit")
    finally:
        await conn.close()
    return f"{version} (shared_buffers {buffers}, synchronous_commit {sync})"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


#: throughput targets as ratios to the bare ``/healthz`` of the same server, measured with wrk (server-bound)
RATIO_TARGETS = (
    ("sbu_get_wrk", 0.5, "read ≥ 0.5× bare /healthz"),
    ("order_ingest_wrk", 0.3, "ingest ≥ 0.3× bare /healthz"),
)
#: server CPU per request of the heavy requests, ms
CPU_TARGETS = (
    ("metrics_put_1000_rows", 25.0, "1,000-row metrics upsert ≤ 25 ms server CPU"),
    ("sbu_grid_1000", 25.0, "1,000-SBU grid ≤ 25 ms server CPU"),
)
#: p99 at half the peak rate, open loop, in every run, ms
P99_TARGETS = (
    ("sbu_get", 50.0, "read p99 ≤ 50 ms at half peak"),
    ("order_ingest", 100.0, "ingest p99 ≤ 100 ms at half peak"),
)


def ratio(run: Run, key: str) -> float | None:
    figure = run.figures.get(key)
    if figure is None or figure.base is None or figure.base not in run.figures:
        return None
    base = run.figures[figure.base].result.rps
    return figure.result.rps / base if base else None


def cpu_ratio(run: Run, key: str) -> float | None:
    """The bare endpoint's server CPU per request over this one's: the ratio the server's CPU alone allows."""
    figure = run.figures.get(key)
    if figure is None or figure.base is None or figure.base not in run.figures or not figure.server_ms:
        return None
    return run.figures[figure.base].server_ms / figure.server_ms


def open_runs(run: Run, key: str) -> list[Figure]:
    return [f for k, f in run.figures.items() if k == f"{key}_half_peak" or k.startswith(f"{key}_half_peak_")]


def verdicts(run: Run) -> list[tuple[str, str, bool]]:
    out = versus.verdicts(run)
    for t in run.sm2:
        if t.met is not None:
            out.append((f"{t.name} ≤ {t.bound_ms:g} ms", f"{t.median_ms:.3f} ms (median of {t.operations})", t.met))
    for key, bound, label in RATIO_TARGETS:
        value = ratio(run, key)
        if value is not None:
            by_cpu = cpu_ratio(run, key)
            extra = f" (by server CPU {by_cpu:.2f}×)" if by_cpu is not None else ""
            out.append((label + " (wrk)", f"{value:.2f}×{extra}", value >= bound))
    for key, bound, label in CPU_TARGETS:
        if f"{key}_cpu" in run.figures:
            measured = run.figures[f"{key}_cpu"].server_ms
            out.append((label, f"{measured:.1f} ms ({HEAVY_REQUESTS} requests one at a time)", measured <= bound))
    for key, bound, label in P99_TARGETS:
        figures = open_runs(run, key)
        if figures:
            p99s = [f.result.p99 for f in figures]
            runs = f"{len(p99s)} run{'s' if len(p99s) > 1 else ''}"
            shown = ", ".join(f"{p:.1f}" for p in p99s) + f" ms ({runs})"
            out.append((label, shown, all(p <= bound for p in p99s)))
    if len(run.growth) == 2:
        small, large = sorted(run.growth)
        factor = run.growth[large]["ms_per_order"] / run.growth[small]["ms_per_order"]
        out.append((f"matching per order at {large:,} within 1.2× of {small:,}", f"{factor:.2f}×", factor <= 1.2))
    for name, by_size in run.scans.items():
        if len(by_size) == 2:
            small, large = sorted(by_size)
            factor = by_size[large] / by_size[small]
            label = f"{name.replace('_', ' ')} at {large:,} orders within 1.2× of {small:,}"
            out.append((label, f"{factor:.2f}× ({by_size[small]:.1f} → {by_size[large]:.1f} ms)", factor <= 1.2))
    small_key, large_key = "sbu_get_1000_stored_wrk", f"sbu_get_{SBUS_GROWN}_stored_wrk"
    if small_key in run.figures and large_key in run.figures:
        small_rps, large_rps = run.figures[small_key].result.rps, run.figures[large_key].result.rps
        factor = small_rps / large_rps if large_rps else float("inf")
        out.append((f"SBU read with {SBUS_GROWN:,} SBUs stored within 1.2× of 1,000 (wrk)",
                    f"{factor:.2f}× ({small_rps:.0f} → {large_rps:.0f} req/s)", factor <= 1.2))  # fmt: skip
    return out


def _table(run: Run, keys: list[str], with_ratio: bool = True) -> list[str]:
    lines = [
        "| benchmark | service | mode | concurrency | requests | req/s | p50 ms | p99 ms | errors | × bare "
        "| server CPU ms/req | × bare by server CPU | client CPU ms/req | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in keys:
        f = run.figures[key]
        r = f.result
        x, by_cpu = (ratio(run, key), cpu_ratio(run, key)) if with_ratio else (None, None)
        lines.append(
            f"| {key} | {f.service} | {r.mode} | {f.concurrency or '-'} | {r.requests} | {r.rps:.1f} | "
            f"{r.p50:.1f} | {r.p99:.1f} | {r.errors} | {'' if x is None else f'{x:.2f}'} | {f.server_ms:.2f} | "
            f"{'' if by_cpu is None else f'{by_cpu:.2f}'} | {f.client_ms:.2f} | {f.load:.2f} |"
        )
    return lines


def report(run: Run, info: dict[str, str]) -> str:
    anchor_keys = [k for k in run.figures if k.startswith(versus.PREFIX)]
    wrk_keys = [k for k, f in run.figures.items() if f.result.mode.startswith("wrk") and k not in anchor_keys]
    open_keys = [k for k, f in run.figures.items() if f.result.mode.startswith("open")]
    cpu_keys = [k for k in run.figures if k.endswith("_cpu")]
    scan_keys = [k for k in run.figures if k.rpartition("_")[0] in run.scans]
    httpx_keys = [k for k in run.figures if k not in {*anchor_keys, *wrk_keys, *open_keys, *cpu_keys, *scan_keys}]
    lines = [
        f"## Run of {info['date']} (commit {info['commit']})",
        "",
        f"- machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory']} memory; Python {info['python']}; "
        f"PostgreSQL {info['postgresql']}",
        "- servers: one uvicorn process per service, relays on, JSON access logs to files; the load generators "
        "(wrk, one thread; httpx and the raw HTTP/1.1 open loop in this process) are separate processes on the same "
        "CPUs",
        f"- load average (1 / 5 / 15 min) before the run: {info['load']}; after: {info['load_after']}; each row "
        "gives the 1-minute load average when it ended",
        f"- closed loops of {run.args.seconds:g} s after 1 s of warm-up; open loops of {run.args.seconds:g} s at "
        "half the closed-loop peak (wrk's when measured), latency measured from when each request was due",
        "- × bare: req/s over the bare `GET /healthz` of the same server in the same run and client; × bare by "
        "server CPU: the bare request's server CPU over this request's (what the server's CPU alone allows)",
    ]
    if run.settled:
        longest = max(run.settled, key=lambda k: run.settled[k])
        lines.append(
            "- before each figure the run waited until no event delivery was due in any service (the relays had "
            "sent what earlier loops published and the receivers had handled it), so a figure counts only its own "
            f"requests' work: {sum(run.settled.values()):.0f} s in all, at most {run.settled[longest]:.1f} s "
            f"(before {longest})"
        )
    if anchor_keys:
        lines += ["", *versus.headline(run)]
    if run.sm2:
        lines += ["", *versus.sm2_table(run.sm2)]
    if run.clearance is not None:
        lines += ["", *versus.clearance_table(run.clearance)]
    if wrk_keys:
        lines += ["", "### wrk (server-bound)", "", *_table(run, wrk_keys)]
    if cpu_keys:
        lines += ["", f"### Server CPU of the heavy requests ({HEAVY_REQUESTS} sent one at a time, after 2 of warm-up)",
                  "", *_table(run, cpu_keys, with_ratio=False)]  # fmt: skip
    if httpx_keys:
        lines += ["", "### Second opinion: httpx (the client's own CPU sets much of the pace)", "",
                  *_table(run, httpx_keys)]  # fmt: skip
    if anchor_keys:
        lines += ["", f"### Anchor comparison, each round (wrk -t1 -c{versus.CONNECTIONS}; `_xbm_`: XBM's service, "
                  "`_anchor_`: the anchor)", "", *_table(run, anchor_keys, with_ratio=False)]  # fmt: skip
    if open_keys:
        lines += ["", "### Open loop at half peak (raw HTTP/1.1 on 32 kept-alive connections)", "",
                  *_table(run, open_keys, with_ratio=False)]  # fmt: skip
    if run.growth:
        lines += ["", "### Matching cost as the store grows", "",
                  "| orders stored | seeded in s | ms per ingested order | p50 ms | p99 ms | declared | errors |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for stored, g in sorted(run.growth.items()):
            lines.append(
                f"| {stored:,} | {g['seed_seconds']:.1f} | {g['ms_per_order']:.2f} | {g['p50']:.2f} | "
                f"{g['p99']:.2f} | {int(g['declared'])} / {GROWTH_ORDERS} | {int(g['errors'])} |"
            )
    if scan_keys:
        lines += ["", f"### Order list and exceptions queue as the store grows ({SCAN_REQUESTS} requests one at a "
                  f"time after 2 of warm-up; {EXCEPTIONS} mismatched orders stored at each size)", "",
                  *_table(run, scan_keys, with_ratio=False)]  # fmt: skip
    lines += ["", "### Targets", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {label} | {value} | {'yes' if ok else 'NOT YET'} |" for label, value, ok in verdicts(run)]
    lines += [f"- {note}" for note in run.notes]
    return "\n".join(lines) + "\n"


# --- main -------------------------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, info: dict[str, str]) -> str:
    info["postgresql"] = await postgres(args.database_url)
    pii_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    dbs = Databases(args.database_url)
    data_dir = OUT / f"run-{dbs.run_id}"
    timings = []
    if "sm2" in args.only:  # in this process, before any server starts
        print(f"SM2-SM3: {args.sm2_operations} signatures and verifications", flush=True)
        timings = await sm2.measure(data_dir / "sm2", args.sm2_operations)
        for t in timings:
            print(f"  {t.name:<40} median {t.median_ms:.3f} ms  p99 {t.p99_ms:.3f} ms", flush=True)
        if args.only <= {"sm2"}:  # no server needed
            info["load_after"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
            return report(Run(args, Servers(data_dir, dict.fromkeys(MIGRATIONS, ""), pii_key), sm2=timings), info)
    print(f"creating databases xbm_bench_{dbs.run_id}_* on {args.database_url.rpartition('@')[2]}", flush=True)
    urls = await dbs.create()
    servers = Servers(data_dir, urls, pii_key, profile=args.profile, anchor="anchor" in args.only)
    run = Run(args, servers, sm2=timings)
    try:
        servers.start()
        await servers.wait_up()
        print("seeding: an organisation, a plan with 1,000 SBUs, a campaign, a compliance setup", flush=True)
        org = await seed.new_org(servers.urls["plans"], "Bench seller")
        plan_id, sbu_ids = await seed.plan_with_sbus(servers.urls["plans"], org)
        campaign_id = await seed.campaign_on(servers.urls["campaigns"], org, sbu_ids[0])
        await seed.compliance_setup(servers.urls["compliance"], org)
        await org.refresh()
        print("measuring", flush=True)
        if wrk.available() and run.wants("wrk"):
            await throughput_wrk(run, org, plan_id, sbu_ids, campaign_id)
        elif run.wants("wrk"):
            run.notes.append("wrk is not installed (apt-get install wrk): closed loops ran with httpx only")
        if wrk.available() and run.wants("anchor"):
            await org.refresh()
            print(f"XBM and the anchor in turn: {versus.ROUNDS} rounds", flush=True)
            await versus.interleaved(run, org, sbu_ids)
        elif run.wants("anchor"):
            run.notes.append("wrk is not installed (apt-get install wrk): XBM was not measured against the anchor")
        await heavy_cpu(run, org, plan_id, campaign_id)
        if run.wants("httpx"):
            await org.refresh()
            await throughput(run, org, plan_id, sbu_ids, campaign_id)
        if run.wants("open"):
            for n in range(1, args.open_runs + 1):
                await org.refresh()
                await half_peak(run, org, plan_id, sbu_ids, n)
        if run.wants("clearance"):
            await run.settle("clearance")
            print(f"clearance: {args.clearance_orders} orders, three signed deliveries each, SM2 signing on",
                  flush=True)  # fmt: skip
            run.clearance = c = await clearance.measure(servers, args.clearance_orders)
            print(f"  {c.cleared}/{c.orders} cleared in {c.seconds:.1f} s: {c.orders_per_second:.1f} orders/s, "
                  f"compliance CPU {c.cpu_ms_per_order:.2f} ms/order, errors {c.errors} {c.error_sample[:120]}",
                  flush=True)  # fmt: skip
        if run.wants("growth"):
            await matching_cost(run, urls["compliance"], Pii.from_setting(pii_key, data_dir))
            await org.refresh()
            await sbu_read_growth(run, org, plan_id, sbu_ids, urls["plans"])
    finally:
        servers.stop()
        await dbs.drop()
    info["load_after"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.profile:
        run.notes.append(f"{args.profile} ran under pyinstrument (slower): see {servers.profile_path}")
    return report(run, info)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("XBM_BENCH_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--only", default=",".join(DEFAULT), type=lambda s: set(s.split(",")))
    parser.add_argument("--open-runs", type=int, default=3, help="open loops at half peak, one after the other")
    parser.add_argument("--sm2-operations", type=int, default=2000, help="SM2 signatures (and verifications) timed")
    parser.add_argument("--clearance-orders", type=int, default=1000, help="orders sent through the clearance")
    parser.add_argument(
        "--quick", action="store_true", help="--stored 10000 --seconds 5 --open-runs 1 --clearance-orders 200"
    )
    parser.add_argument("--profile", choices=("plans", "campaigns", "compliance"))
    args = parser.parse_args(argv)
    if args.quick:
        args.stored, args.seconds, args.open_runs, args.clearance_orders = 10_000, 5.0, 1, 200
    unknown = args.only - set(ALL)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {', '.join(ALL)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        import uvloop  # the load generator's own loop: the faster client leaves more CPU to the servers

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    text = asyncio.run(bench(args, host()))
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"report-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(text)
    print("\n" + text + f"\n(written to {path.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
