"""``python -m bench.customers``: the customer summary's cost with 10,000 and with 1,000,000 orders stored.

A seller's summary reads one window (the last 365 days). The store grows with history, not with the window: a
small seller has the year's 10,000 orders (4,000 buyers, a third of them export, two currencies, two membership
tiers); a large seller has the same year and 990,000 orders of the nine years before it (200,000 buyers,
including the year's), which makes the year's buyers returning ones with a long history to find their first
order in. The register's rows are written straight into compliance's tables with ``INSERT … SELECT
generate_series`` in their real shape, then ``VACUUM ANALYZE`` (as autovacuum does after bulk inserts). The
summary (the service function the route calls) is timed for the small seller alone in the database, then for
both sellers taken in turn, so that whatever else the machine does falls on both alike. The cost compared is
the CPU per summary of the database backend plus this process (from ``/proc``; the steadiest figure on a shared
machine); wall times are reported beside it. A fresh PostgreSQL database is created and dropped.

Options: ``--database-url`` (default ``$XBM_BENCH_DATABASE_URL`` or the local server), ``--runs`` (default 50),
``--stored`` the large seller's orders (default 1,000,000). The report is printed and written to ``bench/out/``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import text

from services.compliance.app import MIGRATIONS
from services.compliance.customers.service import summary_view
from services.compliance.customers.summary import Scope
from shared.db import make_engine, make_sessionmaker
from shared.migrations import aupgrade_to_head

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
#: the seller with one year of orders, and the seller with the same year and nine years of history before it
SMALL, LARGE = "00000000-0000-4000-8000-00000000b001", "00000000-0000-4000-8000-00000000b002"
END = datetime(2026, 7, 1, tzinfo=UTC)
WINDOW_ORDERS, WINDOW_BUYERS, HISTORY_BUYERS = 10_000, 4_000, 200_000
#: a deterministic UUID-shaped id per number ($7: the organisation's digit)
ID = "'{p}' || $7::text || '-0000-4000-8000-' || lpad(({n})::text, 12, '0')"

CUSTOMERS = f"""
INSERT INTO customers (id, org_id, customer_key, trade_direction, country, created_at)
SELECT {ID.format(p="0000000", n="n").replace("$7", "$5")}, $1::text, md5('buyer' || n),
       CASE WHEN n % 3 = 0 THEN 'export' ELSE 'import' END, CASE WHEN n % 3 = 0 THEN 'US' END, $2
FROM generate_series($3::int, $4::int - 1) AS n
"""
ORDERS = f"""
INSERT INTO customer_orders (id, org_id, customer_id, order_id, ebp_code, trade_direction, currency, amount,
                             released_at)
SELECT {ID.format(p="0000001", n="n")}, $1, {ID.format(p="0000000", n="n % $5")}, 'order-' || $7::text || '-' || n,
       'EBP0000001', CASE WHEN (n % $5) % 3 = 0 THEN 'export' ELSE 'import' END,
       CASE WHEN (n % $5) % 3 = 0 THEN 'USD' ELSE 'CNY' END, 1000000 + (n % 997) * 10000,
       $2::timestamptz - ($6::int * interval '1 second') * (((n::bigint * 7919) % 100000) / 100000.0)
FROM generate_series($3::int, $4::int - 1) AS n
"""
#: the same rows, released from ten years to one year (and a second) before the window's end
HISTORY = ORDERS.replace("$2::timestamptz - (", "($2::timestamptz - interval '365 days 1 second') - (")
TIERS = """
INSERT INTO membership_tiers (id, org_id, plan_id, name, level, min_orders, min_spend_amount, min_spend_currency,
                              window_days, changed_at, deleted)
VALUES ('00000002-0000-4000-8000-00000000000' || $3::text, $1, '00000003-0000-4000-8000-000000000001', 'Gold', 2,
        3, 5000000, 'CNY', 365, $2, false),
       ('00000002-0000-4000-8000-00000000001' || $3::text, $1, '00000003-0000-4000-8000-000000000001', 'Member', 1,
        1, NULL, NULL, 365, $2, false)
"""
YEAR = int(timedelta(days=365).total_seconds())


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def seed_window(conn: asyncpg.Connection, org: str, digit: int) -> None:
    """The year's 10,000 orders of 4,000 buyers (and every customer row the seller will ever have)."""
    await conn.execute(CUSTOMERS, org, END, 0, HISTORY_BUYERS, str(digit))
    await conn.execute(ORDERS, org, END, 0, WINDOW_ORDERS, WINDOW_BUYERS, YEAR, str(digit))
    await conn.execute(TIERS, org, END, str(digit))
    await conn.execute("VACUUM ANALYZE")


