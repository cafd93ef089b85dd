"""Setting a rate (``PUT /v1/compliance/exchange-rates/{currency}/{day}``): apart from service.py, which routing
reads rates through, since setting one routes the held exports again (orders/broker.py, which reads service.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.orders.broker import reroute_waiting_for_rate
from services.compliance.rates.models import ExchangeRate
from services.compliance.rates.schemas import ExchangeRateIn, ExchangeRateOut
from services.compliance.rates.service import rate_on
from shared.etag import Precondition


async def put_rate(
    session: AsyncSession, org_id: str, currency: str, day: date, body: ExchangeRateIn, precondition: Precondition
) -> tuple[ExchangeRateOut, bool, int]:
    """Create or replace the CNY rate of ``currency`` (ISO) for ``day`` (replacing it only while the client's copy
    is current); the exports held for want of it are routed again at once. Answers the rate as written, whether it
    was created, and how many held orders were routed again (not part of the rate, nor of its ETag)."""
    row = await rate_on(session, org_id, currency, day)
    created = row is None
    if row is None:
        precondition(None)
        row = ExchangeRate(org_id=org_id, currency=currency, day=day, rate=body.rate, source=body.source)
        session.add(row)
    else:
        precondition(ExchangeRateOut.model_validate(row))
        row.rate, row.source = body.rate, body.source
    await session.flush()
    out = ExchangeRateOut.model_validate(row)
    return out, created, await reroute_waiting_for_rate(session, org_id, currency, day)
