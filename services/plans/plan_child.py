"""The base of every row that belongs to one plan."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import IdMixin, OrgMixin, TimestampMixin


class PlanChild(IdMixin, OrgMixin, TimestampMixin):
    """A row that belongs to one plan (and goes when a draft plan is deleted)."""

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
