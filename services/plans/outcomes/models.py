"""Read models of what the other services report back to plans as events: campaigns with their figures,
experiments' decisions and customs orders' states. Plans calls no one; these rows are all it knows of them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.plans.base import Base
from shared.db import OrgMixin, ScaledDecimal, TimestampMixin, UTCDateTime
from shared.money import MoneyAmount


class CampaignOutcome(OrgMixin, TimestampMixin, Base):
    """A campaign on one of the plan's SBUs as ``sbu.performance_changed`` last described it."""

    __tablename__ = "campaign_outcomes"
    __label__ = "campaign outcome"

    # keyed within the organisation: an id another organisation's event names can never reach this row
    org_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sbu_id: Mapped[str] = mapped_column(ForeignKey("sbus.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    budget_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    #: as the platforms count them: fractional, in 10^-6 units
    conversions: Mapped[Decimal] = mapped_column(ScaledDecimal(6), default=Decimal(0))
    spend_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    #: the conversion value the platforms claim
    revenue_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    #: customs-released revenue of orders naming the campaign, returns deducted (None: not announced yet)
    released_revenue_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount(), nullable=True)
    #: [{key, impressions, clicks, conversions, spend, revenue}] per variant ("" for rows without one)
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())


class ExperimentOutcome(OrgMixin, TimestampMixin, Base):
    """An experiment's latest final decision (``experiment.decided``)."""

    __tablename__ = "experiment_outcomes"
    __label__ = "experiment outcome"

    org_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36), index=True)
    decision: Mapped[str] = mapped_column(String(32))
    winner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomsOrder(OrgMixin, TimestampMixin, Base):
    """A customs order's latest state (``order.*`` from compliance), without any buyer's data."""

    __tablename__ = "customs_orders"
    __label__ = "customs order"

    org_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ebp_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    #: the rules the order failed at its last mismatch (kept when it later matches: they did fail)
    failing_rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    utm_campaign: Mapped[str | None] = mapped_column(String(100), nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(MoneyAmount(), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
