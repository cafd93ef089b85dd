"""The raw deliveries of the platforms (Shopify, WooCommerce), stored before anything is made of them. Intake
writes them; the orders' exception list and a customer's erasure read them too, so the model sits below all
three rather than inside ``intake/``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance.base import Base
from shared.db import IdMixin, OrgMixin, UTCDateTime, utcnow

#: outcomes listed in the exceptions: a body XBM could not read, one naming an order it does not know (yet), or
#: another platform order under a number already taken
UNREADABLE = ("unreadable", "unknown_order", "conflict", "waiting")


class PlatformDelivery(IdMixin, OrgMixin, Base):
    """One verified delivery, its exact bytes and what came of it. The sender's de-duplication key is unique
    per source, so a redelivery is stored once; the body is kept so that nothing a platform acknowledged as
    delivered is ever lost, even when XBM cannot read it yet."""

    __tablename__ = "platform_deliveries"
    __table_args__ = (
        UniqueConstraint("source_id", "dedupe_key"),
        Index("ix_platform_deliveries_source_id_platform_id", "source_id", "platform_id"),
        Index("ix_platform_deliveries_org_id_outcome", "org_id", "outcome"),
    )

    source_id: Mapped[str] = mapped_column(String(36))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the platform's own id of the order (a delete or a refund names only that)
    platform_id: Mapped[str | None] = mapped_column(String(40))
    ebp_code: Mapped[str | None] = mapped_column(String(18))
    order_no: Mapped[str | None] = mapped_column(String(60))
    #: stored | incomplete | updated | stale | cancelled | refund | ignored | unreadable | waiting (a refund or
    #: delete kept until its order arrives) | conflict (another platform order under a number already taken)
    outcome: Mapped[str] = mapped_column(String(24), default="stored")
    detail: Mapped[str | None] = mapped_column(String(500))
