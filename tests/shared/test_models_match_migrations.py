"""Each service's models and its Alembic migrations describe the same schema: a fresh database upgraded to head
and compared with the models' metadata by Alembic's autogenerate finds nothing to change (on SQLite, and on
PostgreSQL in the ``-m db`` run)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from shared.db import make_engine
from shared.migrations import aupgrade_to_head

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("plans", "campaigns", "compliance")


def _metadata(service: str) -> MetaData:
    importlib.import_module(f"services.{service}.app")  # registers every model of the service
    # the migrations' env.py lists the model modules too: import them all, as autogenerate would
    env = (ROOT / "services" / service / "migrations" / "env.py").read_text()
    for line in env.splitlines():
        if line.startswith("import services."):
            importlib.import_module(line.split()[1])
    base = importlib.import_module(f"services.{service}.base")
    return base.Base.metadata  # type: ignore[no-any-return]


def _differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
    return list(compare_metadata(context, metadata))


@pytest.mark.db
@pytest.mark.parametrize("service", SERVICES)
async def test_the_migrations_create_what_the_models_declare(databases: Any, service: str) -> None:
    url = await databases.new(f"schema_{service}")
    await aupgrade_to_head(ROOT / "services" / service / "migrations", url)
    metadata = _metadata(service)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences, metadata)
    finally:
        await engine.dispose()
    assert differences == []
