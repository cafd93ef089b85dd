from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from services.plans.customer_status.schemas import CustomerStatusOut
from shared.money import MoneyOut
from shared.schemas import NOT_BLANK, Amount, DecimalStr, Money, Name, Out, Schema, Trimmed

Demand = Literal["strong", "weak", "pseudo"]
SbuStatus = Literal["draft", "active", "retired"]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Need = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed]


class SbuIn(Schema):
    """A new SBU: one customer x channel x product of this plan, the need it serves, its budget and revenue target."""

    customer_id: Id
    channel_id: Id
    product_id: Id
    need: Need
    demand: Demand
    budget: Money
    revenue_target: Money
    owner: Name


class SbuPatch(Schema):
    """Changes to an SBU's need, demand, budget, revenue target or owner. Its customer, channel and product never
    change: derive a new SBU instead."""

    need: Need | None = None
    demand: Demand | None = None
    budget: Money | None = None
    revenue_target: Money | None = None
    owner: Name | None = None
    customer_id: Id | None = Field(None, description="never changes: derive a new SBU instead (422)")
    channel_id: Id | None = Field(None, description="never changes: derive a new SBU instead (422)")
    product_id: Id | None = Field(None, description="never changes: derive a new SBU instead (422)")


class SbuDerive(Schema):
    """A new business model from an old one: at least one of customer, channel, product changes."""

    customer_id: Id | None = None
    channel_id: Id | None = None
    product_id: Id | None = None
    reason: Reason
    need: Need | None = None
    demand: Demand | None = None
    budget: Money | None = None
    revenue_target: Money | None = None
    owner: Name | None = None


class SbuRetire(Schema):
    """Why the SBU is retired."""

    reason: Reason


class SbuOut(Out):
    id: str
    org_id: str
    plan_id: str
    status: SbuStatus
    customer_id: str
    channel_id: str
    product_id: str
    need: str
    demand: Demand
    budget: MoneyOut
    revenue_target: MoneyOut
    owner: str
    derived_from: str | None
    retired_reason: str | None
    retired_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Ref(Out):
    """Something the SBU is made of, by id and name."""

    id: str
    name: str


class ChannelRef(Ref):
    """A channel as an SBU or the grid shows it: id, name, platform and business model."""

    platform: str
    business_model: str


class ProductRef(Ref):
    """A product as an SBU or the grid shows it: id, name and SKU."""

    sku: str


class RateUsed(Out):
    """An exchange rate as the plan keeps it: 1 ``currency`` = ``rate`` units of the base currency."""

    currency: str
    rate: str
    as_of: str
    source: str


class BudgetUse(Out):
    """Spend against budget in the budget's currency; ``rates`` names the conversion (empty when none)."""

    budget: MoneyOut
    spend: MoneyOut
    share: DecimalStr | None = Field(description="spend / budget as a fraction; null when the budget is zero")
    rates: list[RateUsed]


class Margin(Out):
    """Unit margin in the price's currency: the unit cost converted with the rates named (empty when none)."""

    price: MoneyOut
    unit_cost: MoneyOut
    amount: Amount
    share: DecimalStr | None = Field(description="margin / price as a fraction; null when the price is zero")
    rates: list[RateUsed]


class CurrencyTotals(Out):
    """Live SBUs' budget, spend and revenue in one currency, as given (nothing converted)."""

    currency: str
    budget: Amount
    spend: Amount
    revenue: Amount = Field(description="the conversion value the ad platforms claim")
    released_revenue: Amount = Field(
        Decimal(0), description="customs-released orders naming the campaigns, returns deducted"
    )


class BaseTotals(Out):
    """Every live SBU's figures in the plan's base currency, converted with the rates named."""

    currency: str
    budget: Amount
    spend: Amount
    revenue: Amount
    roas: DecimalStr | None = Field(description="claimed ROAS: the platforms' value / spend")
    released_revenue: Amount = Decimal(0)
    released_roas: DecimalStr | None = Field(None, description="released revenue / spend")
    rates: list[RateUsed]


class GridTotals(Out):
    """The grid's totals: per currency as given and, when every currency in use has a rate, in the base currency."""

    by_currency: list[CurrencyTotals] = Field(description="live SBUs' figures as given, one entry per currency")
    in_base: BaseTotals | None = Field(description="null while a currency in use has no rate (see missing_rates)")
    missing_rates: list[str] = Field(description="currencies in use without a rate to the base currency")


class GridCell(Out):
    """One SBU as a cell of the grid: its customer, channel and product, demand, budget and, once campaigns has
    figures, spend, revenue and ROAS."""

    sbu_id: str
    status: SbuStatus
    customer: Ref
    channel: ChannelRef
    product: ProductRef
    need: str
    demand: Demand
    budget: MoneyOut
    revenue_target: MoneyOut
    performance_known: bool = Field(description="false until campaigns' figures for this SBU arrive")
    spend: MoneyOut | None
    revenue: MoneyOut | None
    roas: DecimalStr | None = Field(
        description="claimed ROAS: the platforms' conversion value (revenue) / spend; null when unknown or none spent"
    )
    released_revenue: MoneyOut | None = Field(
        None, description="revenue of customs-released orders naming the SBU's campaigns, returns deducted"
    )
    released_roas: DecimalStr | None = Field(None, description="released_revenue / spend: the ROAS XBM verified")
    roas_gap: DecimalStr | None = Field(None, description="roas - released_roas: what the platforms claim beyond it")
    performance_as_of: datetime | None
    budget_use: BudgetUse | None = Field(
        None, description="spend against budget in the budget's currency; null when unknown or no rate converts it"
    )
    margin: Margin | None = Field(None, description="the product's unit margin; null when no rate converts its cost")
    missing_rates: list[str] = Field(default_factory=list, description="currencies this cell could not convert")


class GridOut(Out):
    """The plan's SBU grid: the customers, channels and products it spans, and one cell per SBU."""

    plan_id: str
    base_currency: str
    totals: GridTotals
    customers: list[Ref]
    channels: list[ChannelRef]
    products: list[ProductRef]
    cells: list[GridCell]
    customer_status: CustomerStatusOut | None = Field(
        None, description="the organisation's customer status computed from released orders; null until known"
    )


class SbuView(SbuOut):
    """An SBU as the API answers it: its fields, and the names of its customer, channel and product so that a
    list or a grid can show them without looking each one up."""

    customer: Ref = Field(description="the SBU's customer: id and name (the same id as `customer_id`)")
    channel: ChannelRef = Field(description="the SBU's channel: id, name, platform and business model")
    product: ProductRef = Field(description="the SBU's product: id, name and SKU")
