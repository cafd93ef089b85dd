"""Campaigns' bodies and answers: campaigns, their KPIs and budgets, and the daily metric rows with their fast path
(:data:`FAST_METRICS`, generated from the declared rows by services/campaigns/campaigns/fast_path.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter, gt
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError, model_validator
from pydantic_core import SchemaValidator

from services.campaigns.campaigns.fast_path import fast_validator
from services.campaigns.money import MoneyOut
from services.campaigns.schema_types import Day, Uuid
from shared.schemas import AsDecimalString, CurrencyCode, DecimalText, Name, Out, Schema, examples
from shared.schemas import Money as MoneyIn

KindRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Utm = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
Status = Literal["draft", "scheduled", "running", "paused", "completed", "cancelled"]
Settings = Annotated[dict[str, Any], Field(max_length=100, description="validated against the kind's settings_schema")]
#: the platforms whose reports ``POST /v1/campaigns/metrics/imports`` reads (docs/ad-platforms.md)
Platform = Literal["google_ads", "meta", "tiktok", "amazon_ads", "mailchimp", "klaviyo"]
PlatformId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class ExternalRef(Schema):
    """The campaign's id on an ad or email platform: a report row naming it is placed on this campaign."""

    platform: Platform
    """The platform: `google_ads`, `meta`, `tiktok`, `amazon_ads`, `mailchimp` or `klaviyo`."""
    account_id: PlatformId | None = Field(
        None, description="the ad account, customer, advertiser or profile id (checked when the report names one)"
    )
    campaign_id: PlatformId = Field(description="the platform's own campaign id")
    attribution_window: Literal["1d", "7d", "14d", "30d"] | None = Field(
        None,
        description="Amazon Ads: which purchasesNd/salesNd columns count (default 7d for Sponsored Products, "
        "14d for Sponsored Brands and Display)",
    )


ExternalRefs = Annotated[list[ExternalRef], Field(max_length=20)]


def _check_refs(refs: list[ExternalRef] | None) -> None:
    if refs and len({(r.platform, r.campaign_id) for r in refs}) != len(refs):
        raise ValueError("external_refs names the same platform campaign twice")


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValueError("ends_on must not be before starts_on")


class CampaignIn(Schema):
    """A new campaign on a live SBU: its kind, budget, dates and kind-specific settings."""

    model_config = examples(
        {
            "sbu_id": "401b67ab-145f-4f9d-b083-afa349941822",
            "kind": "sem",
            "name": "Black Friday SEM",
            "budget": {"amount": "3000.00", "currency": "USD"},
            "starts_on": "2026-11-20",
            "ends_on": "2026-11-30",
            "event_node_id": "6e0b8d3f-2a4c-4f1e-9d7b-5c3a1e9f7b2d",
            "utm_campaign": "bf26-sem",
            "settings": {"keywords": [{"text": "golf simulator", "match_type": "exact"}], "daily_budget": "300.00"},
        }
    )

    sbu_id: Uuid
    """The live SBU (in plans) the campaign works for; 422 when it is not live in your organisation."""
    kind: KindRef
    """The campaign kind's key: a built-in one (`visual`, `sem`, `social`, `edm`, `service`, `live_broadcast`) or
    your organisation's own (`GET /v1/campaign-kinds` lists them)."""
    name: Name
    """The campaign's name, e.g. `Black Friday SEM`."""
    budget: MoneyIn
    """What the campaign may spend; its currency is the campaign's."""
    starts_on: Day
    """The first day it runs (YYYY-MM-DD)."""
    ends_on: Day
    """The last day it runs (YYYY-MM-DD), on or after `starts_on`."""
    event_node_id: Uuid | None = None
    """The event node (a sales event such as Black Friday) it belongs to, if any."""
    utm_campaign: Utm | None = None
    """The `utm_campaign` value its links carry: orders arriving with it are attributed to the campaign (unique in
    your organisation)."""
    settings: Settings = Field(default_factory=dict)
    external_refs: ExternalRefs = Field(default_factory=list)
    """The platforms' campaign ids (Google Ads, Meta, …) whose report rows belong to this campaign."""

    @model_validator(mode="after")
    def _dates(self) -> CampaignIn:
        _check_dates(self.starts_on, self.ends_on)
        _check_refs(self.external_refs)
        return self


