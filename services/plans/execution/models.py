from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.plans.base import Base
from services.plans.plan_child import PlanChild
from shared.money import MoneyAmount, money_or_none


class Innovation(PlanChild, Base):
    """The last "1" of 13N1: an innovation task on any layer."""

    __tablename__ = "innovations"
    __label__ = "innovation"

    title: Mapped[str] = mapped_column(String(200))
    layer: Mapped[str] = mapped_column(String(10))
    hypothesis: Mapped[str] = mapped_column(Text)
    budget_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    budget_currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))

    @property
    def budget(self) -> dict[str, Any] | None:
        return money_or_none(self.budget_amount, self.budget_currency)


class Review(PlanChild, Base):
    """A PDCA or DR review of the plan or one of its objects."""

    __tablename__ = "plan_reviews"
    __label__ = "review"

    loop: Mapped[str] = mapped_column(String(4))
    phase: Mapped[str] = mapped_column(String(10))
    subject_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    findings: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(Text)


class StatusSnapshot(PlanChild, Base):
    """Company and customer status at a date (the first step of customer management)."""

    __tablename__ = "status_snapshots"
    __label__ = "status snapshot"

    as_of: Mapped[date] = mapped_column(Date)
    customer_count: Mapped[int] = mapped_column(Integer)
    repurchase_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    member_activity_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    notes: Mapped[str] = mapped_column(Text, default="")


class MembershipTier(PlanChild, Base):
    __tablename__ = "membership_tiers"
    __label__ = "membership tier"

    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    min_orders: Mapped[int] = mapped_column(Integer, default=0)
    min_spend_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount(), nullable=True)
    min_spend_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    benefits: Mapped[list[str]] = mapped_column(JSON)
    #: the thresholds count the orders (and spend) of this many days up to the day the tier is applied
    window_days: Mapped[int] = mapped_column(Integer, default=365, server_default="365")

    @property
    def min_spend(self) -> dict[str, Any] | None:
        return money_or_none(self.min_spend_amount, self.min_spend_currency)


class ServiceChannel(PlanChild, Base):
    """A service-marketing channel: core (site message, email, WhatsApp, Wangwang) or auxiliary."""

    __tablename__ = "service_channels"
    __label__ = "service channel"

    kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
