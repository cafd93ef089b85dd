from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin, VersionedMixin


class ExchangeRate(IdMixin, OrgMixin, TimestampMixin, VersionedMixin, Base):
    """What one unit of a currency was worth in CNY on a day, by the source the seller names (e.g. the PBOC
    central parity): the rate an export's value is converted at to decide how it is declared (orders/routing.py)."""

    __tablename__ = "exchange_rates"
    __label__ = "exchange rate"
    __table_args__ = (UniqueConstraint("org_id", "currency", "day"),)

    #: ISO 4217, never CNY (a CNY amount is its own value)
    currency: Mapped[str] = mapped_column(String(3))
    day: Mapped[date] = mapped_column(Date)
    #: CNY for one unit of ``currency``
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    #: where the rate comes from, named wherever it is used
    source: Mapped[str] = mapped_column(String(100))
