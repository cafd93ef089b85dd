from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from services.campaigns.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin, UTCDateTime


class Experiment(IdMixin, OrgMixin, TimestampMixin, Base):
    """An A/B test on a campaign; the first variant is the control."""

    __tablename__ = "experiments"
    __label__ = "experiment"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(32))
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    alpha: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    method: Mapped[str] = mapped_column(String(16))
    min_sample: Mapped[int] = mapped_column(Integer)
    #: the last final decision reached (winner, no_winner, srm), None while data is insufficient
    decision: Mapped[str | None] = mapped_column(String(32), nullable=True)
    winner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
