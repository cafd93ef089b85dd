"""What XBM sends to customs (each message once, signed and validated) and every receipt customs sent back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance.base import Base
from shared.db import IdMixin, OrgMixin, UTCDateTime, utcnow


class CustomsMessage(IdMixin, OrgMixin, Base):
    """One message to customs. Its body is built, validated and signed once and then kept (encrypted: an import
    list carries the buyer's ID number) so that what is written to the e-port is always the same bytes."""

    __tablename__ = "customs_messages"
    __label__ = "customs message"
    __table_args__ = (
        UniqueConstraint("org_id", "guid"),
        Index("ix_customs_messages_order_id", "order_id"),
        Index("ix_customs_messages_status", "status"),
        # the relay's due work: what is not out yet, by when it may be tried
        Index("ix_customs_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    order_id: Mapped[str | None] = mapped_column(String(36))
    declaration_id: Mapped[str | None] = mapped_column(String(36))
    return_id: Mapped[str | None] = mapped_column(String(36))
    #: a message over several lists (CEB701, CEB607): the customs profile it is sent under (a declaration's
    #: messages are sent under the declaration's)
    profile_id: Mapped[str | None] = mapped_column(String(36))
    message_type: Mapped[str] = mapped_column(String(8))
    guid: Mapped[str] = mapped_column(String(36))
    #: pending (to be built) | queued (built, validated, signed; to be written) | sent (in the outbox folder) |
    #: acknowledged (customs answered it) | failed (could not be built, signed or written: tried again with backoff)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    body_encrypted: Mapped[str | None] = mapped_column(Text)
    #: a withdrawal's reason, as the message will carry it
    reason: Mapped[str | None] = mapped_column(String(1000))
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    validated: Mapped[bool] = mapped_column(Boolean, default=False)
    file_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the appType the message carries: 1 new, 2 change (a declaration again after customs refused it)
    app_type: Mapped[str] = mapped_column(String(1), default="1", server_default="1")
    #: the declaration round the message belongs to (``Declaration.round``)
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # --- the outbox (orders/outbox.py): each message waits on its own, never in another's way ---
    #: when the relay may take it again: after a failure, its backoff; while a relay works on it, its lease.
    #: None: due now
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: failed attempts in a row (0 once it is out)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: why the last attempt did not put it out: signer, customs_number, setup, schema, envelope, outbox, error
    failure_cause: Mapped[str | None] = mapped_column(String(20))
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    #: since when it has been failing (or waiting) for that cause
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CustomsReceipt(IdMixin, OrgMixin, Base):
    """A receipt as customs sent it, kept whether or not it names an order of ours; ``fingerprint`` makes a
    repeat a no-op."""

    __tablename__ = "customs_receipts"
    __label__ = "customs receipt"
    __table_args__ = (UniqueConstraint("org_id", "fingerprint"), Index("ix_customs_receipts_order_id", "order_id"))

    message_type: Mapped[str] = mapped_column(String(8))
    status: Mapped[int] = mapped_column(Integer)
    return_time: Mapped[str] = mapped_column(String(17))
    info: Mapped[str] = mapped_column(String(500))
    keys: Mapped[dict[str, Any]] = mapped_column(JSON)
    order_id: Mapped[str | None] = mapped_column(String(36))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
