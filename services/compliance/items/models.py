from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Numeric, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance.base import Base
from shared.db import IdMixin, OrgMixin, TimestampMixin, VersionedMixin


class ItemRecord(IdMixin, OrgMixin, TimestampMixin, VersionedMixin, Base):
    """An item record (商品备案) by SKU: what customs knows the goods as, and their tax rates."""

    __tablename__ = "item_records"
    __label__ = "item record"
    __table_args__ = (UniqueConstraint("org_id", "item_no"),)

    #: the platform's SKU the record is for, as the orders carry it
    item_no: Mapped[str] = mapped_column(String(255))
    #: the customs item number the SKU declares under (itemNo: C..20 on the inventory list, C..30 on the order);
    #: none: the SKU itself, when it fits
    customs_item_no: Mapped[str | None] = mapped_column(String(20))
    gname: Mapped[str] = mapped_column(String(250))
    gmodel: Mapped[str] = mapped_column(String(250))
    hs_code: Mapped[str] = mapped_column(String(10))
    unit: Mapped[str] = mapped_column(String(3))
    unit1: Mapped[str] = mapped_column(String(3))
    qty1_per_unit: Mapped[Decimal] = mapped_column(Numeric(19, 5))
    origin_country: Mapped[str] = mapped_column(String(3))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    consumption_tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    #: import duty at the goods' rate: levied in full only on the single-item path above the ¥5,000 limit
    duty_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), default=Decimal(0), server_default="0")
    bar_code: Mapped[str | None] = mapped_column(String(50))
    #: the bonded or special area's account-book record number (账册备案料号): itemRecordNo on a 1210 list
    item_record_no: Mapped[str | None] = mapped_column(String(30))
    #: the goods' own weight in kg per declared unit, packing excluded: the list's netWeight is qty × this
    net_weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(19, 5))
    #: the goods need an export licence (许可证件): a B2B export of them is declared by customs declaration (报关单)
    licence_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the goods are subject to inspection (法检): likewise declared by customs declaration
    inspection_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
