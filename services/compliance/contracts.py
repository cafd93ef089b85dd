"""The events compliance publishes (docs/events.md), as the models its consumers import: the only module of
compliance another service may import. It imports nothing of compliance itself but the order states' vocabulary
(``order_states.py``, a module of plain names)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from services.compliance.order_states import OrderState
from shared.events.contracts import Amount, Event, Part
from shared.schemas import DecimalStr

Text64 = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Rate = Annotated[DecimalStr, Field(ge=0, le=1)]


class ComplianceEvent(Event):
    publisher: ClassVar[str] = "compliance"


class OrderChanged(ComplianceEvent):
    """An order entered a state: its keys, states, campaign and amount — never the buyer's or payer's name
    or ID number."""

    ebp_code: Text64
    order_no: Text64
    state: OrderState
    previous_state: OrderState | None = None
    utm_campaign: Annotated[str, StringConstraints(max_length=100)] | None = None
    amount: Amount | None = None
    currency: Annotated[str, StringConstraints(max_length=3)] | None = None
    declaration_id: str | None = None
    #: the rules that failed; sent with ``order.mismatch`` only
    failing_rules: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=50)] = Field(
        default_factory=list, exclude=True
    )


class OrderMatched(OrderChanged):
    type: ClassVar[str] = "order.matched"


class OrderMismatch(OrderChanged):
    type: ClassVar[str] = "order.mismatch"

    failing_rules: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=50)] = []


class OrderDeclared(OrderChanged):
    type: ClassVar[str] = "order.declared"


class OrderCleared(OrderChanged):
    type: ClassVar[str] = "order.cleared"


class OrderReleased(OrderChanged):
    """Customs released the order: its amount and currency are always given (campaigns attributes them)."""

    type: ClassVar[str] = "order.released"

    amount: Amount
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]


class OrderReturned(OrderChanged):
    """Goods of a released order came back with customs' approval (a buyer's return, CEB626 399, or customs
    returning the parcel): ``returned_amount`` is the part of the order's amount returned so far, in its
    currency — the whole amount once everything came back. Revenue attributed to a campaign deducts it."""

    type: ClassVar[str] = "order.returned"

    returned_amount: Amount | None = None


class Window(Part):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class Money(Part):
    amount: DecimalStr
    currency: str


class Stages(Part):
    new: int = Field(ge=0)
    active: int = Field(ge=0)
    at_risk: int = Field(ge=0)
    lapsed: int = Field(ge=0)


class TierFigures(Part):
    tier_id: str = Field(max_length=36)
    plan_id: str = Field(max_length=36)
    name: str = Field(max_length=200)
    level: int | None = None
    members: int = Field(ge=0)
    active_members: int = Field(ge=0)
    activity_rate: Rate | None = None


class CustomersSummaryChanged(ComplianceEvent):
    """The customer register's summary of the default window, and when it was computed (coalesced: one per
    organisation and relay pass, and again a day after the last)."""

    type: ClassVar[str] = "customers.summary_changed"

    window: Window
    customers: int = Field(ge=0)
    new_customers: int = Field(ge=0)
    returning_customers: int = Field(ge=0)
    repurchase_rate: Rate | None = None
    orders: int = Field(ge=0)
    revenue: list[Money] = []
    aov: list[Money] = []
    stages: Stages
    tiers: list[TierFigures] = Field(default_factory=list, max_length=1000)
    member_activity_rate: Rate | None = None
    computed_at: datetime


#: the order states that publish an event when an order enters them, and the event
STATE_EVENTS: dict[OrderState, type[OrderChanged]] = {
    OrderState.MATCHED: OrderMatched,
    OrderState.MISMATCH: OrderMismatch,
    OrderState.DECLARED: OrderDeclared,
    OrderState.CLEARED: OrderCleared,
    OrderState.RELEASED: OrderReleased,
}
#: every event compliance publishes
EVENTS: tuple[type[ComplianceEvent], ...] = (*STATE_EVENTS.values(), OrderReturned, CustomersSummaryChanged)
