"""What the customer routes answer and what ``customers.summary_changed`` carries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.schemas import DecimalStr, Out, Schema, examples

Stage = Literal["new", "active", "at_risk", "lapsed"]


class MoneyOut(Out):
    amount: DecimalStr
    """The amount as a decimal string (never a JSON number), e.g. `"1999.00"`."""
    currency: str
    """The ISO 4217 code of the amount's currency."""


class Stages(Out):
    new: int = Field(description="first order within the organisation's 'new' window (default 30 days)")
    active: int = Field(description="last order within the 'active' window (default 90 days)")
    at_risk: int = Field(description="last order between the active and at-risk windows (default 90–180 days)")
    lapsed: int = Field(description="last order longer ago than the at-risk window (default 180 days)")


class TierOut(Out):
    tier_id: str
    """The membership tier's id in plans."""
    plan_id: str
    """The plan the tier belongs to."""
    name: str
    """The tier's name."""
    level: int
    """Its rank, 1 the lowest."""
    members: int
    """Buyers who qualify for it in the window."""
    active_members: int = Field(description="members with an order within the 'active' window")
    activity_rate: DecimalStr | None = Field(description="active_members / members; null without members")


class Window(Out):
    start: datetime = Field(serialization_alias="from")
    """The window's first moment (answered as `from`, RFC 3339, UTC)."""
    end: datetime = Field(serialization_alias="to")
    """The window's end (answered as `to`, RFC 3339, UTC)."""


class SummaryOut(Out):
    window: Window
    """The window of released orders counted."""
    customers: int = Field(description="customers with at least one released, not returned order in the window")
    new_customers: int = Field(description="customers whose first order falls in the window")
    returning_customers: int = Field(description="customers who had ordered before the window")
    repurchase_rate: DecimalStr | None = Field(
        description="customers with two or more orders in the window / customers; null without customers"
    )
    orders: int
    """Released orders in the window."""
    revenue: list[MoneyOut] = Field(description="per currency")
    aov: list[MoneyOut] = Field(description="average order value per currency")
    stages: Stages = Field(description="customers of the window by the recency of their last order at its end")
    tiers: list[TierOut] = Field(description="membership tiers of the organisation's plans, as plans announced them")
    member_activity_rate: DecimalStr | None = Field(
        description="members of any tier with an order within the 'active' window / members"
    )


class LifecycleIn(Schema):
    """The organisation's lifecycle windows in days since a customer's last order: new (first order within
    `new_days`), active (within `active_days`), at risk (up to `at_risk_days`), lapsed (beyond)."""

    model_config = examples({"new_days": 30, "active_days": 90, "at_risk_days": 180})

    new_days: int = Field(30, ge=1, le=3650)
    """A customer is `new` while their first order is at most this many days old (default 30)."""
    active_days: int = Field(90, ge=1, le=3650)
    """`active` while their last order is at most this many days old (default 90)."""
    at_risk_days: int = Field(180, ge=1, le=3650)
    """`at_risk` while their last order is at most this many days old (default 180); `lapsed` after."""


class LifecycleOut(Out):
    new_days: int
    """Days a first order keeps a customer `new`."""
    active_days: int
    """Days the last order keeps a customer `active`."""
    at_risk_days: int
    """Days after which a customer is `lapsed`."""


class AudienceMember(Out):
    email_sha256: str | None = Field(description="SHA-256 (hex) of the trimmed, lower-cased email")
    phone_sha256: str | None = Field(description="SHA-256 (hex) of the phone in E.164, e.g. +14155550123")
    country: str | None = Field(description="ISO 3166 alpha-2")


class AudiencePage(Out):
    items: list[AudienceMember]
    """This page's members."""
    next_cursor: str | None
    """Pass it as `?cursor=` for the next page; null on the last page."""


class ErasureIn(Schema):
    """Who else the buyer is known as, beside the platform's customer id in the path (any of them finds orders)."""

    model_config = examples({"ebp_code": "1105910159", "order_nos": ["EX2026A0001"], "email": "jiao@example.com"})

    ebp_code: str | None = Field(None, max_length=18, description="only this platform's orders (its ebp code)")
    platform_order_ids: list[str] = Field(
        default_factory=list, max_length=1000, description="the platform's own ids of the buyer's orders"
    )
    order_nos: list[str] = Field(default_factory=list, max_length=1000, description="the buyer's order numbers")
    id_number: str | None = Field(None, max_length=40, description="the buyer's ID number (an import buyer)")
    email: str | None = Field(None, max_length=254, description="the buyer's email (an export buyer)")
    phone: str | None = Field(None, max_length=60, description="the buyer's telephone (an export buyer)")
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="the buyer's country, ISO 3166 alpha-2")


class ErasureOut(Out):
    id: str
    """The erasure's id."""
    scope: Literal["customer", "shop"]
    """`customer` (one buyer) or `shop` (everything a shop brought: Shopify's shop/redact)."""
    requested_by: str = Field(description="admin:<key or user>, or the platform's webhook that asked")
    source_id: str | None
    """The platform source the request came through; null for an admin's request."""
    erased_at: datetime
    """When it was done."""
    counts: dict[str, int] = Field(
        description="orders erased, masked_orders (declared: the customs record kept masked), payments, waybills, "
        "deliveries (raw bodies emptied), customers (register entries), messages (sent messages' bodies)"
    )
    order_ids: list[str]
    """XBM's own ids of the orders it touched (no personal data)."""
