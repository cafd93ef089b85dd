from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import DecimalStr, DecimalText, Out, Schema

#: a record is kept by the platform's SKU as the orders carry it (up to the platforms' 255 characters)
SKU_PATH = r"^[^\x00-\x1f\x7f/]*\S[^\x00-\x1f\x7f/]*$"
ItemNo = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=SKU_PATH)]
#: what customs' messages take as itemNo: C..20 on the inventory list (and C..30 on the order)
CustomsItemNo = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.\-]+$")]
Rate = Annotated[Decimal, Field(ge=0, lt=1, max_digits=6, decimal_places=4), DecimalText()]


class ItemRecordIn(Schema):
    """The customs record of one SKU: name and model, HS code, units and tax rates."""

    gname: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    gmodel: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    hs_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")] = Field(description="10-digit customs code")
    unit: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] = Field(description="customs unit code, e.g. 011")
    unit1: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] = Field(description="first legal unit code")
    qty1_per_unit: Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=19, decimal_places=5), DecimalText()]
    origin_country: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] = Field(description="customs country code")
    vat_rate: Rate
    consumption_tax_rate: Rate = Decimal("0")
    duty_rate: Rate = Field(Decimal("0"), description="import duty rate, levied in full above the ¥5,000 limit")
    bar_code: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^\S+$")] | None = None
    customs_item_no: CustomsItemNo | None = Field(
        None,
        description="the customs item number this SKU declares under; needed when the SKU is longer than the 20 "
        "characters of the inventory list's itemNo (or holds other characters)",
    )


class ItemRecordOut(Out):
    item_no: str
    gname: str
    gmodel: str
    hs_code: str
    unit: str
    unit1: str
    qty1_per_unit: DecimalStr
    origin_country: str
    vat_rate: DecimalStr
    consumption_tax_rate: DecimalStr
    duty_rate: DecimalStr
    bar_code: str | None
    customs_item_no: str | None = None
    updated_at: datetime