class CampaignPatch(Schema):
    """Status moves through ``/transitions``; the SBU and kind of a campaign never change."""

    model_config = examples({"name": "Black Friday SEM (extended)", "ends_on": "2026-12-02"})

    name: Name | None = None
    """A new name. Leave it out to keep the current value."""
    budget: MoneyIn | None = None
    """A new budget. Leave it out to keep the current value."""
    starts_on: Day | None = None
    """A new first day. Leave it out to keep the current value."""
    ends_on: Day | None = None
    """A new last day. Leave it out to keep the current value."""
    event_node_id: Uuid | None = None
    """A new event node. Leave it out to keep the current value."""
    utm_campaign: Utm | None = None
    """A new `utm_campaign` value. Leave it out to keep the current value."""
    settings: Settings | None = None
    """New settings, validated against the kind's `settings_schema`. Leave it out to keep the current value."""
    external_refs: ExternalRefs | None = None
    """New platform campaign ids (Google Ads, Meta, …) whose report rows belong to it; replaces the list. Leave it
    out to keep the current one."""

    @model_validator(mode="after")
    def _dates(self) -> CampaignPatch:
        _check_dates(self.starts_on, self.ends_on)
        _check_refs(self.external_refs)
        return self


class CampaignOut(Out):
    id: str
    """The object's id (a UUID), as used in its path."""
    sbu_id: str
    """The SBU it works for."""
    kind: str
    """The campaign kind's key."""
    name: str
    """The campaign's name."""
    budget: MoneyOut
    """What it may spend."""
    starts_on: date
    """The first day it runs."""
    ends_on: date
    """The last day it runs."""
    event_node_id: str | None
    """The event node it belongs to; null when none."""
    utm_campaign: str | None
    """The `utm_campaign` value attributing orders to it; null when none."""
    settings: dict[str, Any]
    """The kind's settings (keywords, audiences, creatives …)."""
    external_refs: list[dict[str, Any]]
    """The platforms' campaign ids (`platform`, `account_id`, `campaign_id`, `attribution_window`) whose report rows
    land on it."""
    status: Status
    """`draft`, `scheduled`, `running`, `paused`, `completed` or `cancelled`."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
    updated_at: datetime
    """When the object last changed (RFC 3339, UTC)."""


def campaign_out(c) -> CampaignOut:  # type: ignore[no-untyped-def]
    return CampaignOut(
        id=c.id,
        sbu_id=c.sbu_id,
        kind=c.kind,
        name=c.name,
        budget=MoneyOut(amount=c.budget_amount, currency=c.currency),
        starts_on=c.starts_on,
        ends_on=c.ends_on,
        event_node_id=c.event_node_id,
        utm_campaign=c.utm_campaign,
        settings=c.settings,
        external_refs=c.external_refs or [],
        status=c.status,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


class TransitionIn(Schema):
    """The status the campaign should move to."""

    model_config = examples({"to": "running"})

    to: Status
    """The status to move to: draft → scheduled → running → paused/completed/cancelled (an illegal move is 409)."""


# --- metrics -----------------------------------------------------------------------------------------------

MAX_COUNT = 10**12
MAX_METRIC_AMOUNT = 10**10
VARIANT_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
#: conversions as the platforms count them: fractional (data-driven attribution), at most 6 places
CONVERSION_PLACES = 6
Conversions = Annotated[
    Decimal,
    Field(ge=0, le=MAX_COUNT, decimal_places=CONVERSION_PLACES, description="may be fractional (6 places)"),
    DecimalText(),
]
VariantKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=VARIANT_PATTERN)]
MAX_METRIC_ROWS = 1000


class RowMoney(Schema):
    """An amount of a metric row: up to 6 decimal places, so an ad platform's micros are kept exactly."""

    amount: Annotated[
        Decimal,
        Field(max_digits=18, decimal_places=6, ge=0, le=MAX_METRIC_AMOUNT),
        DecimalText(),
        AsDecimalString,
    ]
    """The amount as a decimal string (a JSON number is accepted too), at most 4 places."""
    currency: CurrencyCode
    """The ISO 4217 code: the campaign's currency."""


#: each step of the funnel counts people who passed the one before: (more, fewer) pairs a row must keep.
#: Conversions are not a step of it: the platforms count view-through conversions (no click) and several
#: conversions per click, so a true day may have more conversions than clicks (docs/ad-platforms.md)
FUNNEL = (("clicks", "impressions"), ("opens", "sends"))


