"""The seller's CNY exchange rates by currency and day (``/v1/compliance/exchange-rates``): what a B2B export's
goods value is converted at to decide whether the inventory list may declare it (orders/routing.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.compliance.customs.codes import iso_currency
from services.compliance.rates import writes
from services.compliance.rates.models import ExchangeRate
from services.compliance.rates.schemas import ExchangeRateIn, ExchangeRateOut
from services.compliance.rates.service import rate_on
from services.compliance.roles import Ingest
from shared.auth import Reader
from shared.db import DbSession, scoped
from shared.errors import NotFound, Unprocessable
from shared.etag import Version
from shared.pagination import Pagination, paginate
from shared.schemas import IsoDate, Page

router = APIRouter(prefix="/v1/compliance", tags=["exchange rates"])
CurrencyPath = Annotated[
    str,
    Path(
        min_length=3,
        max_length=3,
        pattern=r"^([A-Z]{3}|[0-9]{3})$",
        description="ISO 4217 (USD) or the customs code (502)",
    ),
]
DayPath = Annotated[IsoDate, Path(description="the day the rate is for, YYYY-MM-DD")]


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
    out, created, rerouted = await writes.put_rate(session, principal.org_id, iso, day, body, version.check)
    if created:
        response.status_code = 201
        response.headers["Location"] = f"/v1/compliance/exchange-rates/{iso}/{day.isoformat()}"
    # the ETag is the rate's: how many orders this request routed again is not part of it
    return version.answer(out).model_copy(update={"rerouted": rerouted})


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