async def seed_history(conn: asyncpg.Connection, org: str, digit: int, stored: int) -> float:
    """Orders of the nine years before the window, released from ten years to one year before its end."""
    start = time.perf_counter()
    nine_years = 9 * YEAR
    first, chunk = WINDOW_ORDERS, 100_000
    while first < stored:
        last = min(stored, first + chunk)
        await conn.execute(HISTORY, org, END, first, last, HISTORY_BUYERS, nine_years, str(digit))
        first = last
    await conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) a PostgreSQL backend on this machine has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timing:
    wall_ms: list[float] = field(default_factory=list)
    #: CPU seconds of the database backend and of this process over the measured runs
    cpu: float = 0.0

    def cpu_ms(self) -> float:
        return self.cpu * 1000 / max(1, len(self.wall_ms))


async def measure(url: str, orgs: list[str], runs: int) -> tuple[dict[str, Timing], dict[str, dict]]:
    """The summary of each organisation's window, the organisations taken in turn (so whatever else the
    machine does falls on each alike), after 5 warm-up rounds; wall time per run, and the CPU the database
    and the Python side spent (the cost, whatever else runs on the machine)."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    sessionmaker = make_sessionmaker(engine)
    timings = {org: Timing() for org in orgs}
    summaries: dict[str, dict] = {}
    try:
        async with sessionmaker() as session:
            pid = int(await session.scalar(text("SELECT pg_backend_pid()")))  # the pool's one connection
        for i in range(runs + 5):
            for org in orgs:
                async with sessionmaker() as session:
                    cpu = backend_cpu(pid) + time.process_time()
                    start = time.perf_counter()
                    view = await summary_view(session, Scope(org, END - timedelta(days=365), END))
                    elapsed = time.perf_counter() - start
                    cpu = backend_cpu(pid) + time.process_time() - cpu
                if i >= 5:
                    timings[org].wall_ms.append(elapsed * 1000)
                    timings[org].cpu += cpu
                summaries[org] = view.model_dump(mode="json", by_alias=True)
    finally:
        await engine.dispose()
    return timings, summaries


def line(label: str, t: Timing) -> str:
    q = statistics.quantiles(t.wall_ms, n=20)
    return (
        f"| {label} | {t.cpu_ms():.1f} | {statistics.median(t.wall_ms):.1f} | {q[0]:.1f} | {q[-1]:.1f} "
        f"| {min(t.wall_ms):.1f} |"
    )


async def main(server: str, runs: int, stored: int) -> int:
    name = f"xbm_bench_customers_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server.rpartition('/')[0]}/{name}"
    try:
        await aupgrade_to_head(MIGRATIONS, url)
        conn = await asyncpg.connect(plain(url))
        try:
            await seed_window(conn, SMALL, 1)
            alone, _ = await measure(url, [SMALL], runs)
            await seed_window(conn, LARGE, 2)
            seconds = await seed_history(conn, LARGE, 2, stored)
            count = await conn.fetchval("SELECT count(*) FROM customer_orders WHERE org_id = $1", LARGE)
        finally:
            await conn.close()
        both, summaries = await measure(url, [SMALL, LARGE], runs)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    small, large = summaries[SMALL], summaries[LARGE]
    # the window's own figures cannot depend on the history before it (new/returning and stages do)
    own = ("customers", "orders", "revenue", "aov", "repurchase_rate")
    differ = [k for k in own if small[k] != large[k]]
    assert not differ, f"{differ}: {[(small[k], large[k]) for k in differ]}"
    ratio = both[LARGE].cpu_ms() / both[SMALL].cpu_ms()
    wall_ratio = statistics.median(both[LARGE].wall_ms) / statistics.median(both[SMALL].wall_ms)
    report = "\n".join(
        [
            f"## Customer summary — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}",
            "",
            f"Window: 365 days, {WINDOW_ORDERS:,} orders of {WINDOW_BUYERS:,} buyers, two membership tiers; "
            f"{runs} runs each after 5 warm-up rounds; {count - WINDOW_ORDERS:,} orders of history seeded in "
            f"{seconds:.0f} s.",
            "",
            "| seller's stored orders | CPU ms per summary | wall median ms | p5 ms | p95 ms | min ms |",
            "|---|---|---|---|---|---|",
            line(f"{WINDOW_ORDERS:,} (alone in the database)", alone[SMALL]),
            line(f"{WINDOW_ORDERS:,} (beside the large seller, in turn with it)", both[SMALL]),
            line(f"{count:,} (in turn with the small seller)", both[LARGE]),
            "",
            f"Cost ratio ({count:,} vs {WINDOW_ORDERS:,}, CPU per summary measured in turn): **{ratio:.2f}×** "
            f"(target ≤ 1.2×); wall-time medians {wall_ratio:.2f}×. Same customers, orders, revenue and "
            f"repurchase rate; returning customers "
            f"{small['returning_customers']} → {large['returning_customers']}, stages {small['stages']} → "
            f"{large['stages']}.",
        ]
    )
    print(report)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"customers-{datetime.now(UTC):%Y%m%dT%H%M%S}.md").write_text(report + "\n")
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("XBM_BENCH_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--stored", type=int, default=1_000_000)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.database_url, args.runs, args.stored)))
