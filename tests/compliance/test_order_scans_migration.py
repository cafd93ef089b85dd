"""The migration that lets the exceptions queue find orphans from the match keys notes, for the documents already
stored, what the locks note for new ones: whether an order is stored under each number, and whether documents of
more than one platform share it (SQLite here, and PostgreSQL in the ``-m db`` run)."""

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
BEFORE = "i18_compliance_customers"
ORG, EBP, OTHER = "org-1", "1105910159", "2105910159"

# order numbers and the documents stored under them before the upgrade: (kind, ebp code)
STORED = {
    "A-ORDER-ONLY": [("order", EBP)],
    "A-TRIPLE": [("order", EBP), ("payment", EBP), ("waybill", None)],
    "A-PAYMENT-ONLY": [("payment", EBP)],
    "A-WAYBILL-ONLY": [("waybill", None)],
    "A-TWO-PLATFORMS": [("order", EBP), ("payment", OTHER)],
}
EXPECTED = {  # has_order, ebp_code, mixed
    "A-ORDER-ONLY": (True, EBP, False),
    "A-TRIPLE": (True, EBP, False),
    "A-PAYMENT-ONLY": (False, EBP, False),
    "A-WAYBILL-ONLY": (False, None, False),
    "A-TWO-PLATFORMS": (True, EBP, True),
}

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
INSERTS = {
    "order": """INSERT INTO orders (id, org_id, ebp_code, order_no, trade_direction, state, currency, actual_paid,
        document, buyer_id_encrypted, buyer_id_hash, buyer_verified, quota_year, receipts, state_changed_at, created_at,
        updated_at, test, changed_after_declaration)
        VALUES (:id, :org, :ebp, :no, 'import', 'awaiting_documents', 'CNY', 100, '{}', 'x', 'h', false, 2026, '[]',
                :now, :now, :now, false, false)""",
    "payment": """INSERT INTO payments (id, org_id, pay_code, pay_transaction_id, ebp_code, order_no, document,
        payer_id_encrypted, payer_id_hash, created_at, updated_at)
        VALUES (:id, :org, 'PAY0000001', :id, :ebp, :no, '{}', 'x', 'h', :now, :now)""",
    "waybill": """INSERT INTO waybills (id, org_id, logistics_code, logistics_no, order_no, ebp_code, document,
        created_at, updated_at) VALUES (:id, :org, 'LOG0000001', :id, :no, :ebp, '{}', :now, :now)""",
}


@pytest.mark.db
async def test_the_upgrade_notes_what_is_stored_under_each_number(databases: Any) -> None:
    url = await databases.new("order_scans")
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), BEFORE)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for n, (order_no, documents) in enumerate(STORED.items()):
                await conn.execute(
                    text("INSERT INTO match_keys (id, org_id, order_no, touched_at) VALUES (:id, :org, :no, :now)"),
                    {"id": f"k{n}", "org": ORG, "no": order_no, "now": NOW},
                )
                for m, (kind, ebp) in enumerate(documents):
                    values = {"id": f"{kind}-{n}-{m}", "org": ORG, "ebp": ebp or None, "no": order_no, "now": NOW}
                    await conn.execute(text(INSERTS[kind]), values)
        await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "head")
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT order_no, has_order, ebp_code, mixed FROM match_keys"))
            noted = {no: (bool(has), ebp, bool(mixed)) for no, has, ebp, mixed in rows}
    finally:
        await engine.dispose()
    assert noted == EXPECTED
