from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.plans.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin, UTCDateTime, VersionedMixin, utcnow
from shared.money import MoneyAmount, money_or_none


class Plan(IdMixin, OrgMixin, TimestampMixin, VersionedMixin, Base):
    """One 13N1 marketing plan for a period: draft → active → archived."""

    __tablename__ = "plans"
    __label__ = "plan"
    __table_args__ = (UniqueConstraint("org_id", "key"),)

    name: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    base_currency: Mapped[str] = mapped_column(String(3))
    trade_direction: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    budget_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount(), nullable=True)
    budget_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    strategy_locked_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: readiness warns when the computed repurchase rate is below this (customer status from compliance)
    min_repurchase_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)
    #: the caller's name for the plan (``xbm plan import`` sends the file's), unique in the organisation
    key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: [{currency, rate, as_of, source}] to the base currency, as decimal and date strings (see planning/fx.py)
    fx_rates: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default="[]")

    @property
    def budget(self) -> dict[str, Any] | None:
        return money_or_none(self.budget_amount, self.budget_currency)


class AuditEntry(IdMixin, OrgMixin, Base):
    """One write on an active plan: who, when, what, the object before and after, and the reason given."""

    __tablename__ = "plan_audit"
    __label__ = "audit entry"

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(36))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    override: Mapped[bool] = mapped_column(default=False)
