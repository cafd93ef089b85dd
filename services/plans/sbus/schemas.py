from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from services.plans.customer_status.schemas import CustomerStatusOut
from shared.money import MoneyOut
from shared.schemas import Amount, DecimalStr, Money, Name, Out, Schema, Sentence, examples

Demand = Literal["strong", "weak", "pseudo"]
SbuStatus = Literal["draft", "active", "retired"]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Need = Sentence
Reason = Sentence


class SbuIn(Schema):
    """A new SBU: one customer x channel x product of this plan, the need it serves, its budget and revenue target."""

    model_config = examples(
        {
            "customer_id": "7d0e2b64-1f7a-4c1e-9b3d-2a5c8e9f0a11",
            "channel_id": "5b8f3c21-9e4d-4a7b-8c6e-1d2f3a4b5c6d",
            "product_id": "9a7b6c5d-4e3f-4a1b-8c9d-0e1f2a3b4c5d",
            "need": "practise in winter",
            "demand": "strong",
            "budget": {"amount": "40000.00", "currency": "USD"},
            "revenue_target": {"amount": "240000.00", "currency": "USD"},
            "owner": "Li Wei",
        }
    )

    customer_id: Id
    """The plan's customer the SBU serves."""
    channel_id: Id
    """The plan's channel it sells through."""
    product_id: Id
    """The plan's product it sells."""
    need: Need
    """The customer need it answers (one of the customer's needs, in words)."""
    demand: Demand
    """How real that demand is: `strong`, `weak` or `pseudo`."""
    budget: Money
    """What the SBU may spend over the plan's period."""
    revenue_target: Money
    """The revenue it should bring in over the period."""
    owner: Name
    """The person answerable for it."""


class SbuPatch(Schema):
    """Changes to an SBU's need, demand, budget, revenue target or owner. Its customer, channel and product never
    change: derive a new SBU instead."""

    model_config = examples({"budget": {"amount": "45000.00", "currency": "USD"}, "owner": "Zhang Min"})

    need: Need | None = None
    """A new need. Leave it out to keep the current value."""
    demand: Demand | None = None
    """`strong`, `weak` or `pseudo`. Leave it out to keep the current value."""
    budget: Money | None = None
    """A new budget. Leave it out to keep the current value."""
    revenue_target: Money | None = None
    """A new revenue target. Leave it out to keep the current value."""
    owner: Name | None = None
    """A new owner. Leave it out to keep the current value."""
    customer_id: Id | None = Field(None, description="never changes: derive a new SBU instead (422)")
    channel_id: Id | None = Field(None, description="never changes: derive a new SBU instead (422)")
    product_id: Id | None = Field(None, description="never changes: derive a new SBU instead (422)")


class SbuDerive(Schema):
    """A new business model from an old one: at least one of customer, channel, product changes."""

    model_config = examples(
        {"product_id": "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a", "reason": "the Pro 3 replaces the Pro 2"}
    )

    customer_id: Id | None = None
    """The new SBU's customer; the old one's when left out."""
    channel_id: Id | None = None
    """The new SBU's channel; the old one's when left out."""
    product_id: Id | None = None
    """The new SBU's product; the old one's when left out."""
    reason: Reason
    """Why the SBU is replaced; kept on the retired one."""
    need: Need | None = None
    """The new SBU's need; the old one's when left out."""
    demand: Demand | None = None
    """The new SBU's demand; the old one's when left out."""
    budget: Money | None = None
    """The new SBU's budget; the old one's when left out."""
    revenue_target: Money | None = None
    """The new SBU's revenue target; the old one's when left out."""
    owner: Name | None = None
    """The new SBU's owner; the old one's when left out."""


class SbuRetire(Schema):
    """Why the SBU is retired."""

    model_config = examples({"reason": "channel closed"})

    reason: Reason
    """Why the SBU ends, e.g. `channel closed`; kept on it."""


class SbuOut(Out):
    id: str
    """The object's id (a UUID), as used in its path."""
    org_id: str
    """The organisation the object belongs to (the caller's own)."""
    plan_id: str
    """The plan the object belongs to."""
    status: SbuStatus
    """`draft`, `active` (its plan is active) or `retired`."""
    customer_id: str
    """The customer it serves."""
    channel_id: str
    """The channel it sells through."""
    product_id: str
    """The product it sells."""
    need: str
    """The customer need it answers."""
    demand: Demand
    """`strong`, `weak` or `pseudo`."""
    budget: MoneyOut
    """What it may spend over the period."""
    revenue_target: MoneyOut
    """The revenue it should bring in."""
    owner: str
    """The person answerable for it."""
    derived_from: str | None
    """The SBU it replaced (`POST /v1/sbus/{sbu_id}/derive`); null when none."""
    retired_reason: str | None
    """Why it was retired; null while live."""
    retired_at: datetime | None
    """When it was retired; null while live."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
    updated_at: datetime
    """When the object last changed (RFC 3339, UTC)."""


class Ref(Out):
    """Something the SBU is made of, by id and name."""

    id: str
    """The object's id."""
    name: str
    """The object's name."""


class ChannelRef(Ref):
    """A channel as an SBU or the grid shows it: id, name, platform and business model."""

    platform: str
    """Where the channel sells, e.g. `amazon`."""
    business_model: str
    """`B2B`, `B2C` or `C2C`."""


class ProductRef(Ref):
    """A product as an SBU or the grid shows it: id, name and SKU."""

    sku: str
    """The product's stock-keeping unit."""


class RateUsed(Out):
    """An exchange rate as the plan keeps it: 1 ``currency`` = ``rate`` units of the base currency."""

    currency: str
    """The currency converted from."""
    rate: str
    """Units of the base currency per unit of `currency` (decimal string)."""
    as_of: str
    """The day the rate was quoted (YYYY-MM-DD)."""
    source: str
    """Whose figure it is, e.g. `PBOC central parity`."""


