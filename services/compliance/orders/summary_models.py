"""The monthly export summary (CEB701) as a record of its own, and the inventory lists it holds.

A summary's id is its CEB701 message's id (``customs_messages``): the message keeps the exact bytes sent, the
summary keeps what customs answered about them (CEB702, CEB792) and the numbers the VAT-rebate claim needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin


class Summary(IdMixin, OrgMixin, TimestampMixin, Base):
    """One month's summary application and customs' answers to it."""

    __tablename__ = "summaries"
    __label__ = "summary"
    __table_args__ = (
        UniqueConstraint("org_id", "cop_no"),
        Index("ix_summaries_org_id_guid", "org_id", "guid"),
        Index("ix_summaries_org_id_sum_no", "org_id", "sum_no"),
        # the summary list's keyset (oldest first)
        Index("ix_summaries_org_id_created_at_id", "org_id", "created_at", "id"),
    )

    month: Mapped[str] = mapped_column(String(7))
    guid: Mapped[str] = mapped_column(String(36))
    cop_no: Mapped[str] = mapped_column(String(30))
    #: declared (sent, no conclusion yet) | accepted (CEB702 399) | summarised (CEB792 came) | refused (CEB702
    #: 100, 4 or below 0: its lists may be summarised again)
    status: Mapped[str] = mapped_column(String(12), default="declared")
    inventories: Mapped[int] = mapped_column(Integer)
    #: customs' numbers: preNo and sumNo (CEB702), declSeqNo, entryId and the rest (CEB792)
    pre_no: Mapped[str | None] = mapped_column(String(20))
    sum_no: Mapped[str | None] = mapped_column(String(20))
    decl_seq_no: Mapped[str | None] = mapped_column(String(20))
    dec_tmp_no: Mapped[str | None] = mapped_column(String(20))
    dec_pre_no: Mapped[str | None] = mapped_column(String(20))
    entry_id: Mapped[str | None] = mapped_column(String(20))
    dec_state: Mapped[str | None] = mapped_column(String(3))
    #: CEB792's weights, as customs wrote them (decimal text, kilograms)
    gross_weight: Mapped[str | None] = mapped_column(String(30))
    net_weight: Mapped[str | None] = mapped_column(String(30))
    #: while refused: the receipt that refused it, ``{message, status, info, time}``
    refusal: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: customs' answers, oldest first: ``{message, status, info, time, return_time, receipt_id, dec_state}``
    receipts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: the returnTime of the latest answer that moved it
    customs_time: Mapped[str | None] = mapped_column(String(17))


class SummaryList(IdMixin, OrgMixin, Base):
    """One inventory list (and its order) a summary holds. ``active`` is true while the summary stands and null
    once customs refused it: a list is held by one standing summary at most (the unique key ignores nulls), and
    a refused summary's lists are free to be summarised again while it still shows them."""

    __tablename__ = "summary_lists"
    __table_args__ = (
        UniqueConstraint("org_id", "declaration_id", "active"),
        Index("ix_summary_lists_summary_id", "summary_id"),
        Index("ix_summary_lists_order_id", "order_id"),
    )

    summary_id: Mapped[str] = mapped_column(String(36))
    declaration_id: Mapped[str] = mapped_column(String(36))
    order_id: Mapped[str] = mapped_column(String(36))
    invt_no: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool | None] = mapped_column(Boolean)
