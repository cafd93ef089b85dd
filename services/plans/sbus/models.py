from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.plans.base import Base
from services.plans.plan_child import PlanChild
from shared.db import OrgMixin, TimestampMixin, UTCDateTime
from shared.money import MoneyAmount, money_or_none

LIVE = ("draft", "active")
_LIVE_ONLY = text("status IN ('draft', 'active')")


class Sbu(PlanChild, Base):
    """A strategic business unit = customer × channel × product: one business model with its own accounting.
    Changing any of the three makes a new SBU (``derive``), never an edit of this one. Its ``version`` (from
    :class:`PlanChild`) is bumped by every UPDATE, which carries the version it read in its WHERE clause: of two
    writers that read the same SBU, the second changes nothing and is refused (If-Match → 412, a second retire →
    409)."""

    __tablename__ = "sbus"
    __label__ = "sbu"
    __table_args__ = (
        # at most one live SBU per triple, held by the database itself (races included)
        Index(
            "uq_sbus_live_triple",
            "customer_id",
            "channel_id",
            "product_id",
            unique=True,
            sqlite_where=_LIVE_ONLY,
            postgresql_where=_LIVE_ONLY,
        ),
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"), index=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    need: Mapped[str] = mapped_column(Text)
    demand: Mapped[str] = mapped_column(String(10))
    budget_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    budget_currency: Mapped[str] = mapped_column(String(3))
    revenue_target_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    revenue_target_currency: Mapped[str] = mapped_column(String(3))
    owner: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    derived_from: Mapped[str | None] = mapped_column(ForeignKey("sbus.id", ondelete="SET NULL"), nullable=True)
    retired_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def budget(self) -> dict[str, Any] | None:
        return money_or_none(self.budget_amount, self.budget_currency)

    @property
    def revenue_target(self) -> dict[str, Any] | None:
        return money_or_none(self.revenue_target_amount, self.revenue_target_currency)


class SbuPerformance(OrgMixin, TimestampMixin, Base):
    """Read model of an SBU's spend and revenue as campaigns computed them (``sbu.performance_changed``)."""

    __tablename__ = "sbu_performance"
    __label__ = "sbu performance"

    sbu_id: Mapped[str] = mapped_column(ForeignKey("sbus.id", ondelete="CASCADE"), primary_key=True)
    spend_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    revenue_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    #: revenue of customs-released orders naming the SBU's campaigns, returns deducted (None: not announced yet)
    released_revenue_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount(), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    #: when campaigns computed these figures; older figures never replace newer ones
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
