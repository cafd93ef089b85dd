from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from services.campaigns.money import MoneyOut
from services.campaigns.schema_types import Day, Uuid
from shared.schemas import AsDecimalString, CurrencyCode, DecimalText, Name, Out, Schema
from shared.schemas import Money as MoneyIn

KindRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Utm = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
Status = Literal["draft", "scheduled", "running", "paused", "completed", "cancelled"]
Settings = Annotated[dict[str, Any], Field(max_length=100, description="validated against the kind's settings_schema")]


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValueError("ends_on must not be before starts_on")


class CampaignIn(Schema):
    """A new campaign on a live SBU: its kind, budget, dates and kind-specific settings."""

    sbu_id: Uuid
    kind: KindRef
    name: Name
    budget: MoneyIn
    starts_on: Day
    ends_on: Day
    event_node_id: Uuid | None = None
    utm_campaign: Utm | None = None
    settings: Settings = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dates(self) -> CampaignIn:
        _check_dates(self.starts_on, self.ends_on)
        return self


class CampaignPatch(Schema):
    """Status moves through ``/transitions``; the SBU and kind of a campaign never change."""

    name: Name | None = None
    budget: MoneyIn | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    event_node_id: Uuid | None = None
    utm_campaign: Utm | None = None
    settings: Settings | None = None

    @model_validator(mode="after")
    def _dates(self) -> CampaignPatch:
        _check_dates(self.starts_on, self.ends_on)
        return self


class CampaignOut(Out):
    id: str
    sbu_id: str
    kind: str
    name: str
    budget: MoneyOut
    starts_on: date
    ends_on: date
    event_node_id: str | None
    utm_campaign: str | None
    settings: dict[str, Any]
    status: Status
    created_at: datetime
    updated_at: datetime


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
        status=c.status,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


class TransitionIn(Schema):
    """The status the campaign should move to."""

    to: Status


# --- metrics -----------------------------------------------------------------------------------------------

Count = Annotated[int, Field(strict=True, ge=0, le=10**12)]
VariantKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
MAX_METRIC_ROWS = 1000


class RowMoney(Schema):
    amount: Annotated[Decimal, Field(max_digits=18, decimal_places=4, ge=0, le=10**10), DecimalText(), AsDecimalString]
    currency: CurrencyCode


class MetricRowIn(Schema):
    date: Day
    variant: VariantKey | None = None
    impressions: Count
    clicks: Count
    cost: RowMoney
    conversions: Count
    revenue: RowMoney
    sends: Count = 0
    opens: Count = 0
    unsubscribes: Count = 0

    @model_validator(mode="after")
    def _funnel(self) -> MetricRowIn:
        # each step of the funnel counts people who passed the one before: a row saying otherwise is a mistake
        for more, fewer in (("clicks", "impressions"), ("conversions", "clicks"), ("opens", "sends")):
            if getattr(self, more) > getattr(self, fewer):
                raise ValueError(
                    f"{more} ({getattr(self, more)}) cannot exceed {fewer} ({getattr(self, fewer)}) on {self.date}"
                )
        return self


class MetricsIn(Schema):
    """Daily metric rows of the campaign, upserted by date and variant."""

    rows: Annotated[list[MetricRowIn], Field(min_length=1, max_length=MAX_METRIC_ROWS)]
    backfill: bool = Field(
        False, description="accept rows dated outside the campaign's starts_on–ends_on (figures found later)"
    )

    @model_validator(mode="after")
    def _one_row_per_day_and_variant(self) -> MetricsIn:
        seen: set[tuple[date, str]] = set()
        for row in self.rows:
            key = (row.date, row.variant or "")
            if key in seen:
                raise ValueError(f"two rows for {row.date} and variant {row.variant!r}; send each pair once")
            seen.add(key)
        return self


class MetricsOut(Out):
    campaign_id: str
    upserted: int
