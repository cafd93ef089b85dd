"""The base of every row that belongs to one plan."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import IdMixin, OrgMixin, TimestampMixin, VersionedMixin


class PlanChild(IdMixin, OrgMixin, TimestampMixin, VersionedMixin):
    """A row that belongs to one plan (and goes when a draft plan is deleted); its writes are compare-and-set
    (:class:`~shared.db.VersionedMixin`), so of two writers holding one ETag only the first wins."""

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
