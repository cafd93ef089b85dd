from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from services.plans.base import Base
from shared.db import UTCDateTime


class CustomerStatus(Base):
    """The latest ``customers.summary_changed`` of an organisation (an older one never replaces it)."""

    __tablename__ = "customer_status"

    org_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    id: Mapped[str] = mapped_column(String(36))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    customer_count: Mapped[int] = mapped_column(Integer)
    repurchase_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)
    #: the summary as received: stages, new and returning customers, tiers with their plan
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
