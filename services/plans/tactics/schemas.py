from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.money import MoneyOut
from shared.schemas import (
    Code,
    CountryCode,
    LongText,
    Money,
    Name,
    Out,
    Schema,
    Sentence,
    ShortText,
    examples,
)

Demand = Literal["strong", "weak", "pseudo"]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Statement = Sentence
Platform = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$"),
    Field(description="alibaba_international, amazon, aliexpress, tiktok_shop, independent_site, …"),
]
HsCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,10}$")]


class Need(Schema):
    """A need of a customer group and how real the demand behind it is (strong, weak or pseudo)."""

    statement: Statement
    """The need in the customer's words, e.g. `practise golf at home in winter`."""
    demand: Demand = Field(
        description="is this need a real demand? strong, weak, or pseudo (a need that is not really a demand)"
    )
    evidence: LongText = ""
    """What shows the need is real: surveys, reviews, search volumes."""


class NeedOut(Out):
    """A need of a customer group and how real the demand behind it is."""

    statement: str
    """The need."""
    demand: Demand
    """`strong`, `weak` or `pseudo` (a need that is not really a demand)."""
    evidence: str
    """What shows the need is real."""


Needs = Annotated[list[Need], Field(max_length=30)]


class CustomerIn(Schema):
    """A customer group of the plan (the "people" of the tactical layer) and the needs it has, each judged strong, weak
    or pseudo."""

    model_config = examples(
        {
            "name": "Home golfers 35–55",
            "segment_id": "3f1c9a52-8a3e-4d2b-9a51-0c2f3b4d5e6f",
            "description": "Own a house, play twice a month in season.",
            "needs": [
                {"statement": "practise in winter", "demand": "strong", "evidence": "search volume triples Nov–Feb"}
            ],
        }
    )

    name: Name
    """The customer group's name, e.g. `Home golfers 35–55`."""
    segment_id: Id | None = None
    """The segment it belongs to, if any."""
    description: LongText = ""
    """Who they are, for people."""
    needs: Needs = []
    """Their needs, each with how real a demand it is (at most 30)."""


class CustomerPatch(Schema):
    """Changes to a customer group; fields left out stay as they are."""

    model_config = examples({"description": "Own a house, play twice a month in season, buy online."})

    name: Name | None = None
    """A new name. Leave it out to keep the current value."""
    segment_id: Id | None = None
    """A new segment. Leave it out to keep the current value."""
    description: LongText | None = None
    """A new description. Leave it out to keep the current value."""
    needs: Needs | None = None
    """A new list of needs (replaces the old one). Leave it out to keep the current value."""


class CustomerOut(Out):
    """A customer group of the plan and its needs."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    name: str
    """The customer group's name."""
    segment_id: str | None
    """The segment it belongs to; null when none."""
    description: str
    """Who they are."""
    needs: list[NeedOut]
    """Their needs."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


Mode = Literal["platform", "independent_site"]
BusinessModel = Literal["B2B", "B2C", "C2C"]
Countries = Annotated[list[CountryCode], Field(max_length=250)]


class ChannelIn(Schema):
    """A channel the plan sells through (the "field" of the tactical layer): a platform store or an independent site."""

    model_config = examples(
        {"name": "Amazon US", "platform": "amazon", "mode": "platform", "business_model": "B2C", "countries": ["US"]}
    )

    name: Name
    """The channel's name, e.g. `Amazon US`."""
    platform: Platform
    """Where it sells, e.g. `amazon`, `tiktok_shop`, `independent_site`."""
    mode: Mode
    """`platform` (a marketplace) or `independent_site` (the seller's own shop)."""
    business_model: BusinessModel
    """`B2B`, `B2C` or `C2C`."""
    countries: Countries = []
    """The countries it sells to (ISO 3166-1 alpha-2)."""


class ChannelPatch(Schema):
    """Changes to a channel; fields left out stay as they are."""

    model_config = examples({"countries": ["US", "CA"]})

    name: Name | None = None
    """A new name. Leave it out to keep the current value."""
    platform: Platform | None = None
    """A new platform. Leave it out to keep the current value."""
    mode: Mode | None = None
    """`platform` or `independent_site`. Leave it out to keep the current value."""
    business_model: BusinessModel | None = None
    """`B2B`, `B2C` or `C2C`. Leave it out to keep the current value."""
    countries: Countries | None = None
    """New countries. Leave it out to keep the current value."""


class ChannelOut(Out):
    """A channel of the plan."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    name: str
    """The channel's name."""
    platform: str
    """Where it sells."""
    mode: Mode
    """`platform` or `independent_site`."""
    business_model: BusinessModel
    """`B2B`, `B2C` or `C2C`."""
    countries: list[str]
    """The countries it sells to."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


class ProductIn(Schema):
    """A product and its pricing. Cost, price and ceiling may each be in its own currency (a CNY cost and a USD
    price is the everyday case of a Chinese exporter); figures that compare them convert with the plan's
    ``fx_rates`` and name the rate used."""

    model_config = examples(
        {
            "sku": "GS-PRO-2",
            "name": "Golf simulator Pro 2",
            "hs_code": "950639",
            "unit_cost": {"amount": "180.00", "currency": "USD"},
            "price": {"amount": "399.00", "currency": "USD"},
            "price_ceiling": {"amount": "449.00", "currency": "USD"},
            "pricing_note": "Below the market leader's 499.",
        }
    )

    sku: Code
    """The seller's stock-keeping unit, e.g. `GS-PRO-2`; the same code as the item record's `item_no` in compliance."""
    name: Name
    """The product's name."""
    hs_code: HsCode | None = None
    """Its customs HS code (6 to 10 digits), if known."""
    unit_cost: Money
    """What one unit costs the seller."""
    price: Money
    """What one unit sells for."""
    price_ceiling: Money | None = None
    """The highest price the market bears, if known."""
    pricing_note: ShortText = ""
    """How the price was set, for people."""


class ProductPatch(Schema):
    """Changes to a product; fields left out stay as they are."""

    model_config = examples({"price": {"amount": "379.00", "currency": "USD"}, "pricing_note": "Black Friday price"})

    sku: Code | None = None
    """A new SKU. Leave it out to keep the current value."""
    name: Name | None = None
    """A new name. Leave it out to keep the current value."""
    hs_code: HsCode | None = None
    """A new HS code. Leave it out to keep the current value."""
    unit_cost: Money | None = None
    """A new unit cost. Leave it out to keep the current value."""
    price: Money | None = None
    """A new price. Leave it out to keep the current value."""
    price_ceiling: Money | None = None
    """A new price ceiling. Leave it out to keep the current value."""
    pricing_note: ShortText | None = None
    """A new note. Leave it out to keep the current value."""


class ProductOut(Out):
    """A product of the plan with its cost and price."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    sku: str
    """The seller's stock-keeping unit."""
    name: str
    """The product's name."""
    hs_code: str | None
    """Its customs HS code; null when unknown."""
    unit_cost: MoneyOut
    """What one unit costs the seller."""
    price: MoneyOut
    """What one unit sells for."""
    price_ceiling: MoneyOut | None
    """The highest price the market bears; null when unknown."""
    pricing_note: str
    """How the price was set."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
