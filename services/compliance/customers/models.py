"""The register: one row per buyer (by a keyed hash, never the identity itself) and one per counted order;
the membership tiers plans announces; the organisations whose summary is due to be announced."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance.base import Base
from shared.db import IdMixin, OrgMixin, UTCDateTime, utcnow
from shared.money import MoneyAmount


class Customer(IdMixin, OrgMixin, Base):
    """A buyer as the seller knows them. ``customer_key`` is a keyed hash: the ID number's lookup hash for an
    import buyer; for an export buyer the hash of the normalised email (else the E.164 phone) with the country.
    Only an export buyer's contact is kept, encrypted, for remarketing audiences."""

    __tablename__ = "customers"
    __label__ = "customer"
    __table_args__ = (UniqueConstraint("org_id", "customer_key"),)

    customer_key: Mapped[str] = mapped_column(String(64))
    trade_direction: Mapped[str] = mapped_column(String(6))
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    email_encrypted: Mapped[str | None] = mapped_column(String(600), nullable=True)
    phone_encrypted: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerOrder(IdMixin, OrgMixin, Base):
    """An order of a customer, noted when it arrives; it counts from its release (``released_at`` set) until a
    declared return takes it back out (the row is removed)."""

    __tablename__ = "customer_orders"
    __table_args__ = (
        UniqueConstraint("order_id"),
        # the summary reads one window of one organisation: its cost follows the window, not the history
        Index("ix_customer_orders_org_id_released_at", "org_id", "released_at"),
        # each customer's first order: on PostgreSQL an index-only probe, the filters carried in the index
        Index(
            "ix_customer_orders_customer_id_released_at",
            "customer_id",
            "released_at",
            postgresql_include=["org_id", "trade_direction", "ebp_code"],
        ),
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(String(36))
    #: the platform the order came from (a platform source is known by its ebp_code)
    ebp_code: Mapped[str] = mapped_column(String(18))
    trade_direction: Mapped[str] = mapped_column(String(6))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Tier(OrgMixin, Base):
    """A membership tier of one of the organisation's plans, as plans last announced it."""

    __tablename__ = "membership_tiers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    min_orders: Mapped[int] = mapped_column(Integer, default=0)
    min_spend_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount(), nullable=True)
    min_spend_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    window_days: Mapped[int] = mapped_column(Integer, default=365)
    #: when plans changed it: a late event about an older version changes nothing
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class SummaryMark(Base):
    """An organisation whose customer summary changed since it was last announced (or was announced a day ago)."""

    __tablename__ = "customer_summary_marks"

    org_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Lifecycle(Base):
    """An organisation's lifecycle windows in days (RULES: new 30, active 90, at risk up to 180, then lapsed)."""

    __tablename__ = "customer_lifecycles"

    org_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    new_days: Mapped[int] = mapped_column(Integer, default=30)
    active_days: Mapped[int] = mapped_column(Integer, default=90)
    at_risk_days: Mapped[int] = mapped_column(Integer, default=180)


class Erasure(IdMixin, OrgMixin, Base):
    """One erasure of personal data (docs/personal-data.md): who asked, when, and what was erased — counts and
    XBM's own order ids, never the person (no name, identifier, email or phone is recorded)."""

    __tablename__ = "erasures"
    __label__ = "erasure"
    __table_args__ = (Index("ix_erasures_org_id_erased_at", "org_id", "erased_at"),)

    #: customer (a buyer's data) | shop (everything a platform source brought)
    scope: Mapped[str] = mapped_column(String(12))
    #: ``admin:<key or user>`` or ``shopify:customers/redact`` / ``shopify:shop/redact``
    requested_by: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: how many of each were erased or masked: orders, masked_orders, payments, waybills, deliveries, customers,
    #: messages
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    #: XBM's ids of the orders concerned
    order_ids: Mapped[list[str]] = mapped_column(JSON)
