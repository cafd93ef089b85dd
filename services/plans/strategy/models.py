from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.plans.base import Base
from services.plans.plan_child import PlanChild


class EnvironmentFactor(PlanChild, Base):
    __tablename__ = "environment_factors"
    __label__ = "environment factor"

    scope: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    impact: Mapped[int] = mapped_column(Integer)


class SwotItem(PlanChild, Base):
    __tablename__ = "swot_items"
    __label__ = "SWOT item"

    quadrant: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    factor_id: Mapped[str | None] = mapped_column(
        ForeignKey("environment_factors.id", ondelete="SET NULL"), nullable=True, index=True
    )


class Segment(PlanChild, Base):
    __tablename__ = "segments"
    __label__ = "segment"

    name: Mapped[str] = mapped_column(String(200))
    countries: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    size_estimate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    growth_rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 4), nullable=True)
    attractiveness: Mapped[int] = mapped_column(Integer)
    fit: Mapped[int] = mapped_column(Integer)
    targeted: Mapped[bool] = mapped_column(default=False)


class Positioning(PlanChild, Base):
    """The brand positioning of a plan (one per plan), aimed at one targeted segment."""

    __tablename__ = "positionings"
    __label__ = "positioning"

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), unique=True)
    target_segment_id: Mapped[str] = mapped_column(ForeignKey("segments.id", ondelete="RESTRICT"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    frame_of_reference: Mapped[str] = mapped_column(Text, default="")
    points_of_difference: Mapped[list[str]] = mapped_column(JSON)
    reasons_to_believe: Mapped[list[str]] = mapped_column(JSON)
