"""The migration to institutions_0019 moves each declared order's quota year to its declaration's year in China
time (an order taken on 31 December and declared after midnight in China counts in the new year); orders not
declared keep theirs, and every payment institution is a non-bank one (SQLite here, PostgreSQL in ``-m db``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from shared.db import make_engine
from shared.migrations import alembic_config

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "compliance" / "migrations"
BEFORE = "pii_0012"
TAKEN = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 23:30 in China
ORDER = """INSERT INTO orders (id, org_id, ebp_code, order_no, trade_direction, state, currency, actual_paid,
    document, buyer_id_encrypted, buyer_id_hash, buyer_verified, quota_year, receipts, state_changed_at,
    created_at, updated_at, declaration_id) VALUES (:id, 'org', 'E', :id, 'import', :state, 'CNY', 100, '{}', 'x',
    'h', false, 2026, '[]', :at, :at, :at, :declaration)"""
DECLARATION = """INSERT INTO declarations (id, org_id, order_id, message_type, guid, cop_no, declared_at, created_at,
    updated_at) VALUES (:id, 'org', :order, 'CEB621', :id, :id, :at, :at, :at)"""
INSTITUTION = """INSERT INTO payment_institutions (id, org_id, pay_code, name, licence_no, scopes, status, version,
    created_at, updated_at) VALUES ('i1', 'org', 'PAY1', 'Pay', 'Z1', '["internet_payment"]', 'active', 1, :at, :at)"""
DECLARED = {  # order → declared at (UTC)
    "after-midnight": datetime(2026, 12, 31, 16, 10, tzinfo=UTC),  # 00:10 on 1 January 2027 in China
    "before-midnight": datetime(2026, 12, 31, 15, 50, tzinfo=UTC),  # 23:50 in China
}


@pytest.mark.db
async def test_the_upgrade_counts_declared_orders_in_their_declarations_year(databases: Any) -> None:
    url = await databases.new("quota_year")
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), BEFORE)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for order_no, at in DECLARED.items():
                declaration = f"d-{order_no}"
                await conn.execute(text(ORDER), {"id": order_no, "state": "declared", "at": TAKEN,
                                                 "declaration": declaration})  # fmt: skip
                await conn.execute(text(DECLARATION), {"id": declaration, "order": order_no, "at": at})
            await conn.execute(text(ORDER), {"id": "waiting", "state": "awaiting_documents", "at": TAKEN,
                                             "declaration": None})  # fmt: skip
            await conn.execute(text(INSTITUTION), {"at": TAKEN})
        await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "head")
        async with engine.connect() as conn:
            years = dict((await conn.execute(text("SELECT order_no, quota_year FROM orders"))).all())
            kind = (await conn.execute(text("SELECT kind FROM payment_institutions"))).scalar_one()
            flags = set((await conn.execute(text("SELECT tax_disagrees FROM orders"))).scalars())
        assert years == {"after-midnight": 2027, "before-midnight": 2026, "waiting": 2026}
        assert kind == "non_bank" and flags == {False}
    finally:
        await engine.dispose()
