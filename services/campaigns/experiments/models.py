from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, Numeric, String
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
    #: exposures per arm before any decision
    min_sample: Mapped[int] = mapped_column(Integer)
    #: successes of the metric per arm before any decision
    min_conversions: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    #: the Gaussian prior on the relative lift of the Bayesian analysis
    prior_mean: Mapped[Decimal] = mapped_column(Numeric(8, 4), default=Decimal("0"), server_default="0")
    prior_sd: Mapped[Decimal] = mapped_column(Numeric(8, 4), default=Decimal("0.3"), server_default="0.3")
    #: N* of the sequential test
    sequential_tuning: Mapped[int] = mapped_column(BigInteger, default=5000, server_default="5000")
    #: the largest expected loss (metric units) a Bayesian winner may carry
    loss_threshold: Mapped[Decimal] = mapped_column(Numeric(10, 8), default=Decimal("0.001"), server_default="0.001")
    #: the last decision recorded by a writer (winner, no_winner, srm), None until one is recorded
    decision: Mapped[str | None] = mapped_column(String(32), nullable=True)
    winner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: who recorded it (the token's subject) and the counts per arm the analysis saw
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_counts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)

    @property
    def prior(self) -> dict[str, float]:
        return {"mean": float(self.prior_mean), "sd": float(self.prior_sd)}
