"""The events campaigns publishes (docs/events.md), as the models its consumers import: the only module of
campaigns another service may import. It imports nothing of campaigns itself."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from shared.events.contracts import Amount, Event, Id, IsoDateTime, Part
from shared.schemas import DecimalStr

Key = Annotated[str, StringConstraints(max_length=64)]
Count = Annotated[int, Field(ge=0, le=10**15)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
MAX_CAMPAIGNS = 200
MAX_VARIANTS = 20


class CampaignsEvent(Event):
    publisher: ClassVar[str] = "campaigns"


class CampaignStatusChanged(CampaignsEvent):
    """A campaign moved from one status to another."""

    type: ClassVar[str] = "campaign.status_changed"

    campaign_id: Id
    sbu_id: str | None = None
    from_: str | None = Field(None, alias="from")
    to: Annotated[str, StringConstraints(max_length=16)]


class ArmCounts(Part):
    """What one arm had when a decision was recorded."""

    key: str
    exposures: int
    n: int
    conversions: int


class ExperimentDecided(CampaignsEvent):
    """The decision recorded on an experiment, who recorded it and on which counts."""

    type: ClassVar[str] = "experiment.decided"

    experiment_id: Id
    campaign_id: Id
    decision: Annotated[str, StringConstraints(max_length=32)]
    winner: Key | None = None
    method: str | None = None
    metric: str | None = None
    decided_by: str | None = None
    counts: list[ArmCounts] = []


class VariantFigures(Part):
    key: Key
    impressions: Count
    clicks: Count
    #: as the platforms count them: may be fractional (a decimal string; whole numbers from older publishers)
    conversions: Annotated[DecimalStr, Field(ge=0, le=10**15)]
    spend: Amount
    revenue: Amount


class CampaignFigures(Part):
    campaign_id: Id
    name: Annotated[str, StringConstraints(max_length=200)]
    kind: Key
    status: Annotated[str, StringConstraints(max_length=16)]
    currency: Currency
    budget: Amount
    starts_on: date
    ends_on: date
    variants: Annotated[list[VariantFigures], Field(max_length=MAX_VARIANTS)] = []
    #: revenue of customs-released orders naming the campaign, returns deducted (None from older publishers)
    released_revenue: Amount | None = None


class SbuPerformanceChanged(CampaignsEvent):
    """An SBU's spend, revenue and ROAS over all its campaigns, and each campaign's figures by variant."""

    type: ClassVar[str] = "sbu.performance_changed"

    sbu_id: Id
    currency: Currency
    spend: Amount
    revenue: Amount
    roas: DecimalStr | None = None
    #: customs-released revenue of the SBU's campaigns, returns deducted, and its ROAS (beside the claimed ones)
    released_revenue: Amount | None = None
    released_roas: DecimalStr | None = None
    as_of: IsoDateTime
    campaigns: Annotated[list[CampaignFigures], Field(max_length=MAX_CAMPAIGNS)] = []


#: every event campaigns publishes
EVENTS: tuple[type[CampaignsEvent], ...] = (CampaignStatusChanged, ExperimentDecided, SbuPerformanceChanged)
