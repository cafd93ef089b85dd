"""What a B2B export routed to a customs declaration (报关单) shows: why it is held, at what value and rate
(:class:`CustomsDeclarationOut`), the document a customs broker declares it from (:class:`BrokerDocument`), and
the body that records the broker's declaration (:class:`DeclaredIn`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import NOT_BLANK, DecimalStr, IsoDate, Out, Schema, Trimmed, examples


class RouteReason(Out):
    code: Literal["above_limit", "licence_required", "inspection_required", "no_rate"]
    """Why: `above_limit` (the goods' value in CNY is above ¥5,000), `licence_required` / `inspection_required`
    (an item's record says so), `no_rate` (no CNY rate of the order's currency for the day: its value is
    unknown)."""
    text: str
    """The same in words, naming the value and the rate (or the item)."""
    item_no: str | None = None
    """With `licence_required` / `inspection_required`: the item (SKU)."""


class RateOut(Out):
    currency: str
    """The order's currency (ISO 4217)."""
    rate: DecimalStr
    """CNY for one unit of it."""
    day: date
    """The day the rate is for (the day the order was routed, China time)."""
    source: str
    """Where the rate comes from, as the seller named it (e.g. `PBOC central parity`)."""


class CustomsDeclarationOut(Out):
    """How a 9710/9810 export is declared when the inventory list may not declare it."""

    status: Literal["held", "declared", "listed"]
    """`held` (waiting for a broker's customs declaration), `declared` (the broker declared it: see
    `entry_id`), `listed` (routed again and now within what the inventory list declares)."""
    reasons: list[RouteReason]
    """Why it goes to a customs declaration (empty once `listed`)."""
    goods_value: DecimalStr
    """The goods' value in the order's currency (the order's `goods_value`)."""
    currency: str
    """The order's currency."""
    value_cny: DecimalStr | None
    """The goods' value in CNY at `rate`; null without a rate for the day."""
    rate: RateOut | None
    """The rate the value was converted at; null for a CNY order or without a rate."""
    rate_day: date
    """The day whose rate applies."""
    entry_id: str | None
    """The customs declaration's 18-digit entry number (报关单号), once declared."""
    declared_on: date | None
    """The day the customs declaration was declared."""
    note: str | None
    """The seller's note on it."""
    updated_at: datetime
    """When it last changed."""


class Party(Out):
    code: str | None
    """Customs registration code."""
    name: str | None
    """Registered name."""


class Coded(Out):
    iso: str | None
    """ISO code (currency ISO 4217, country ISO 3166 alpha-2)."""
    customs: str | None
    """The customs (JGS-20) code."""


class BrokerItem(Out):
    gnum: int
    """Line number, from 1."""
    item_no: str
    """The seller's SKU."""
    hs_code: str
    """商品编号: the 10-digit HS code."""
    name: str
    """商品名称: the goods' name as recorded."""
    spec: str
    """规格型号: the specification recorded (brand, model, material …)."""
    quantity: DecimalStr
    """成交数量, in `unit`."""
    unit: str
    """成交计量单位 (customs unit code)."""
    legal_quantity: DecimalStr
    """法定数量: the quantity in `legal_unit` (quantity × the record's legal units per unit)."""
    legal_unit: str
    """法定计量单位 (customs unit code)."""
    unit_price: DecimalStr
    """单价, in the order's currency."""
    total: DecimalStr
    """总价, in the order's currency."""
    total_cny: DecimalStr | None
    """The line's total in CNY at the named rate; null without one."""
    origin_country: str
    """原产国 (customs code)."""
    destination_country: str | None
    """最终目的国 (customs code)."""
    licence_required: bool
    """The record says the goods need an export licence."""
    inspection_required: bool
    """The record says the goods are subject to inspection."""


class BrokerDocument(Out):
    """What a customs broker needs to declare the export by customs declaration (报关单), from what XBM holds."""

    order_no: str
    """The platform's order number (the contract or order number on the declaration)."""
    ebp_code: str
    """The platform's customs code."""
    exporter: Party
    """境内发货人 / 生产销售单位: the seller (its customs profile's e-commerce enterprise)."""
    declaring_agent: Party
    """申报单位: the agent of the seller's customs profile (the broker declares under its own code if another)."""
    customs_code: str
    """申报地海关 (the profile's customs code)."""
    port_code: str
    """出境关别 (the profile's port code)."""
    trade_mode: str
    """监管方式: 9710 (B2B direct export) or 9810 (export to an overseas warehouse)."""
    transport_mode: str
    """运输方式 (customs code; the profile's `traf_mode`)."""
    overseas_consignee: str | None
    """境外收货人: the order's consignee (for 9810, the overseas warehouse)."""
    destination_country: Coded
    """运抵国 / 贸易国: where the goods go."""
    currency: Coded
    """币制 of the amounts."""
    goods_value: DecimalStr
    """The goods' value (sum of the lines) in `currency`; freight is not in it."""
    freight: DecimalStr
    """运费 charged to the buyer, in `currency`."""
    value_cny: DecimalStr | None
    """The goods' value in CNY at `rate`; null without a rate."""
    rate: RateOut | None
    """The rate named for the CNY value; null for a CNY order or without a rate."""
    gross_weight_kg: DecimalStr | None
    """毛重: the waybill's weight; null without a waybill."""
    net_weight_kg: DecimalStr | None
    """净重: not known to XBM (null): the broker takes it from the packing list."""
    logistics_no: str | None
    """The waybill's number (运单号)."""
    logistics_name: str | None
    """The carrier."""
    overseas_warehouse: str | None
    """9810: the overseas warehouse the goods go to."""
    items: list[BrokerItem]
    """The goods, line by line, as their item records declare them."""
    reasons: list[RouteReason]
    """Why the export is declared by customs declaration."""
    routed_at: datetime
    """When the order's route last changed (held, routed again, declared): the document is built from what is
    stored, the same until then or until the order, its records or the profile change."""


EntryId = Annotated[str, StringConstraints(pattern=r"^[0-9]{18}$")]


class DeclaredIn(Schema):
    """The customs declaration a broker filed for the order."""

    model_config = examples({"entry_id": "460420261000123456", "declared_on": "2026-12-07", "note": "via broker X"})

    entry_id: EntryId = Field(description="the customs declaration's entry number (报关单号), 18 digits")
    declared_on: IsoDate
    """The day it was declared (YYYY-MM-DD)."""
    note: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed] | None = None
    """Anything worth keeping with it (the broker, a reference)."""
