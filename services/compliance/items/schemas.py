from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import DecimalStr, DecimalText, Out, Schema, examples

#: a record is kept by the platform's SKU as the orders carry it (up to the platforms' 255 characters)
SKU_PATH = r"^[^\x00-\x1f\x7f/]*\S[^\x00-\x1f\x7f/]*$"
ItemNo = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=SKU_PATH)]
#: what customs' messages take as itemNo: C..20 on the inventory list (and C..30 on the order)
CustomsItemNo = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.\-]+$")]
RecordNo = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_.\-]+$")]
NetWeight = Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=19, decimal_places=5), DecimalText()]
Rate = Annotated[Decimal, Field(ge=0, lt=1, max_digits=6, decimal_places=4), DecimalText()]


class ItemRecordIn(Schema):
    """The customs record of one SKU: name and model, HS code, units and tax rates."""

    model_config = examples(
        {
            "gname": "Wool scarf",
            "gmodel": "100% wool, 180x30cm, brand XBM",
            "hs_code": "6214200000",
            "unit": "011",
            "unit1": "011",
            "qty1_per_unit": "1",
            "origin_country": "303",
            "vat_rate": "0.13",
            "consumption_tax_rate": "0",
            "duty_rate": "0",
            "bar_code": "6901234567892",
            "net_weight_kg": "0.18",
            "licence_required": False,
            "inspection_required": False,
        }
    )

    gname: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    """The goods' name as declared, e.g. `羊毛围巾` / `Wool scarf`."""
    gmodel: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    """The specification customs asks for: brand, model, material, ingredients …"""
    hs_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")] = Field(description="10-digit customs code")
    unit: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] = Field(description="customs unit code, e.g. 011")
    unit1: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] = Field(description="first legal unit code")
    qty1_per_unit: Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=19, decimal_places=5), DecimalText()]
    """How many of the legal unit (`unit1`) one declared unit holds, e.g. 0.2 (kg per piece)."""
    origin_country: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] = Field(description="customs country code")
    vat_rate: Rate
    """The import VAT rate, from 0 to below 1 (0.13 is 13 %)."""
    consumption_tax_rate: Rate = Decimal("0")
    """The consumption tax rate, from 0 to below 1 (default 0)."""
    duty_rate: Rate = Field(Decimal("0"), description="import duty rate, levied in full above the ¥5,000 limit")
    bar_code: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^\S+$")] | None = None
    """The goods' bar code (EAN/UPC), if any."""
    customs_item_no: CustomsItemNo | None = Field(
        None,
        description="the customs item number this SKU declares under; needed when the SKU is longer than the 20 "
        "characters of the inventory list's itemNo (or holds other characters)",
    )
    item_record_no: RecordNo | None = Field(
        None,
        description="the bonded or special area's account-book record number (账册备案料号) the goods are kept "
        "under: each line's itemRecordNo on a 1210 list (bonded import, special-area export), which needs it",
    )
    net_weight_kg: NetWeight | None = Field(
        None,
        description="the goods' own weight in kg per declared unit, packing excluded: the inventory list's "
        "netWeight is the sum of qty × this. Needed to declare, unless the legal unit (unit1) is kg (035), "
        "when the legal quantity is the net weight",
    )
    licence_required: bool = False
    """The goods need an export licence or permit: a 9710/9810 export of them is declared by customs declaration
    (报关单) through a broker, not by the inventory list, whatever its value."""
    inspection_required: bool = False
    """The goods are subject to statutory inspection: likewise declared by customs declaration (报关单)."""


class ItemRecordOut(Out):
    item_no: str
    """The seller's item number (the SKU orders name)."""
    gname: str
    """The goods' name as declared."""
    gmodel: str
    """The specification declared."""
    hs_code: str
    """The 10-digit customs HS code."""
    unit: str
    """The declared unit's customs code, e.g. `011` (piece)."""
    unit1: str
    """The legal first unit's customs code, e.g. `035` (kg)."""
    qty1_per_unit: DecimalStr
    """Legal units per declared unit (decimal string)."""
    origin_country: str
    """The customs country code of origin."""
    vat_rate: DecimalStr
    """The import VAT rate (decimal string)."""
    consumption_tax_rate: DecimalStr
    """The consumption tax rate (decimal string)."""
    duty_rate: DecimalStr
    """The duty rate (decimal string)."""
    bar_code: str | None
    """The goods' bar code; null when none."""
    customs_item_no: str | None = None
    """The customs item number this SKU declares under; null when the SKU itself is used."""
    item_record_no: str | None = None
    """The account-book record number (1210 itemRecordNo); null when none."""
    net_weight_kg: DecimalStr | None = None
    """The net weight in kg per declared unit (decimal string); null when not given."""
    licence_required: bool = False
    """The goods need an export licence (a 9710/9810 export of them goes to a customs declaration)."""
    inspection_required: bool = False
    """The goods are subject to inspection (a 9710/9810 export of them goes to a customs declaration)."""
    updated_at: datetime
    """When the object last changed (RFC 3339, UTC)."""
