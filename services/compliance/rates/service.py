"""The CNY rate of a currency on a day, as the seller keeps it (``PUT /v1/compliance/exchange-rates/…``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.rates.models import ExchangeRate
from shared.db import scoped


async def rate_on(session: AsyncSession, org_id: str, currency: str, day: date) -> ExchangeRate | None:
    """The rate of ``currency`` for ``day`` exactly: a rate of another day is never taken in its place."""
    stmt = scoped(ExchangeRate, org_id).where(ExchangeRate.currency == currency, ExchangeRate.day == day)
    return (await session.execute(stmt)).scalar_one_or_none()
