"""``customers.summary_changed``: a release, a return or a tier change only marks the organisation; the relay
announces each marked organisation once per pass (a burst of releases sends one event), and every organisation
again a day after its last announcement, since stages move with time alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance.contracts import CustomersSummaryChanged
from services.compliance.customers.models import SummaryMark
from services.compliance.customers.service import DEFAULT_WINDOW, summary_view
from services.compliance.customers.summary import Scope
from services.compliance.events import publish
from shared.db import utcnow

DAILY = timedelta(days=1)


async def announce_summaries(
    sessionmaker: async_sessionmaker[AsyncSession], batch: int = 100, now: datetime | None = None
) -> int:
    """Publish the summary of every organisation marked changed, or announced more than a day ago, in one
    transaction with clearing the marks. On PostgreSQL marks are claimed ``SKIP LOCKED`` (several relays)."""
    now = now or utcnow()
    async with sessionmaker() as session, session.begin():
        stmt = (
            select(SummaryMark)
            .where(or_(SummaryMark.dirty.is_(True), SummaryMark.announced_at < now - DAILY))
            .order_by(SummaryMark.org_id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        marks = list((await session.execute(stmt)).scalars())
        for mark in marks:
            view = await summary_view(session, Scope(mark.org_id, now - DEFAULT_WINDOW, now))
            await publish(session, mark.org_id, CustomersSummaryChanged(**view.model_dump(), computed_at=now), now)
            mark.dirty, mark.announced_at = False, now
        return len(marks)
