"""The event payloads plans consumes for its report, typed where they arrive (the publishers own them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Key = Annotated[str, StringConstraints(max_length=64)]
Count = Annotated[int, Field(ge=0, le=10**15)]
Amount = Annotated[Decimal, Field(ge=0, le=Decimal("1e14"), max_digits=24, decimal_places=4)]
MAX_CAMPAIGNS = 200
MAX_VARIANTS = 20


class Payload(BaseModel):
    # publishers may add fields (API.md: add freely, never break), so unknown ones are ignored
    model_config = ConfigDict(extra="ignore")


class VariantFigures(Payload):
    key: Key
    impressions: Count
    clicks: Count
    conversions: Count
    spend: Amount
    revenue: Amount


class CampaignFigures(Payload):
    campaign_id: Id
    name: Annotated[str, StringConstraints(max_length=200)]
    kind: Key
    status: Annotated[str, StringConstraints(max_length=16)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    budget: Amount
    starts_on: date
    ends_on: date
    variants: Annotated[list[VariantFigures], Field(max_length=MAX_VARIANTS)] = []


class SbuPerformanceChanged(Payload):
    sbu_id: Id
    spend: Amount
    revenue: Amount
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    as_of: str
    campaigns: Annotated[list[CampaignFigures], Field(max_length=MAX_CAMPAIGNS)] = []


class CampaignStatusChanged(Payload):
    campaign_id: Id
    to: Annotated[str, StringConstraints(max_length=16)]


class ExperimentDecided(Payload):
    experiment_id: Id
    campaign_id: Id
    decision: Annotated[str, StringConstraints(max_length=32)]
    winner: Key | None = None


class OrderChanged(Payload):
    ebp_code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    order_no: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    state: Annotated[str, StringConstraints(max_length=32)]
    utm_campaign: Annotated[str, StringConstraints(max_length=100)] | None = None
    amount: Amount | None = None
    currency: Annotated[str, StringConstraints(max_length=3)] | None = None
    failing_rules: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=50)] = []
