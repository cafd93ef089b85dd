from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import DecimalStr, DecimalText, Out, Schema

ItemNo = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Rate = Annotated[Decimal, Field(ge=0, lt=1, max_digits=6, decimal_places=4), DecimalText()]


class ItemRecordIn(Schema):
    """The customs record of one SKU: name and model, HS code, units and tax rates."""

    gname: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    gmodel: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    hs_code: Annotated[str, StringConstraints(pattern=r"^\d{10}$")] = Field(description="10-digit customs code")
    unit: Annotated[str, StringConstraints(pattern=r"^\d{3}$")] = Field(description="customs unit code, e.g. 011")
    unit1: Annotated[str, StringConstraints(pattern=r"^\d{3}$")] = Field(description="first legal unit code")
    qty1_per_unit: Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=19, decimal_places=5), DecimalText()]
    origin_country: Annotated[str, StringConstraints(pattern=r"^\d{3}$")] = Field(description="customs country code")
    vat_rate: Rate
    consumption_tax_rate: Rate = Decimal("0")
    duty_rate: Rate = Field(Decimal("0"), description="import duty rate, levied in full above the ¥5,000 limit")
    bar_code: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^\S+$")] | None = None


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
    updated_at: datetime
