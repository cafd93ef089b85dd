from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.money import MoneyOut
from shared.schemas import NOT_BLANK, Code, CountryCode, LongText, Money, Name, Out, Schema, ShortText, Trimmed

Demand = Literal["strong", "weak", "pseudo"]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Statement = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed]
Platform = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$"),
    Field(description="alibaba_international, amazon, aliexpress, tiktok_shop, independent_site, …"),
]
HsCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,10}$")]


class Need(Schema):
    """A need of a customer group and how real the demand behind it is (strong, weak or pseudo)."""

    statement: Statement
    demand: Demand = Field(
        description="is this need a real demand? strong, weak, or pseudo (a need that is not really a demand)"
    )
    evidence: LongText = ""


class NeedOut(Out):
    """A need of a customer group and how real the demand behind it is."""

    statement: str
    demand: Demand
    evidence: str


Needs = Annotated[list[Need], Field(max_length=30)]


class CustomerIn(Schema):
    """A customer group of the plan (the "people" of the tactical layer) and the needs it has, each judged strong, weak
    or pseudo."""

    name: Name
    segment_id: Id | None = None
    description: LongText = ""
    needs: Needs = []


class CustomerPatch(Schema):
    """Changes to a customer group; fields left out stay as they are."""

    name: Name | None = None
    segment_id: Id | None = None
    description: LongText | None = None
    needs: Needs | None = None


class CustomerOut(Out):
    """A customer group of the plan and its needs."""

    id: str
    plan_id: str
    name: str
    segment_id: str | None
    description: str
    needs: list[NeedOut]
    created_at: datetime


Mode = Literal["platform", "independent_site"]
BusinessModel = Literal["B2B", "B2C", "C2C"]
Countries = Annotated[list[CountryCode], Field(max_length=250)]


class ChannelIn(Schema):
    """A channel the plan sells through (the "field" of the tactical layer): a platform store or an independent site."""

    name: Name
    platform: Platform
    mode: Mode
    business_model: BusinessModel
    countries: Countries = []


class ChannelPatch(Schema):
    """Changes to a channel; fields left out stay as they are."""

    name: Name | None = None
    platform: Platform | None = None
    mode: Mode | None = None
    business_model: BusinessModel | None = None
    countries: Countries | None = None


class ChannelOut(Out):
    """A channel of the plan."""

    id: str
    plan_id: str
    name: str
    platform: str
    mode: Mode
    business_model: BusinessModel
    countries: list[str]
    created_at: datetime


class ProductIn(Schema):
    """A product and its pricing. Cost, price and ceiling may each be in its own currency (a CNY cost and a USD
    price is the everyday case of a Chinese exporter); figures that compare them convert with the plan's
    ``fx_rates`` and name the rate used."""

    sku: Code
    name: Name
    hs_code: HsCode | None = None
    unit_cost: Money
    price: Money
    price_ceiling: Money | None = None
    pricing_note: ShortText = ""


class ProductPatch(Schema):
    """Changes to a product; fields left out stay as they are."""

    sku: Code | None = None
    name: Name | None = None
    hs_code: HsCode | None = None
    unit_cost: Money | None = None
    price: Money | None = None
    price_ceiling: Money | None = None
    pricing_note: ShortText | None = None


class ProductOut(Out):
    """A product of the plan with its cost and price."""

    id: str
    plan_id: str
    sku: str
    name: str
    hs_code: str | None
    unit_cost: MoneyOut
    price: MoneyOut
    price_ceiling: MoneyOut | None
    pricing_note: str
    created_at: datetime
