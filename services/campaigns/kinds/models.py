from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.campaigns.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin


class CampaignKind(IdMixin, OrgMixin, TimestampMixin, Base):
    """A kind of campaign an organisation added beside the built-ins, with the JSON Schema of its settings."""

    __tablename__ = "campaign_kinds"
    __label__ = "campaign kind"
    __table_args__ = (UniqueConstraint("org_id", "key"),)

    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    settings_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
