from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKeyConstraint, Index, String, UniqueConstraint, event, false, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.compliance.base import Base
from services.compliance.setup import licences
from shared.db import IdMixin, OrgMixin, TimestampMixin, UTCDateTime, VersionedMixin, insert_for


class DxpOwner(Base):
    """Which organisation a DxpMsg id belongs to. Customs addresses receipts to the id, and XBM hands them to the
    one organisation that owns it: the primary key holds an id to one organisation, however many of its
    profiles name it (each profile's (dxp_id, org_id) must be a row here)."""

    __tablename__ = "dxp_owners"
    __table_args__ = (UniqueConstraint("dxp_id", "org_id"),)

    dxp_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(36), index=True)


#: at most one default profile per organisation (the one the singular /customs-profile reads and writes)
ONE_DEFAULT = text("is_default")


class CustomsProfile(IdMixin, OrgMixin, TimestampMixin, VersionedMixin, Base):
    """One of the seller's customs registrations: a trade mode declared at one customs office and port, with its
    agent, bonded account and e-port id. An organisation has one per way it trades (e.g. 1210 imports through a
    bonded zone, 9610 exports through another office); each order is declared under one of them."""

    __tablename__ = "customs_profiles"
    __label__ = "customs profile"
    __table_args__ = (
        UniqueConstraint(
            "org_id", "direction", "trade_mode", "customs_code", "port_code", name="uq_customs_profiles_mode"
        ),
        #: a DxpMsg id is one organisation's (see DxpOwner)
        ForeignKeyConstraint(["dxp_id", "org_id"], ["dxp_owners.dxp_id", "dxp_owners.org_id"]),
        Index("ix_customs_profiles_one_default", "org_id", unique=True, sqlite_where=ONE_DEFAULT,
              postgresql_where=ONE_DEFAULT),
    )  # fmt: skip

    name: Mapped[str] = mapped_column(String(100), server_default="Default")
    #: import or export: the orders this profile declares (9710 and 9810 are export modes)
    direction: Mapped[str] = mapped_column(String(6), server_default="import")
    #: the organisation's default: declares the orders no other profile is for
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ebc_code: Mapped[str] = mapped_column(String(18))
    ebc_name: Mapped[str] = mapped_column(String(100))
    agent_code: Mapped[str] = mapped_column(String(18))
    agent_name: Mapped[str] = mapped_column(String(100))
    assure_code: Mapped[str] = mapped_column(String(30))
    customs_code: Mapped[str] = mapped_column(String(4))
    port_code: Mapped[str] = mapped_column(String(4))
    trade_mode: Mapped[str] = mapped_column(String(4))
    cop_code: Mapped[str] = mapped_column(String(18))
    cop_name: Mapped[str] = mapped_column(String(100))
    dxp_id: Mapped[str] = mapped_column(String(30))
    ems_no: Mapped[str | None] = mapped_column(String(30))
    area_code: Mapped[str | None] = mapped_column(String(18))
    traf_mode: Mapped[str] = mapped_column(String(1), default="5")
    #: A: the inventory list itself is the export record; B: a month's lists are summarised (CEB701)
    statistics_flag: Mapped[str] = mapped_column(String(1), default="A", server_default="A")
    area_name: Mapped[str | None] = mapped_column(String(100))
    #: the warehouse enterprise inside the special area (1210 export: iacCode, iacName)
    iac_code: Mapped[str | None] = mapped_column(String(18))
    iac_name: Mapped[str | None] = mapped_column(String(100))
    #: the producer of the goods (export list ownerCode, ownerName); no code: "NO", as the specification asks
    owner_code: Mapped[str | None] = mapped_column(String(18))
    owner_name: Mapped[str | None] = mapped_column(String(100))


class PaymentInstitution(IdMixin, OrgMixin, TimestampMixin, VersionedMixin, Base):
    """A payment provider as the seller registered it: PBOC licence, business scopes, status."""

    __tablename__ = "payment_institutions"
    __label__ = "payment institution"
    __table_args__ = (UniqueConstraint("org_id", "pay_code"),)

    pay_code: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    licence_no: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    #: ``bank`` (its banking licence covers payment) or ``non_bank`` (a PBOC-licensed payment institution)
    kind: Mapped[str] = mapped_column(String(8), default=licences.NON_BANK, server_default=licences.NON_BANK)

    @property
    def covers_cross_border(self) -> bool:
        """Active, and a bank or licensed for a scope that carries internet payment (setup/licences.py)."""
        return self.status == "active" and licences.covering(self.kind, self.scopes)[0]


class Source(IdMixin, OrgMixin, TimestampMixin, VersionedMixin, Base):
    """A sender of documents: its signing scheme (kind), what it may send (role) and its codes.
    The secret is kept encrypted (not hashed): verifying an HMAC needs it."""

    __tablename__ = "sources"
    __label__ = "source"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    ebp_code: Mapped[str | None] = mapped_column(String(18))
    ebp_name: Mapped[str | None] = mapped_column(String(100))
    ebc_code: Mapped[str | None] = mapped_column(String(18))
    pay_code: Mapped[str | None] = mapped_column(String(18))
    logistics_code: Mapped[str | None] = mapped_column(String(18))
    logistics_name: Mapped[str | None] = mapped_column(String(100))
    secret_encrypted: Mapped[str] = mapped_column(String(400))
    #: the orders this source sends are imports or exports (None: the order says, else import)
    trade_direction: Mapped[str | None] = mapped_column(String(6))
    #: the customs profile this source's orders are declared under (None: the order's mode chooses)
    customs_profile_id: Mapped[str | None] = mapped_column(String(36))
    #: after a rotation the previous secret keeps verifying until ``previous_secret_until`` (deliveries in
    #: flight, and the time it takes to paste the new one into the platform)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(String(400))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def webhook_path(self) -> str:
        return f"/v1/compliance/webhooks/{self.id}"


@event.listens_for(Session, "before_flush")
def _own_dxp_ids(session: Session, _context: Any, _instances: Any) -> None:
    """Before a profile is written, its DxpMsg id is recorded as its organisation's, unless it already belongs to
    one: then a profile of another organisation naming it fails the foreign key (IntegrityError), whatever wrote
    it — the API answers 409 (setup/profiles.py), and two organisations claiming one id at once cannot both win."""
    claimed = {(p.dxp_id, p.org_id) for p in (*session.new, *session.dirty) if isinstance(p, CustomsProfile)}
    for dxp_id, org_id in claimed:
        if dxp_id and org_id:
            insert = insert_for(session.get_bind().dialect.name, DxpOwner)
            session.execute(insert.values(dxp_id=dxp_id, org_id=org_id).on_conflict_do_nothing())
