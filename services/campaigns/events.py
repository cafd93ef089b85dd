"""The events campaigns publishes and consumes (mechanisms in shared/), and the coalescing of
``sbu.performance_changed``: metric writes only mark an SBU as changed; the relay announces each marked SBU once
per pass, so a burst of writes sends one event per SBU."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from services.campaigns import contracts
from services.campaigns.base import Base
from services.campaigns.performance.service import sbu_figures  # the domain computes the figures
from shared.db import UTCDateTime, insert_ignore, utcnow
from shared.events import outbox
from shared.events.tables import event_tables

log = logging.getLogger("xbm.campaigns.events")
EVENTS = event_tables(Base, contracts.EVENTS)


class ChangedSbu(Base):
    """An SBU whose performance changed since it was last announced."""

    __tablename__ = "changed_sbus"

    sbu_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(36))
    since: Mapped[datetime] = mapped_column(UTCDateTime())


async def publish(
    session: AsyncSession, org_id: str, event: contracts.CampaignsEvent, occurred_at: datetime | None = None
) -> None:
    await outbox.publish(session, EVENTS, event, org_id=org_id, occurred_at=occurred_at)


async def mark_sbu_changed(session: AsyncSession, org_id: str, sbu_id: str) -> None:
    await insert_ignore(session, ChangedSbu, {"sbu_id": sbu_id, "org_id": org_id, "since": utcnow()}, ["sbu_id"])


async def announce_changed_sbus(sessionmaker: async_sessionmaker[AsyncSession], batch: int = 100) -> int:
    """Publish ``sbu.performance_changed`` for each marked SBU (one event each) and clear the marks, in one
    transaction. On PostgreSQL marks are claimed ``SKIP LOCKED``, so several relays share the work."""
    async with sessionmaker() as session, session.begin():
        stmt = select(ChangedSbu).order_by(ChangedSbu.since).limit(batch)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        marked = list((await session.execute(stmt)).scalars())
        for mark in marked:
            try:  # one SBU whose figures cannot be computed must not hold back every other tenant's
                async with session.begin_nested():
                    figures = await sbu_figures(session, mark.org_id, mark.sbu_id)
                    if figures is not None:
                        await publish(session, mark.org_id, figures)
            except Exception:
                log.exception("cannot announce the figures of SBU %s (org %s); skipped", mark.sbu_id, mark.org_id)
        if marked:
            await session.execute(delete(ChangedSbu).where(ChangedSbu.sbu_id.in_([m.sbu_id for m in marked])))
        return len(marked)
