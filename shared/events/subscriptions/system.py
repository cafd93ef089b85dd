"""The subscriptions between XBM's own services: written idempotently, and at start-up kept trying in the
background while the database cannot take them yet."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.app_context import AppContext
from shared.events.outbox import invalidate_subscriptions
from shared.events.tables import EventTables, SubscriptionColumns


async def upsert_system_subscription(
    session: AsyncSession, tables: EventTables, name: str, url: str, event_types: list[str], secret: str
) -> SubscriptionColumns:
    S = tables.Subscription
    sub = (await session.execute(select(S).where(S.system_name == name))).scalar_one_or_none()
    if sub is None:
        sub = S(system_name=name, org_id=None, description=f"internal: {name}")
        session.add(sub)
    sub.url, sub.event_types, sub.secret, sub.status, sub.disabled_reason = url, event_types, secret, "active", None
    await session.flush()
    invalidate_subscriptions(session, tables)
    return sub


log = logging.getLogger("xbm.subscriptions")
#: how long to wait before trying again to register a service's own subscription the database refused
SYSTEM_SUBSCRIPTION_RETRY_SECONDS = 5.0


async def ensure_system_subscription(
    ctx: AppContext, tables: EventTables, name: str, url: str, event_types: list[str], secret: str
) -> None:
    """Register (idempotently) the subscription through which another service receives this one's events.

    A service must start even when its database cannot take the row yet (unreachable, or its schema behind
    Alembic head: ``/readyz`` says so): it then keeps trying in the background until the row is written, and the
    context cancels those attempts when it closes."""

    async def attempt() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            await upsert_system_subscription(session, tables, name, url, event_types, secret)

    try:
        await attempt()
        return
    except (SQLAlchemyError, OSError) as exc:
        log.warning("cannot register the %s subscription yet (%s); retrying", name, type(exc).__name__)

    async def keep_trying() -> None:
        while True:
            await asyncio.sleep(SYSTEM_SUBSCRIPTION_RETRY_SECONDS)
            try:
                await attempt()
            except (SQLAlchemyError, OSError) as exc:
                log.info("the %s subscription still cannot be registered (%s)", name, type(exc).__name__)
            else:
                log.info("registered the %s subscription", name)
                return

    tasks = ctx.system_subscription_tasks
    task = asyncio.create_task(keep_trying())
    tasks.add(task)
    task.add_done_callback(tasks.discard)
