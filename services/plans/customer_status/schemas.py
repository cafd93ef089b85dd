"""The computed customer status as plans answers it (from compliance's ``customers.summary_changed``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.schemas import DecimalStr, Out


class CustomerStatusOut(Out):
    """The computed customer status beside the SBU grid and in the report."""

    computed_at: datetime
    """When compliance computed these figures (RFC 3339, UTC)."""
    window_from: datetime
    """The first moment of the window of orders counted."""
    window_to: datetime
    """The end of the window of orders counted."""
    customers: int
    """Distinct buyers with a released order in the window."""
    new_customers: int
    """Buyers whose first order falls in the window."""
    returning_customers: int
    """Buyers who had ordered before the window."""
    repurchase_rate: DecimalStr | None
    """Customers with two or more orders in the window / customers (decimal string); null without
    customers."""
    member_activity_rate: DecimalStr | None = Field(description="this plan's tiers: active members / members")
    orders: int
    """Released orders in the window."""
    stages: dict[str, int]
    """Customers by the recency of their last order at the window's end (`new`, `active`, `at_risk`, `lapsed`)."""
    min_repurchase_rate: DecimalStr | None = Field(description="the plan's threshold, when it sets one")
