"""``customers.summary_changed`` as plans reads it (compliance owns the event; plans checks what it uses)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas import DecimalStr, Out


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WindowIn(_In):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class StagesIn(_In):
    new: int = Field(ge=0)
    active: int = Field(ge=0)
    at_risk: int = Field(ge=0)
    lapsed: int = Field(ge=0)


class TierIn(_In):
    tier_id: str = Field(max_length=36)
    plan_id: str = Field(max_length=36)
    name: str = Field(max_length=200)
    members: int = Field(ge=0)
    active_members: int = Field(ge=0)
    activity_rate: Decimal | None = Field(None, ge=0, le=1)


class SummaryChangedIn(_In):
    window: WindowIn
    computed_at: datetime
    customers: int = Field(ge=0)
    new_customers: int = Field(ge=0)
    returning_customers: int = Field(ge=0)
    repurchase_rate: Decimal | None = Field(None, ge=0, le=1)
    orders: int = Field(ge=0)
    stages: StagesIn
    tiers: list[TierIn] = Field(default_factory=list, max_length=1000)


class CustomerStatusOut(Out):
    """The computed customer status beside the SBU grid and in the report."""

    computed_at: datetime
    window_from: datetime
    window_to: datetime
    customers: int
    new_customers: int
    returning_customers: int
    repurchase_rate: DecimalStr | None
    member_activity_rate: DecimalStr | None = Field(description="this plan's tiers: active members / members")
    orders: int
    stages: dict[str, int]
    min_repurchase_rate: DecimalStr | None = Field(description="the plan's threshold, when it sets one")
