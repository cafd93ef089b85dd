"""The seller's CNY exchange rates by currency and day (``/v1/compliance/exchange-rates``): what a B2B export's
goods value is converted at to decide whether the inventory list may declare it (orders/routing.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import Field, StringConstraints

from services.compliance.customs.codes import iso_currency
from services.compliance.orders.broker import reroute_waiting_for_rate
from services.compliance.rates.models import ExchangeRate
from services.compliance.rates.service import rate_on
from services.compliance.roles import Ingest
from shared.auth import Reader
from shared.db import DbSession, scoped
from shared.errors import NotFound, Unprocessable
from shared.etag import Version
from shared.pagination import Pagination, paginate
from shared.schemas import NOT_BLANK, DecimalStr, DecimalText, IsoDate, Out, Page, Schema, Trimmed, examples

router = APIRouter(prefix="/v1/compliance", tags=["exchange rates"])
CurrencyPath = Annotated[
    str, Path(pattern=r"^([A-Z]{3}|[0-9]{3})$", description="ISO 4217 (USD) or the customs code (502)")
]
DayPath = Annotated[IsoDate, Path(description="the day the rate is for, YYYY-MM-DD")]


class ExchangeRateIn(Schema):
    """What one unit of the currency is worth in CNY on the day, and where that comes from."""

    model_config = examples({"rate": "7.1307", "source": "PBOC central parity"})

    rate: Annotated[Decimal, Field(gt=0, le=Decimal("100000"), max_digits=18, decimal_places=8), DecimalText()]
    """CNY for one unit of the currency (for JPY too: one yen, not a hundred)."""
    source: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]
    """Where the rate comes from (e.g. `PBOC central parity`): named wherever the rate is used."""


class ExchangeRateOut(Out):
    currency: str
    """ISO 4217."""
    day: date
    """The day the rate is for."""
    rate: DecimalStr
    """CNY for one unit of the currency."""
    source: str
    """Where the rate comes from."""
    rerouted: int = 0
    """Orders held for want of this rate that were routed again and listed by this request."""


def _currency(value: str) -> str:
    iso = iso_currency(value) if value.isdigit() else value
    if iso == "CNY":
        raise Unprocessable("CNY needs no rate: a CNY amount is its own value", loc=["path", "currency"])
    if iso.isdigit():
        raise Unprocessable(f"currency {value!r} is not a customs currency code", loc=["path", "currency"])
    return iso


@router.put(
    "/exchange-rates/{currency}/{day}",
    response_model=ExchangeRateOut,
    responses={201: {"description": "created"}, 412: {"description": "stale If-Match"}},
)
async def put_rate(
    currency: CurrencyPath, day: DayPath, body: ExchangeRateIn, principal: Ingest, session: DbSession,
    version: Version, response: Response,
) -> ExchangeRateOut:  # fmt: skip
    """Set the CNY rate of a currency for a day. Exports held for want of it are routed again at once."""
    iso = _currency(currency)
    row = await rate_on(session, principal.org_id, iso, day)
    if row is None:
        version.check(None)
        row = ExchangeRate(org_id=principal.org_id, currency=iso, day=day, rate=body.rate, source=body.source)
        session.add(row)
        response.status_code = 201
        response.headers["Location"] = f"/v1/compliance/exchange-rates/{iso}/{day.isoformat()}"
    else:
        version.check(ExchangeRateOut.model_validate(row))
        row.rate, row.source = body.rate, body.source
    await session.flush()
    out = ExchangeRateOut.model_validate(row)
    version.answer(out)
    out.rerouted = await reroute_waiting_for_rate(session, principal.org_id, iso, day)
    return out


@router.get("/exchange-rates/{currency}/{day}", response_model=ExchangeRateOut)
async def get_rate(
    currency: CurrencyPath, day: DayPath, principal: Reader, session: DbSession, version: Version
) -> ExchangeRateOut:
    iso = _currency(currency)
    row = await rate_on(session, principal.org_id, iso, day)
    if row is None:
        raise NotFound(f"no {iso} rate for {day.isoformat()}")
    return version.answer(ExchangeRateOut.model_validate(row))


@router.get("/exchange-rates", response_model=Page[ExchangeRateOut])
async def list_rates(principal: Reader, session: DbSession, page: Pagination) -> Page[ExchangeRateOut]:
    """The organisation's rates."""
    rows, cursor = await paginate(session, scoped(ExchangeRate, principal.org_id), ExchangeRate, page)
    return Page(items=[ExchangeRateOut.model_validate(r) for r in rows], next_cursor=cursor)
