"""The migration that makes dxp_id unique across organisations keeps an id shared by several profiles on the
oldest one and gives each later one a placeholder to replace (SQLite here, and PostgreSQL in the ``-m db`` run)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.db import make_engine
from shared.migrations import alembic_config

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "compliance" / "migrations"
BEFORE = "outbox_0009"
NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
INSERT = """INSERT INTO customs_profiles (id, org_id, ebc_code, ebc_name, agent_code, agent_name, assure_code,
    customs_code, port_code, trade_mode, cop_code, cop_name, dxp_id, traf_mode, statistics_flag, created_at,
    updated_at) VALUES (:id, :org, 'E', 'E', 'A', 'A', 'S', '4604', '4604', '9610', 'C', 'C', :dxp, '5', 'A',
    :at, :at)"""
PROFILES = [  # id, org, dxp_id, created minutes after NOW
    ("p-victim", "org-victim", "DXPENT0000000001", 0),
    ("p-copier", "org-copier", "DXPENT0000000001", 5),
    ("p-copier2", "org-copier2", "DXPENT0000000001", 9),
    ("p-alone", "org-alone", "DXPENT0000000002", 1),
]


@pytest.mark.db
async def test_the_upgrade_keeps_a_shared_dxp_id_on_the_oldest_profile(databases: Any) -> None:
    url = await databases.new("dxp_unique")
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), BEFORE)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for pid, org, dxp, minutes in PROFILES:
                await conn.execute(text(INSERT), {"id": pid, "org": org, "dxp": dxp,
                                                  "at": NOW + timedelta(minutes=minutes)})  # fmt: skip
        await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "head")
        async with engine.connect() as conn:
            rows = dict((await conn.execute(text("SELECT id, dxp_id FROM customs_profiles"))).all())
        assert rows["p-victim"] == "DXPENT0000000001" and rows["p-alone"] == "DXPENT0000000002"
        assert rows["p-copier"].startswith("DUP") and rows["p-copier2"].startswith("DUP")
        assert len(set(rows.values())) == 4 and all(len(v) <= 16 for v in rows.values())
        with pytest.raises(IntegrityError):  # the database holds it unique from now on
            async with engine.begin() as conn:
                await conn.execute(text(INSERT), {"id": "p-new", "org": "org-new", "dxp": "DXPENT0000000002",
                                                  "at": NOW})  # fmt: skip
    finally:
        await engine.dispose()
