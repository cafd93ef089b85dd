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
from shared.schemas import NonNegativeAmount, Schema


class BuyerPatch(Schema):
    reg_no: Text60 | None = None
    name: Text60 | None = None
    id_type: IdType | None = None
    id_number: IdNumber | None = None
    telephone: Phone | None = None
    verified: bool | None = None


class ConsigneePatch(Schema):
    """A new ``address`` replaces the parts the platform gave (street, city…) unless they are given with it."""

    name: Text | None = None
    telephone: Phone | None = None
    address: Address | None = None
    country: Country | None = None
    street: Address | None = None
    city: Text | None = None


class OrderPatch(Schema):
    """The fields an incomplete order still needs (``missing`` in the order view); those given replace what the
    platform sent, nested objects field by field. Once nothing is missing, matching runs."""

    buyer: BuyerPatch | None = None
    consignee: ConsigneePatch | None = None
    trade_direction: Literal["import", "export"] | None = None
    destination_country: Country | None = None
    currency: Currency | None = None
    goods_value: NonNegativeAmount | None = None
    freight: NonNegativeAmount | None = None
    discount: NonNegativeAmount | None = None
    tax_total: NonNegativeAmount | None = None
    actual_paid: NonNegativeAmount | None = None
    items: list[OrderItem] | None = Field(None, min_length=1, max_length=99, description="replaces every line")
    pay_code: Key18 | None = None
    pay_transaction_id: Key60 | None = None
