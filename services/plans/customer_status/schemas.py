"""The computed customer status as plans answers it (from compliance's ``customers.summary_changed``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.schemas import DecimalStr, Out


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
