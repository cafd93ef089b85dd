from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.campaigns.base import Base
from shared.db import IdMixin, OrgMixin, ScaledDecimal, TimestampMixin, UTCDateTime, VersionedMixin
from shared.money import MoneyAmount

#: conversions are counted as the platforms count them: fractions (data-driven attribution) to 6 places
CONVERSION_SCALE = 6
#: a metric row's money to 6 places: the ad platforms' micros (Google Ads' cost_micros) kept exactly
METRIC_MONEY_SCALE = 6


class Campaign(IdMixin, OrgMixin, TimestampMixin, VersionedMixin, Base):
    """One piece of combat-layer work bound to an SBU owned by plans. Compare-and-set: of two writers holding
    one ETag only the first changes it (the second gets 412, or 409 without If-Match)."""

    __tablename__ = "campaigns"
    __label__ = "campaign"
    __table_args__ = (UniqueConstraint("org_id", "utm_campaign"),)

    sbu_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    budget_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    currency: Mapped[str] = mapped_column(String(3))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    event_node_id: Mapped[str | None] = mapped_column(ForeignKey("event_nodes.id"), index=True, nullable=True)
    utm_campaign: Mapped[str | None] = mapped_column(String(100), nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the ad and email platforms' ids of this campaign: [{platform, account_id, campaign_id, …}] (the lookup and
    #: its uniqueness are kept in :class:`ExternalRef`)
    external_refs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    status: Mapped[str] = mapped_column(String(16), default="draft")


class MetricRow(IdMixin, OrgMixin, TimestampMixin, Base):
    """A campaign's figures for one day and one variant ('' when the campaign runs no variants)."""

    __tablename__ = "metric_rows"
    __table_args__ = (UniqueConstraint("campaign_id", "date", "variant"),)

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    variant: Mapped[str] = mapped_column(String(64), default="")
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[Decimal] = mapped_column(ScaledDecimal(METRIC_MONEY_SCALE))
    conversions: Mapped[Decimal] = mapped_column(ScaledDecimal(CONVERSION_SCALE), default=Decimal(0))
    revenue: Mapped[Decimal] = mapped_column(ScaledDecimal(METRIC_MONEY_SCALE))
    sends: Mapped[int] = mapped_column(BigInteger, default=0)
    opens: Mapped[int] = mapped_column(BigInteger, default=0)
    unsubscribes: Mapped[int] = mapped_column(BigInteger, default=0)


class AttributedOrder(IdMixin, OrgMixin, TimestampMixin, Base):
    """A released order whose utm_campaign named a campaign (from compliance's order.released)."""

    __tablename__ = "attributed_orders"
    __table_args__ = (UniqueConstraint("org_id", "order_key"),)

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    order_key: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    currency: Mapped[str] = mapped_column(String(3))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: what customs approved to come back (``order.returned``), deducted from the released revenue
    returned_amount: Mapped[Decimal] = mapped_column(MoneyAmount(), default=Decimal(0), server_default="0")


class ExternalRef(IdMixin, OrgMixin, TimestampMixin, Base):
    """One platform campaign id naming one campaign of the organisation: an imported report's row finds its
    campaign here, and no two campaigns can claim the same platform campaign."""

    __tablename__ = "campaign_external_refs"
    __table_args__ = (UniqueConstraint("org_id", "platform", "external_id"),)

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
