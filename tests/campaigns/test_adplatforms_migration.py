"""The migration to fractional conversions and micros: rows stored before it read back as the same figures after
it (conversions ×10⁶ units, cost and revenue ×100), and attributed orders start with nothing returned (SQLite here,
and PostgreSQL in the ``-m db`` run)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from services.campaigns.campaigns.models import AttributedOrder, MetricRow
from shared.db import make_engine
from shared.migrations import alembic_config

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "campaigns" / "migrations"
BEFORE = "i12_campaigns_hardening"
NOW = datetime(2026, 9, 1, 10, tzinfo=UTC)


@pytest.mark.db
async def test_stored_figures_read_the_same_after_the_upgrade(databases: Any) -> None:
    url = await databases.new("adplatforms_migration")
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), BEFORE)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO campaigns (id, org_id, sbu_id, kind, name, budget_amount, currency, starts_on,"
                    " ends_on, settings, status, version, created_at, updated_at) VALUES ('c1', 'o1', 's1', 'sem', 'C',"
                    " 30000000, 'USD', '2026-09-01', '2026-09-30', '{}', 'running', 1, :now, :now)"
                ),
                {"now": NOW},
            )
            # 12.3456 USD cost, 7 conversions, 99.5 USD revenue, in the units of the time (10^-4)
            await conn.execute(
                text(
                    "INSERT INTO metric_rows (id, org_id, campaign_id, date, variant, impressions, clicks, cost,"
                    " conversions, revenue, sends, opens, unsubscribes, created_at, updated_at) VALUES ('m1', 'o1',"
                    " 'c1', '2026-09-02', '', 100, 10, 123456, 7, 995000, 0, 0, 0, :now, :now)"
                ),
                {"now": NOW},
            )
            await conn.execute(
                text(
                    "INSERT INTO attributed_orders (id, org_id, campaign_id, order_key, amount, currency, released_at,"
                    " created_at, updated_at) VALUES ('a1', 'o1', 'c1', 'E/1', 5000000, 'USD', :now, :now, :now)"
                ),
                {"now": NOW},
            )
        await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "head")
        async with engine.connect() as conn:
            row = (await conn.execute(select(MetricRow.cost, MetricRow.conversions, MetricRow.revenue))).one()
            order = (await conn.execute(select(AttributedOrder.amount, AttributedOrder.returned_amount))).one()
            refs = (await conn.execute(text("SELECT external_refs FROM campaigns"))).scalar_one()
    finally:
        await engine.dispose()
    assert tuple(row) == (Decimal("12.3456"), Decimal(7), Decimal("99.5"))
    assert tuple(order) == (Decimal("500"), Decimal(0))
    assert refs in ("[]", [])
