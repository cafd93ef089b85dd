from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.plans.base import Base
from services.plans.plan_child import PlanChild
from shared.money import MoneyAmount, money_or_none


class Customer(PlanChild, Base):
    """The "people": a customer group and its needs, each judged strong, weak or pseudo demand."""

    __tablename__ = "customers"
    __label__ = "customer"

    name: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[str | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class Channel(PlanChild, Base):
    """The "field": where the customer meets the goods."""

    __tablename__ = "channels"
    __label__ = "channel"

    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(20))
    business_model: Mapped[str] = mapped_column(String(3))
    countries: Mapped[list[str]] = mapped_column(JSON)


class Product(PlanChild, Base):
    """The "goods" and their pricing."""

    __tablename__ = "products"
    __label__ = "product"
    __table_args__ = (UniqueConstraint("plan_id", "sku"),)

    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    hs_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    unit_cost_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    unit_cost_currency: Mapped[str] = mapped_column(String(3))
    price_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    price_currency: Mapped[str] = mapped_column(String(3))
    price_ceiling_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount(), nullable=True)
    price_ceiling_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    pricing_note: Mapped[str] = mapped_column(Text, default="")

    @property
    def unit_cost(self) -> dict[str, Any] | None:
        return money_or_none(self.unit_cost_amount, self.unit_cost_currency)

    @property
    def price(self) -> dict[str, Any] | None:
        return money_or_none(self.price_amount, self.price_currency)

    @property
    def price_ceiling(self) -> dict[str, Any] | None:
        return money_or_none(self.price_ceiling_amount, self.price_ceiling_currency)
