"""``python -m bench.customers``: the customer summary's cost with 10,000 and with 1,000,000 orders stored.

A seller's summary reads one window (the last 365 days). The store grows with history, not with the window: the
same 10,000 orders of the last year (4,000 buyers, a third of them export, two currencies) are stored first
alone, then with 990,000 orders of the nine years before (200,000 buyers, including the last year's), which makes
most of the last year's buyers returning ones and gives each a long history to find its first order in. The
register's rows are written straight into compliance's tables with ``INSERT … SELECT generate_series`` in their
real shape, then ``ANALYZE``. Each size is measured by running the summary (the service function the route calls,
with two membership tiers) ``--runs`` times after a warm-up, on a fresh PostgreSQL database that is dropped after.

Options: ``--database-url`` (default ``$XBM_BENCH_DATABASE_URL`` or the local server), ``--runs`` (default 50),
``--stored`` the large size (default 1,000,000). The report is printed and written to ``bench/out/``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from services.compliance.app import MIGRATIONS
from services.compliance.customers.service import summary_view
from services.compliance.customers.summary import Scope
from shared.db import make_engine, make_sessionmaker
from shared.migrations import aupgrade_to_head

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
ORG = "00000000-0000-4000-8000-00000000b001"
END = datetime(2026, 7, 1, tzinfo=UTC)
WINDOW_ORDERS, WINDOW_BUYERS, HISTORY_BUYERS = 10_000, 4_000, 200_000
#: a deterministic UUID-shaped id per number
ID = "'{p}-0000-4000-8000-' || lpad(({n})::text, 12, '0')"

CUSTOMERS = f"""
INSERT INTO customers (id, org_id, customer_key, trade_direction, country, created_at)
SELECT {ID.format(p="00000000", n="n")}, $1::text, md5('buyer' || n),
       CASE WHEN n % 3 = 0 THEN 'export' ELSE 'import' END, CASE WHEN n % 3 = 0 THEN 'US' END, $2
FROM generate_series($3::int, $4::int - 1) AS n
"""
ORDERS = f"""
INSERT INTO customer_orders (id, org_id, customer_id, order_id, ebp_code, trade_direction, currency, amount,
                             released_at)
SELECT {ID.format(p="00000001", n="n")}, $1, {ID.format(p="00000000", n="n % $5")}, 'order-' || n, 'EBP0000001',
       CASE WHEN (n % $5) % 3 = 0 THEN 'export' ELSE 'import' END,
       CASE WHEN (n % $5) % 3 = 0 THEN 'USD' ELSE 'CNY' END, 1000000 + (n % 997) * 10000,
       $2::timestamptz - ($6::int * interval '1 second') * (((n::bigint * 7919) % 100000) / 100000.0)
FROM generate_series($3::int, $4::int - 1) AS n
"""
#: the same rows, released from ten years to one year before the window's end
HISTORY = ORDERS.replace("$2::timestamptz - (", "($2::timestamptz - interval '365 days 1 second') - (")
TIERS = """
INSERT INTO membership_tiers (id, org_id, plan_id, name, level, min_orders, min_spend_amount, min_spend_currency,
                              window_days, changed_at, deleted)
VALUES ('00000002-0000-4000-8000-000000000001', $1, '00000003-0000-4000-8000-000000000001', 'Gold', 2, 3,
        5000000, 'CNY', 365, $2, false),
       ('00000002-0000-4000-8000-000000000002', $1, '00000003-0000-4000-8000-000000000001', 'Member', 1, 1,
        NULL, NULL, 365, $2, false)
"""


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def seed_window(conn: asyncpg.Connection) -> None:
    await conn.execute(CUSTOMERS, ORG, END, 0, HISTORY_BUYERS)
    window = int(timedelta(days=365).total_seconds())
    await conn.execute(ORDERS, ORG, END, 0, WINDOW_ORDERS, WINDOW_BUYERS, window)
    await conn.execute(TIERS, ORG, END)
    await conn.execute("ANALYZE")


async def seed_history(conn: asyncpg.Connection, stored: int) -> float:
    """Orders of the nine years before the window, released from ten years to one year before its end."""
    start = time.perf_counter()
    nine_years = int(timedelta(days=365 * 9).total_seconds())
    first, chunk = WINDOW_ORDERS, 100_000
    while first < stored:
        last = min(stored, first + chunk)
        await conn.execute(HISTORY, ORG, END, first, last, HISTORY_BUYERS, nine_years)
        first = last
    await conn.execute("ANALYZE")
    return time.perf_counter() - start


async def measure(url: str, runs: int) -> tuple[list[float], dict[str, object]]:
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    scope = Scope(ORG, END - timedelta(days=365), END)
    timings: list[float] = []
    summary: dict[str, object] = {}
    try:
        for i in range(runs + 5):
            async with sessionmaker() as session:
                start = time.perf_counter()
                view = await summary_view(session, scope)
                elapsed = time.perf_counter() - start
            if i >= 5:  # the first runs warm the caches and the connection pool
                timings.append(elapsed * 1000)
            summary = view.model_dump(mode="json", by_alias=True)
    finally:
        await engine.dispose()
    return timings, summary


def line(label: str, timings: list[float]) -> str:
    q = statistics.quantiles(timings, n=20)
    return f"| {label} | {statistics.median(timings):.2f} | {q[0]:.2f} | {q[-1]:.2f} | {min(timings):.2f} |"


async def main(server: str, runs: int, stored: int) -> int:
    name = f"xbm_bench_customers_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server.rpartition('/')[0]}/{name}"
    try:
        await aupgrade_to_head(MIGRATIONS, url)
        conn = await asyncpg.connect(plain(url))
        try:
            await seed_window(conn)
            small, small_summary = await measure(url, runs)
            seconds = await seed_history(conn, stored)
            count = await conn.fetchval("SELECT count(*) FROM customer_orders")
        finally:
            await conn.close()
        large, large_summary = await measure(url, runs)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    # the window's own figures cannot depend on the history before it (new/returning and stages do)
    own = ("customers", "orders", "revenue", "aov", "repurchase_rate", "tiers")
    differ = [k for k in own if small_summary[k] != large_summary[k]]
    assert not differ, f"{differ}: {[(small_summary[k], large_summary[k]) for k in differ]}"
    ratio = statistics.median(large) / statistics.median(small)
    report = "\n".join(
        [
            f"## Customer summary — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}",
            "",
            f"Window: 365 days, {WINDOW_ORDERS:,} orders of {WINDOW_BUYERS:,} buyers; "
            f"{runs} runs each after 5 warm-up runs; history seeded in {seconds:.0f} s.",
            "",
            "| stored orders | median ms | p5 ms | p95 ms | min ms |",
            "|---|---|---|---|---|",
            line(f"{WINDOW_ORDERS:,}", small),
            line(f"{count:,}", large),
            "",
            f"Cost ratio (median, {count:,} vs {WINDOW_ORDERS:,}): **{ratio:.2f}×** (target ≤ 1.2×). "
            f"Returning customers: {small_summary['returning_customers']} → {large_summary['returning_customers']}; "
            f"stages {small_summary['stages']} → {large_summary['stages']}.",
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
