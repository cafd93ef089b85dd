"""What completing an incomplete order takes (``PATCH /v1/compliance/orders/{ebp_code}/{order_no}``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from services.compliance.orders.documents import (
    Address,
    Country,
    Currency,
    IdNumber,
    IdType,
    Key18,
    Key60,
    OrderItem,
    Phone,
    Text,
    Text60,
)
from shared.schemas import NonNegativeAmount, Schema, examples


class BuyerPatch(Schema):
    reg_no: Text60 | None = None
    """The buyer's account on the platform. Leave it out to keep the current value."""
    name: Text60 | None = None
    """The buyer's name as on their ID. Leave it out to keep the current value."""
    id_type: IdType | None = None
    """The ID type: `1` is a Chinese resident ID card. Leave it out to keep the current value."""
    id_number: IdNumber | None = None
    """The ID number (imports need it). Leave it out to keep the current value."""
    telephone: Phone | None = None
    """The buyer's phone. Leave it out to keep the current value."""
    verified: bool | None = None
    """True when the platform verified the buyer's identity. Leave it out to keep the current value."""


class ConsigneePatch(Schema):
    """A new ``address`` replaces the parts the platform gave (street, city…) unless they are given with it."""

    name: Text | None = None
    """Who receives the parcel. Leave it out to keep the current value."""
    telephone: Phone | None = None
    """Their phone. Leave it out to keep the current value."""
    address: Address | None = None
    """The delivery address. Leave it out to keep the current value."""
    country: Country | None = None
    """The delivery country (ISO 3166-1 alpha-2). Leave it out to keep the current value."""
    street: Address | None = None
    """A new street and number (the part of the address the comparison with the waybill reads). Leave it out to
    keep the current value."""
    city: Text | None = None
    """A new city. Leave it out to keep the current value."""


class OrderPatch(Schema):
    """The fields an incomplete order still needs (``missing`` in the order view); those given replace what the
    platform sent, nested objects field by field. Once nothing is missing, matching runs."""

    model_config = examples({"buyer": {"id_number": "110101199001010042"}})

    buyer: BuyerPatch | None = None
    """The buyer's fields to complete or correct."""
    consignee: ConsigneePatch | None = None
    """The consignee's fields to complete or correct."""
    trade_direction: Literal["import", "export"] | None = None
    """`import` or `export`. Leave it out to keep the current value."""
    destination_country: Country | None = None
    """The country an export goes to (ISO 3166-1 alpha-2). Leave it out to keep the current value."""
    currency: Currency | None = None
    """The order's currency (ISO 4217). Leave it out to keep the current value."""
    goods_value: NonNegativeAmount | None = None
    """The goods' value. Leave it out to keep the current value."""
    freight: NonNegativeAmount | None = None
    """The freight charged. Leave it out to keep the current value."""
    discount: NonNegativeAmount | None = None
    """The discount given. Leave it out to keep the current value."""
    tax_total: NonNegativeAmount | None = None
    """The tax collected. Leave it out to keep the current value."""
    actual_paid: NonNegativeAmount | None = None
    """What the buyer paid. Leave it out to keep the current value."""
    items: list[OrderItem] | None = Field(None, min_length=1, max_length=99, description="replaces every line")
    pay_code: Key18 | None = None
    """The payment institution's customs code. Leave it out to keep the current value."""
    pay_transaction_id: Key60 | None = None
    """The payment's transaction id. Leave it out to keep the current value."""
