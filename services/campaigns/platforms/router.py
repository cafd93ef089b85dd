"""``POST /v1/campaigns/metrics/imports``: a platform's report as it comes, fanned out to the campaigns naming
its campaigns (docs/ad-platforms.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from services.campaigns.platforms.importer import import_report
from services.campaigns.platforms.parsers import DEFAULT_PURCHASE_TYPES, FORMATS, Options, parse
from services.campaigns.platforms.schemas import ImportOut
from shared.auth import Principal, require
from shared.db import DbSession
from shared.errors import FieldError
from shared.schemas import IsoDate

router = APIRouter(prefix="/v1", tags=["campaigns"])
MetricsWriter = Annotated[Principal, Depends(require("specialist", "integration"))]
Format = Literal[FORMATS]  # type: ignore[valid-type]

#: the services' body limit (``max_body_bytes``): a larger report is 413 before it is read
MAX_BODY = 1_048_576
_BODY = {
    "requestBody": {
        "required": True,
        "description": "the platform's report as it came: JSON (API responses, Amazon's unzipped download) or "
        "CSV (the Google Ads UI or Meta Ads Manager export, UTF-8 or UTF-16)",
        "content": {
            "application/json": {
                "schema": {},
                # one day of one campaign, as Google Ads' searchStream answers (docs/ad-platforms.md)
                "example": [
                    {
                        "results": [
                            {
                                "customer": {"id": "1234567890", "currencyCode": "USD", "timeZone": "America/New_York"},
                                "campaign": {"id": "21000000001", "name": "Golf simulator - Search"},
                                "metrics": {
                                    "clicks": "120",
                                    "conversionsValue": 348.75,
                                    "conversions": 2.37,
                                    "costMicros": "86420000",
                                    "impressions": "4210",
                                },
                                "segments": {"date": "2026-09-01"},
                            }
                        ],
                        "fieldMask": "customer.id,customer.currencyCode,customer.timeZone,campaign.id,campaign.name,"
                        "metrics.clicks,metrics.conversionsValue,metrics.conversions,metrics.costMicros,"
                        "metrics.impressions,segments.date",
                    }
                ],
            },
            "text/csv": {"schema": {"type": "string", "maxLength": MAX_BODY}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary", "maxLength": MAX_BODY}},
        },
    }
}


@router.post(
    "/campaigns/metrics/imports",
    openapi_extra=_BODY,
    response_model=ImportOut,
    responses={422: {"description": "unreadable report, or a figure no platform could report (nothing stored)"}},
)
async def import_metrics(
    request: Request,
    principal: MetricsWriter,
    session: DbSession,
    format: Annotated[Format | None, Query(description="the report's format; recognised when left out")] = None,
    currency: Annotated[
        str | None,
        Query(max_length=3, pattern=r"^[A-Z]{3}$", description="the account's currency, when the report has none"),
    ] = None,
    account_id: Annotated[
        str | None, Query(max_length=100, description="the account, when the report does not name it")
    ] = None,
    purchase_action_types: Annotated[
        str | None,
        Query(
            max_length=500,
            description="Meta: the purchase action types in order of choice, comma-separated "
            f"(default {','.join(DEFAULT_PURCHASE_TYPES)}); the first a row lists counts, never a sum",
        ),
    ] = None,
    attribution_window: Annotated[
        Literal["1d", "7d", "14d", "30d"] | None,
        Query(description="Amazon Ads: the window of campaigns whose external ref names none"),
    ] = None,
    day: Annotated[
        IsoDate | None, Query(alias="date", description="Klaviyo: the day a values report is booked on")
    ] = None,
    time_zone: Annotated[
        str | None, Query(max_length=64, description="Mailchimp: the account's IANA time zone (default UTC)")
    ] = None,
    backfill: Annotated[bool, Query(description="record rows dated outside their campaign too")] = False,
) -> ImportOut:
    """Import a platform's report as it came: each row is placed on the campaign whose ``external_refs`` names
    its platform campaign, summed per day and upserted by day (the same report twice changes nothing; a newer
    one replaces the days it covers). The answer lists the rows per campaign, the platform campaigns no
    campaign names, and the rows skipped and why."""
    raw = await request.body()
    if not raw.strip():
        raise FieldError("body", "the report is empty")
    types = tuple(t.strip() for t in (purchase_action_types or "").split(",") if t.strip())
    options = Options(
        currency=currency,
        account_id=account_id,
        purchase_action_types=types or DEFAULT_PURCHASE_TYPES,
        amazon_window=attribution_window,
        day=day if isinstance(day, date) else None,
        time_zone=time_zone,
    )
    parsed = parse(raw, format, options)
    return ImportOut.model_validate(await import_report(session, principal.org_id, parsed, options, backfill))
