"""Personal data's lifetime, as relay jobs.

The platforms' raw deliveries: past the retention (``XBM_COMPLIANCE_PLATFORM_BODY_RETENTION_DAYS``, 90 days unless
set) a delivery's body is emptied. The row stays — its de-duplication key keeps a late redelivery from being taken
again, and its outcome stays listed — but the buyer's data it carried is gone. A refund or delete still ``waiting``
for its order keeps its body: it is applied from it when the order arrives.

What an older XBM stored in clear (documents' parties, raw bodies) is sealed, a batch a pass, once per process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, func, select, text, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance.deliveries import PlatformDelivery
from services.compliance.intake.platforms import WAITING, body_context
from services.compliance.orders.models import Order, Payment, Waybill
from services.compliance.pii import SEALED, Pii
from services.compliance.sealed import SEALED_FIELD
from services.compliance.sealed import seal as sealed_seal
from shared.db import utcnow
from shared.events.relay import at_most_every

#: how often a process looks (the relay passes every second or so)
EVERY_SECONDS = 300.0
BATCH = 500


async def empty_expired(sessions: async_sessionmaker[AsyncSession], retention: timedelta, *, batch: int = BATCH,
                        limit_batches: int = 20) -> int:  # fmt: skip
    """Empty the bodies of the deliveries received before ``now - retention`` (not waiting); how many."""
    cutoff = utcnow() - retention
    emptied = 0
    for _ in range(limit_batches):
        async with sessions() as session, session.begin():
            ids = (
                (
                    await session.execute(
                        select(PlatformDelivery.id)
                        .where(
                            PlatformDelivery.received_at < cutoff,
                            PlatformDelivery.outcome != WAITING,
                            func.length(PlatformDelivery.body) > 0,
                        )
                        .limit(batch)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return emptied
            await session.execute(
                update(PlatformDelivery)
                .where(PlatformDelivery.id.in_(ids), PlatformDelivery.outcome != WAITING)
                .values(body=b"")
                .execution_options(synchronize_session=False)
            )
            emptied += len(ids)
        if len(ids) < batch:
            break
    return emptied


def retention_job(
    sessions: Callable[[], async_sessionmaker[AsyncSession]], retention_days: float
) -> Callable[[], Awaitable[int]]:
    """A relay job that empties expired bodies at most every :data:`EVERY_SECONDS` in this process."""

    async def platform_bodies() -> int:
        return await empty_expired(sessions(), timedelta(days=retention_days))

    return at_most_every(EVERY_SECONDS, platform_bodies, 0)


# --- what was stored before documents and bodies were sealed ----------------------------------------------------


def _needs_sealing(doc: Any) -> bool:
    return isinstance(doc, dict) and SEALED_FIELD not in doc and sealed_seal(doc) is not doc


async def seal_documents(sessions: async_sessionmaker[AsyncSession], after: dict[str, str], batch: int = BATCH) -> int:
    """Seal the next ``batch`` documents of each kind stored in clear before sealing (``after``: the last id seen
    per table, advanced here; a table swept to its end is marked ``""``→ done). How many were sealed."""
    done = 0
    for model, columns in ((Order, ("document", "later_version")), (Payment, ("document",)),
                           (Waybill, ("document",))):  # fmt: skip
        name = model.__tablename__
        if after.get(name) == DONE:
            continue
        raw = [type_coerce(getattr(model, c), JSON).label(c) for c in columns]
        async with sessions() as session, session.begin():
            stmt = select(model.id, *raw).where(model.id > after.get(name, "")).order_by(model.id).limit(batch)
            rows = (await session.execute(stmt)).all()
            for row in rows:
                values = {c: getattr(row, c) for c in columns if _needs_sealing(getattr(row, c))}
                if values:  # written through the sealing column type
                    await session.execute(update(model).where(model.id == row.id).values(**values))
                    done += 1
        after[name] = rows[-1].id if len(rows) == batch else DONE
    return done


async def seal_bodies(sessions: async_sessionmaker[AsyncSession], pii: Pii, batch: int = BATCH) -> int:
    """Seal raw deliveries stored in clear before bodies were sealed (a batch a call)."""
    clear = func.substr(PlatformDelivery.body, 1, len(SEALED)) != SEALED
    async with sessions() as session, session.begin():
        stmt = select(PlatformDelivery).where(func.length(PlatformDelivery.body) > 0, clear).limit(batch)
        found = (await session.execute(stmt)).scalars().all()
        for delivery in found:
            delivery.body = pii.seal(delivery.body, body_context(delivery.org_id))
    return len(found)


#: ``after`` value of a table swept to its end
DONE = "\uffff"


def sealing_job(sessions: Callable[[], async_sessionmaker[AsyncSession]], pii: Pii) -> Callable[[], Awaitable[int]]:
    """A relay job that seals what an older XBM stored in clear, a batch a pass, until none is left (then it does
    nothing more in this process)."""
    after: dict[str, str] = {}
    finished = [False]

    async def legacy_documents() -> int:
        if finished[0]:
            return 0
        count = await seal_documents(sessions(), after) + await seal_bodies(sessions(), pii)
        if count:
            await forget_old_pages(sessions())
        finished[0] = all(after.get(t) == DONE for t in ("orders", "payments", "waybills")) and count == 0
        return count

    return legacy_documents


async def forget_old_pages(sessions: async_sessionmaker[AsyncSession]) -> None:
    """On SQLite, the WAL keeps the pages as they were before a change until it is reset: once what was in clear is
    sealed, checkpoint and truncate it (freed space in the database itself is zeroed: ``secure_delete``).
    PostgreSQL's old row versions go with (auto)vacuum."""
    async with sessions() as session:
        if session.get_bind().dialect.name == "sqlite":
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
