from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.plans.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin, UTCDateTime


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"
    __label__ = "organisation"

    name: Mapped[str] = mapped_column(String(200))


class ApiKey(IdMixin, OrgMixin, TimestampMixin, Base):
    __tablename__ = "api_keys"
    __label__ = "api key"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    #: SHA-256 of the key; the key itself is shown once and never stored
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    #: indexed: every service fetches the recently revoked keys every few seconds
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
