"""Records of an export list's life after release: its return (CEB213 / CEB215 and customs' CEB214 / CEB216),
the master bill it left on (CEB607, answered by CEB608), and what customs said of the goods' arrival at and
departure from the supervised site (CEB508 / CEB510, answering the site's CEB507 / CEB509)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin, UTCDateTime, utcnow


class ExportReturn(IdMixin, OrgMixin, TimestampMixin, Base):
    """A return of a released export list: the application (CEB213, answered by CEB214) and the tally of the
    goods that came back (CEB215, answered by CEB216)."""

    __tablename__ = "export_returns"
    __label__ = "export return"
    __table_args__ = (UniqueConstraint("org_id", "cop_no"), Index("ix_export_returns_order_id", "order_id"))

    order_id: Mapped[str] = mapped_column(String(36))
    #: the application's coElNo (CEB213); CEB214 names it
    cop_no: Mapped[str] = mapped_column(String(20))
    #: requested | accepted (customs took it, not decided) | approved (800 released) | refused
    state: Mapped[str] = mapped_column(String(12), default="requested")
    reason: Mapped[str] = mapped_column(String(500))
    lines: Mapped[list[Any]] = mapped_column(JSON)
    #: how the goods come back: logistics company and waybill, bill, transport, port, country, trade mode
    transport: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: customs' latest answer to the application: its status and note (returnInfo)
    customs_status: Mapped[int | None] = mapped_column(Integer)
    customs_note: Mapped[str | None] = mapped_column(String(1000))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the tally (CEB215): its coElNo, the site's operator and where the goods lie; customs' answer (CEB216)
    tally_cop_no: Mapped[str | None] = mapped_column(String(20))
    tally: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: none | declared | accepted (399) | refused
    tally_state: Mapped[str] = mapped_column(String(12), default="none", server_default="none")
    tally_note: Mapped[str | None] = mapped_column(String(1000))


class MasterBill(IdMixin, OrgMixin, Base):
    """A master bill and voyage export lists left on (CEB607); its id is the CEB607 message's."""

    __tablename__ = "master_bills"
    __label__ = "master bill"
    __table_args__ = (UniqueConstraint("org_id", "cop_no"),)

    cop_no: Mapped[str] = mapped_column(String(20))
    bill_no: Mapped[str] = mapped_column(String(37))
    traf_name: Mapped[str] = mapped_column(String(100))
    voyage_no: Mapped[str] = mapped_column(String(32))
    logistics_code: Mapped[str] = mapped_column(String(18))
    #: the lists it carries: ``[{declaration_id, order_id, invt_no, logistics_no}]``
    lists: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MasterBillOrder(IdMixin, OrgMixin, Base):
    """Which orders a master bill carries (so an order's view finds the answers to its bill)."""

    __tablename__ = "master_bill_orders"
    __table_args__ = (
        UniqueConstraint("master_bill_id", "order_id"),
        Index("ix_master_bill_orders_order_id", "order_id"),
    )

    master_bill_id: Mapped[str] = mapped_column(String(36))
    order_id: Mapped[str] = mapped_column(String(36))


class LogisticsManifest(IdMixin, OrgMixin, Base):
    """The waybills a supervised site's arrival (CEB507) or departure (CEB509) listed, by its copNo: customs'
    answers (CEB508 / CEB510) name only that copNo."""

    __tablename__ = "logistics_manifests"
    __table_args__ = (UniqueConstraint("org_id", "kind", "logistics_code", "cop_no"),)

    kind: Mapped[str] = mapped_column(String(10))  # arrival | departure
    cop_no: Mapped[str] = mapped_column(String(30))
    logistics_code: Mapped[str] = mapped_column(String(18))
    bill_no: Mapped[str | None] = mapped_column(String(37))
    logistics_nos: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LogisticsEvent(IdMixin, OrgMixin, Base):
    """Customs' answer about goods on the move: an arrival (CEB508) or departure (CEB510) for an order, or a
    master bill's answer (CEB608). One whose order is not known yet waits with ``order_id`` null."""

    __tablename__ = "logistics_events"
    __table_args__ = (
        Index("ix_logistics_events_order_id", "order_id"),
        Index("ix_logistics_events_master_bill_id", "master_bill_id"),
        Index("ix_logistics_events_org_id_cop_no", "org_id", "cop_no"),
    )

    order_id: Mapped[str | None] = mapped_column(String(36))
    master_bill_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(12))  # arrival | departure | master_bill
    cop_no: Mapped[str] = mapped_column(String(30))
    logistics_code: Mapped[str | None] = mapped_column(String(18))
    status: Mapped[int] = mapped_column(Integer)
    return_time: Mapped[str] = mapped_column(String(17))
    #: customs' time as ISO 8601 (China time)
    time: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
