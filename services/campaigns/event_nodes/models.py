from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from services.campaigns.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin
from shared.money import MoneyAmount


class EventNode(IdMixin, OrgMixin, TimestampMixin, Base):
    """A platform sales event (11.11, Black Friday, Alibaba.com's September New Trade Festival) with a budget."""

    __tablename__ = "event_nodes"
    __label__ = "event node"

    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    budget_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    currency: Mapped[str] = mapped_column(String(3))
