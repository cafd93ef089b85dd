from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance.base import Base
from services.compliance.setup import licences
from shared.db import IdMixin, OrgMixin, TimestampMixin, UTCDateTime, VersionedMixin


class CustomsProfile(IdMixin, OrgMixin, TimestampMixin, VersionedMixin, Base):
    """The seller's customs registrations, used in every declaration (one per organisation)."""

    __tablename__ = "customs_profiles"
    __label__ = "customs profile"
    #: a DxpMsg id is one e-port user's: receipts addressed to it go to the one organisation whose profile names it
    __table_args__ = (UniqueConstraint("org_id"), UniqueConstraint("dxp_id"))

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
    #: after a rotation the previous secret keeps verifying until ``previous_secret_until`` (deliveries in
    #: flight, and the time it takes to paste the new one into the platform)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(String(400))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def webhook_path(self) -> str:
        return f"/v1/compliance/webhooks/{self.id}"