class BudgetUse(Out):
    """Spend against budget in the budget's currency; ``rates`` names the conversion (empty when none)."""

    budget: MoneyOut
    """The SBU's budget."""
    spend: MoneyOut
    """What its campaigns spent, converted to the budget's currency."""
    share: DecimalStr | None = Field(description="spend / budget as a fraction; null when the budget is zero")
    rates: list[RateUsed]
    """The rates used to convert; empty when none was needed."""


class Margin(Out):
    """Unit margin in the price's currency: the unit cost converted with the rates named (empty when none)."""

    price: MoneyOut
    """The product's unit price."""
    unit_cost: MoneyOut
    """Its unit cost, converted to the price's currency."""
    amount: Amount
    """Price minus unit cost, in the price's currency (decimal string)."""
    share: DecimalStr | None = Field(description="margin / price as a fraction; null when the price is zero")
    rates: list[RateUsed]
    """The rates used to convert; empty when none was needed."""


class CurrencyTotals(Out):
    """Live SBUs' budget, spend and revenue in one currency, as given (nothing converted)."""

    currency: str
    """The currency of these totals (ISO 4217)."""
    budget: Amount
    """Live SBUs' budgets in this currency (decimal string)."""
    spend: Amount
    """Their campaigns' spend in this currency (decimal string)."""
    revenue: Amount = Field(description="the conversion value the ad platforms claim")
    released_revenue: Amount = Field(
        Decimal(0), description="customs-released orders naming the campaigns, returns deducted"
    )


class BaseTotals(Out):
    """Every live SBU's figures in the plan's base currency, converted with the rates named."""

    currency: str
    """The plan's base currency."""
    budget: Amount
    """Every live SBU's budget, converted (decimal string)."""
    spend: Amount
    """Their spend, converted (decimal string)."""
    revenue: Amount
    """Their revenue, converted (decimal string)."""
    roas: DecimalStr | None = Field(description="claimed ROAS: the platforms' value / spend")
    released_revenue: Amount = Decimal(0)
    """Revenue of customs-released orders naming their campaigns, returns deducted, converted (decimal string)."""
    released_roas: DecimalStr | None = Field(None, description="released revenue / spend")
    rates: list[RateUsed]
    """The rates used to convert."""


class GridTotals(Out):
    """The grid's totals: per currency as given and, when every currency in use has a rate, in the base currency."""

    by_currency: list[CurrencyTotals] = Field(description="live SBUs' figures as given, one entry per currency")
    in_base: BaseTotals | None = Field(description="null while a currency in use has no rate (see missing_rates)")
    missing_rates: list[str] = Field(description="currencies in use without a rate to the base currency")


class GridCell(Out):
    """One SBU as a cell of the grid: its customer, channel and product, demand, budget and, once campaigns has
    figures, spend, revenue and ROAS."""

    sbu_id: str
    """The SBU's id."""
    status: SbuStatus
    """`draft`, `active` or `retired`."""
    customer: Ref
    """The SBU's customer: id and name."""
    channel: ChannelRef
    """The SBU's channel: id, name, platform and business model."""
    product: ProductRef
    """The SBU's product: id, name and SKU."""
    need: str
    """The customer need it answers."""
    demand: Demand
    """`strong`, `weak` or `pseudo`."""
    budget: MoneyOut
    """What it may spend."""
    revenue_target: MoneyOut
    """The revenue it should bring in."""
    performance_known: bool = Field(description="false until campaigns' figures for this SBU arrive")
    spend: MoneyOut | None
    """What its campaigns spent; null until campaigns' figures arrive."""
    revenue: MoneyOut | None
    """What its campaigns brought in; null until known."""
    roas: DecimalStr | None = Field(
        description="claimed ROAS: the platforms' conversion value (revenue) / spend; null when unknown or none spent"
    )
    released_revenue: MoneyOut | None = Field(
        None, description="revenue of customs-released orders naming the SBU's campaigns, returns deducted"
    )
    released_roas: DecimalStr | None = Field(None, description="released_revenue / spend: the ROAS XBM verified")
    roas_gap: DecimalStr | None = Field(None, description="roas - released_roas: what the platforms claim beyond it")
    performance_as_of: datetime | None
    """When campaigns' figures were last received; null until then."""
    budget_use: BudgetUse | None = Field(
        None, description="spend against budget in the budget's currency; null when unknown or no rate converts it"
    )
    margin: Margin | None = Field(None, description="the product's unit margin; null when no rate converts its cost")
    missing_rates: list[str] = Field(default_factory=list, description="currencies this cell could not convert")


class GridOut(Out):
    """The plan's SBU grid: the customers, channels and products it spans, and one cell per SBU."""

    plan_id: str
    """The plan the object belongs to."""
    base_currency: str
    """The plan's base currency."""
    totals: GridTotals
    """The grid's totals per currency and in the base currency."""
    customers: list[Ref]
    """The customers the grid's SBUs span (rows)."""
    channels: list[ChannelRef]
    """The channels they span."""
    products: list[ProductRef]
    """The products they span."""
    cells: list[GridCell]
    """One cell per SBU."""
    customer_status: CustomerStatusOut | None = Field(
        None, description="the organisation's customer status computed from released orders; null until known"
    )


class SbuView(SbuOut):
    """An SBU as the API answers it: its fields, and the names of its customer, channel and product so that a
    list or a grid can show them without looking each one up."""

    customer: Ref = Field(description="the SBU's customer: id and name (the same id as `customer_id`)")
    channel: ChannelRef = Field(description="the SBU's channel: id, name, platform and business model")
    product: ProductRef = Field(description="the SBU's product: id, name and SKU")