class MetricRowIn(Schema):
    date: Day
    """The day the figures are for (YYYY-MM-DD); a row of the same day and variant is replaced."""
    variant: VariantKey | None = None
    """The experiment variant's key the figures are for; leave it out for a campaign without variants."""
    impressions: Count
    """Times the ads were shown that day."""
    clicks: Count
    """Clicks on them."""
    cost: RowMoney
    """What was spent that day."""
    conversions: Conversions
    """Conversions (orders, sign-ups …) as the platform counted them: decimals where it attributes fractions."""
    revenue: RowMoney
    """Revenue the platform attributes to that day."""
    sends: Count = 0
    """Emails or messages sent (email and messaging campaigns)."""
    opens: Count = 0
    """Of them, opened."""
    unsubscribes: Count = 0
    """Of them, recipients who unsubscribed."""

    @model_validator(mode="after")
    def _funnel(self) -> MetricRowIn:
        # a row saying that more people passed a step than the one before it is a mistake
        for more, fewer in FUNNEL:
            if getattr(self, more) > getattr(self, fewer):
                raise ValueError(
                    f"{more} ({getattr(self, more)}) cannot exceed {fewer} ({getattr(self, fewer)}) on {self.date}"
                )
        return self


class MetricsIn(Schema):
    """Daily metric rows of the campaign, upserted by date and variant."""

    model_config = examples(
        {
            "rows": [
                {
                    "date": "2026-09-01",
                    "impressions": 12000,
                    "clicks": 480,
                    "cost": {"amount": "264.00", "currency": "USD"},
                    "conversions": 19,
                    "revenue": {"amount": "7581.00", "currency": "USD"},
                }
            ]
        }
    )

    rows: Annotated[list[MetricRowIn], Field(min_length=1, max_length=MAX_METRIC_ROWS)]
    """Daily rows, one per day and variant (1 to the limit per request); upserted."""
    backfill: bool = Field(
        False, description="accept rows dated outside the campaign's starts_on–ends_on (figures found later)"
    )

    @model_validator(mode="after")
    def _one_row_per_day_and_variant(self) -> MetricsIn:
        if len({(row.date, row.variant or "") for row in self.rows}) == len(self.rows):
            return self  # no pair twice (one pass at C speed; the loop below names the first repeated one)
        seen: set[tuple[date, str]] = set()
        for row in self.rows:
            key = (row.date, row.variant or "")
            if key in seen:
                raise ValueError(f"two rows for {row.date} and variant {row.variant!r}; send each pair once")
            seen.add(key)
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _fast_first(cls, value: Any, handler: Any) -> MetricsIn:
        """A body is validated first by :data:`FAST_METRICS` — generated from these declared fields
        (services/campaigns/campaigns/fast_path.py): their bounds as plain pydantic-core checks run in Rust,
        without a Python call per field — and the rows' rules in one pass over them.
        Whatever that path does not accept goes through the declared validators, so a refused body gets
        exactly their errors (tests/campaigns/test_metrics_fast_path.py holds the two to the same verdicts and
        values). On a 1,000-row body the declared validators alone cost ~10 Python calls per row. Declared after
        the validators it stands in front of, so it wraps them: a body it accepts is not checked twice."""
        body = fast_metrics(value, cls)
        if body is None:
            body = handler(value)
        return body


def fast_metrics(value: Any, model: type[MetricsIn] = MetricsIn) -> MetricsIn | None:
    """The body, when the fast path accepts it (see :meth:`MetricsIn._fast_first`); None leaves it to the declared
    validators, which accept or refuse it with their own errors."""
    if type(value) is not dict:
        return None
    validator = FAST.get(model) or FAST.setdefault(model, fast_validator(model, CHECKED_AFTER))
    try:
        body: MetricsIn = validator.validate_python(value)
    except ValidationError:
        return None
    rows = body.rows
    if not funnels_narrow(rows) or len({(row.date, row.variant or "") for row in rows}) != len(rows):
        return None
    return body


def funnels_narrow(rows: list[MetricRowIn]) -> bool:
    """:meth:`MetricRowIn._funnel` over all rows at once, one pass per step of the funnel."""
    return not any(any(map(gt, map(attrgetter(more), rows), map(attrgetter(fewer), rows))) for more, fewer in FUNNEL)


#: the models' own validators :func:`fast_metrics` checks itself, over all rows at once, after the fast schema
CHECKED_AFTER = frozenset({"_fast_first", "_one_row_per_day_and_variant", "_funnel"})
#: the fast path of :class:`MetricsIn` (see :meth:`MetricsIn._fast_first`), generated from its declared fields
FAST_METRICS = fast_validator(MetricsIn, CHECKED_AFTER)
#: the fast path of each body model: :class:`MetricsIn`'s, and a subclass's once it is first validated
FAST: dict[type[MetricsIn], SchemaValidator] = {MetricsIn: FAST_METRICS}


class MetricsOut(Out):
    campaign_id: str
    """The campaign the rows were stored for."""
    upserted: int
    """How many rows were inserted or replaced."""
