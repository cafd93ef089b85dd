from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.money import MoneyOut
from shared.schemas import DecimalStr, DecimalText, IsoDate, LongText, Money, Name, Out, Schema, ShortText

Layer = Literal["strategic", "tactical", "combat"]
InnovationStatus = Literal["proposed", "running", "adopted", "dropped"]
Loop = Literal["pdca", "dr"]
Phase = Literal["plan", "do", "check", "act", "review"]
Rate = Annotated[
    Decimal,
    Field(ge=0, le=1, max_digits=5, decimal_places=4, description="a fraction from 0 to 1: 0.35 is 35 %"),
    DecimalText(),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
#: the column is a 32-bit integer
CustomerCount = Annotated[int, Field(ge=0, le=2**31 - 1)]
PHASES = {"pdca": {"plan", "do", "check", "act"}, "dr": {"do", "review"}}


class InnovationIn(Schema):
    """An innovation task (the last 1 of 13N1) at the strategic, tactical or combat layer, with its hypothesis and
    budget."""

    title: Name
    layer: Layer
    hypothesis: Text
    budget: Money
    status: InnovationStatus = "proposed"


class InnovationPatch(Schema):
    """Changes to an innovation task; fields left out stay as they are."""

    title: Name | None = None
    layer: Layer | None = None
    hypothesis: Text | None = None
    budget: Money | None = None
    status: InnovationStatus | None = None


class InnovationOut(Out):
    """An innovation task of the plan."""

    id: str
    plan_id: str
    title: str
    layer: Layer
    hypothesis: str
    budget: MoneyOut
    status: InnovationStatus
    created_at: datetime


class ReviewIn(Schema):
    """A PDCA or DR review of the plan: the phase, what was found and what will be done."""

    loop: Loop
    phase: Phase = Field(description="pdca: plan, do, check, act; dr: do, review")
    subject_ref: ShortText | None = Field(None, max_length=200)
    findings: LongText = ""
    actions: LongText = ""

    @model_validator(mode="after")
    def _phase_of_loop(self) -> ReviewIn:
        if self.phase not in PHASES[self.loop]:
            raise ValueError(f"a {self.loop} review has the phases {', '.join(sorted(PHASES[self.loop]))}")
        return self


class ReviewPatch(Schema):
    """Changes to a review; fields left out stay as they are."""

    subject_ref: ShortText | None = Field(None, max_length=200)
    findings: LongText | None = None
    actions: LongText | None = None


class ReviewOut(Out):
    """A PDCA or DR review."""

    id: str
    plan_id: str
    loop: Loop
    phase: Phase
    subject_ref: str | None
    findings: str
    actions: str
    created_at: datetime


class SnapshotIn(Schema):
    """The company's and its customers' status at a date: customer count, repurchase and member activity rates."""

    as_of: IsoDate = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))
    customer_count: CustomerCount
    repurchase_rate: Rate
    member_activity_rate: Rate
    notes: LongText = ""


class SnapshotPatch(Schema):
    """Changes to a status snapshot; fields left out stay as they are."""

    as_of: IsoDate | None = Field(None, ge=date(2000, 1, 1), le=date(2100, 12, 31))
    customer_count: CustomerCount | None = None
    repurchase_rate: Rate | None = None
    member_activity_rate: Rate | None = None
    notes: LongText | None = None


class SnapshotWindow(Out):
    """The window of orders a computed snapshot counts (`from` included, `to` excluded)."""

    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")


class SnapshotOut(Out):
    """A status snapshot: entered by hand (`source: manual`) or computed from compliance's orders
    (`source: computed`)."""

    id: str
    plan_id: str
    as_of: date
    customer_count: int
    repurchase_rate: DecimalStr | None = Field(description="null only on a computed snapshot without customers")
    member_activity_rate: DecimalStr | None = Field(description="null only on a computed snapshot without tier members")
    notes: str
    created_at: datetime
    source: Literal["manual", "computed"] = Field(
        "manual",
        description="computed: the organisation's customer status from the orders customs released, listed first "
        "on the first page and never stored as one of the plan's snapshots",
    )
    window: SnapshotWindow | None = Field(None, description="computed only: the window of orders it covers")
    computed_at: datetime | None = Field(None, description="computed only: when compliance computed it")


WindowDays = Annotated[
    int, Field(ge=1, le=3660, description="days of orders the thresholds count, up to the day the tier is applied")
]
Benefits = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=500)]], Field(max_length=30)]


class TierIn(Schema):
    """A membership tier with its thresholds and benefits."""

    name: Name
    level: Annotated[int, Field(ge=1, le=20)]
    min_orders: Annotated[int, Field(ge=0, le=10**6)] = 0
    min_spend: Money | None = None
    benefits: Benefits = []
    window_days: WindowDays = 365


class TierPatch(Schema):
    """Changes to a membership tier; fields left out stay as they are."""

    name: Name | None = None
    level: Annotated[int, Field(ge=1, le=20)] | None = None
    min_orders: Annotated[int, Field(ge=0, le=10**6)] | None = None
    min_spend: Money | None = None
    benefits: Benefits | None = None
    window_days: WindowDays | None = None


class TierOut(Out):
    """A membership tier."""

    id: str
    plan_id: str
    name: str
    level: int
    min_orders: int
    min_spend: MoneyOut | None
    benefits: list[str]
    window_days: int
    created_at: datetime


ServiceKind = Literal["site_message", "email", "whatsapp", "wangwang", "live_chat", "phone", "sms", "social", "other"]
ServiceRole = Literal["core", "auxiliary"]


class ServiceChannelIn(Schema):
    """A way the seller talks to its customers (site message, email, WhatsApp ...), core or auxiliary."""

    kind: ServiceKind
    role: ServiceRole
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    notes: LongText = ""


class ServiceChannelPatch(Schema):
    """Changes to a service channel; fields left out stay as they are."""

    kind: ServiceKind | None = None
    role: ServiceRole | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    notes: LongText | None = None


class ServiceChannelOut(Out):
    """A service channel of the plan."""

    id: str
    plan_id: str
    kind: ServiceKind
    role: ServiceRole
    name: str
    notes: str
    created_at: datetime
