from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.campaigns.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin


class CampaignReview(IdMixin, OrgMixin, TimestampMixin, Base):
    """A PDCA or DR review of a campaign, with the performance it judged frozen beside it."""

    __tablename__ = "campaign_reviews"
    __label__ = "review"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    loop: Mapped[str] = mapped_column(String(8))
    phase: Mapped[str] = mapped_column(String(16))
    findings: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
