"""Alembic helpers shared by the services' migration environments (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import is_sqlite, make_engine
from shared.settings import ServiceSettings


def alembic_config(script_location: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision(script_location: Path) -> str | None:
    return ScriptDirectory.from_config(alembic_config(script_location, "sqlite://")).get_current_head()


def upgrade_to_head(script_location: Path, url: str) -> None:
    """Apply every migration (blocking; run it in a thread from async code)."""
    command.upgrade(alembic_config(script_location, url), "head")


async def aupgrade_to_head(script_location: Path, url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, script_location, url)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite(url),  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    async def run_async() -> None:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.run_sync(do_run)
                await conn.commit()
        finally:
            await engine.dispose()

    asyncio.run(run_async())


def migrate_main(settings: ServiceSettings, script_location: Path) -> None:
    """Entry point of ``python -m services.<svc>.migrate`` (also the one-shot migration job in deployments)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(script_location, settings.resolved_database_url())
    print(f"{settings.service_name}: schema at {head_revision(script_location)}", flush=True)
