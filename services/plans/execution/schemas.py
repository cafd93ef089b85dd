from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.money import MoneyOut
from shared.schemas import DecimalStr, DecimalText, IsoDate, LongText, Money, Name, Out, Schema, ShortText, examples

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

    model_config = examples(
        {
            "title": "Livestream demos",
            "layer": "tactical",
            "hypothesis": "Weekly live swing demos lift conversion by 20 %; measured on TikTok Shop orders.",
            "budget": {"amount": "5000.00", "currency": "USD"},
            "status": "proposed",
        }
    )

    title: Name
    """The innovation's name, e.g. `Livestream bundles`."""
    layer: Layer
    """The layer of the plan it tries something new in: `strategic`, `tactical` or `combat`."""
    hypothesis: Text
    """What it is expected to show, and how it will be measured."""
    budget: Money
    """What it may spend."""
    status: InnovationStatus = "proposed"
    """`proposed` (the default), `running`, `adopted` or `dropped`."""


class InnovationPatch(Schema):
    """Changes to an innovation task; fields left out stay as they are."""

    model_config = examples({"status": "running"})

    title: Name | None = None
    """A new name. Leave it out to keep the current value."""
    layer: Layer | None = None
    """A new layer. Leave it out to keep the current value."""
    hypothesis: Text | None = None
    """A new hypothesis. Leave it out to keep the current value."""
    budget: Money | None = None
    """A new budget. Leave it out to keep the current value."""
    status: InnovationStatus | None = None
    """`proposed`, `running`, `adopted` or `dropped`. Leave it out to keep the current value."""


class InnovationOut(Out):
    """An innovation task of the plan."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    title: str
    """The innovation's name."""
    layer: Layer
    """`strategic`, `tactical` or `combat`."""
    hypothesis: str
    """What it is expected to show."""
    budget: MoneyOut
    """What it may spend."""
    status: InnovationStatus
    """`proposed`, `running`, `adopted` or `dropped`."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


class ReviewIn(Schema):
    """A PDCA or DR review of the plan: the phase, what was found and what will be done."""

    model_config = examples(
        {
            "loop": "pdca",
            "phase": "check",
            "subject_ref": "Q1 pricing",
            "findings": "Conversion fell 15 % after the price rise.",
            "actions": "Test 379 against 399 in March.",
        }
    )

    loop: Loop
    """`pdca` (plan, do, check, act) or `dr` (do, review)."""
    phase: Phase = Field(description="pdca: plan, do, check, act; dr: do, review")
    subject_ref: ShortText | None = Field(None, max_length=200)
    """What is reviewed, e.g. an SBU's or a campaign's id, or `Q3 pricing`."""
    findings: LongText = ""
    """What was found."""
    actions: LongText = ""
    """What will be done about it."""

    @model_validator(mode="after")
    def _phase_of_loop(self) -> ReviewIn:
        if self.phase not in PHASES[self.loop]:
            raise ValueError(f"a {self.loop} review has the phases {', '.join(sorted(PHASES[self.loop]))}")
        return self


class ReviewPatch(Schema):
    """Changes to a review; fields left out stay as they are."""

    model_config = examples({"actions": "Test 379 against 399 in March; decide by April 5."})

    subject_ref: ShortText | None = Field(None, max_length=200)
    """What is reviewed. Leave it out to keep the current value."""
    findings: LongText | None = None
    """New findings. Leave it out to keep the current value."""
    actions: LongText | None = None
    """New actions. Leave it out to keep the current value."""


class ReviewOut(Out):
    """A PDCA or DR review."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    loop: Loop
    """`pdca` or `dr`."""
    phase: Phase
    """The loop's phase: `plan`, `do`, `check`, `act` (pdca) or `do`, `review` (dr)."""
    subject_ref: str | None
    """What is reviewed; null when the plan as a whole."""
    findings: str
    """What was found."""
    actions: str
    """What will be done."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


class SnapshotIn(Schema):
    """The company's and its customers' status at a date: customer count, repurchase and member activity rates."""

    model_config = examples(
        {
            "as_of": "2027-03-31",
            "customer_count": 1840,
            "repurchase_rate": "0.22",
            "member_activity_rate": "0.35",
            "notes": "From the CRM export of March 31.",
        }
    )

    as_of: IsoDate = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))
    """The day the figures describe (YYYY-MM-DD)."""
    customer_count: CustomerCount
    """How many customers the company had that day."""
    repurchase_rate: Rate
    """The share of customers who bought again, from 0 to 1."""
    member_activity_rate: Rate
    """The share of members who were active, from 0 to 1."""
    notes: LongText = ""
    """Where the figures come from, for people."""


class SnapshotPatch(Schema):
    """Changes to a status snapshot; fields left out stay as they are."""

    model_config = examples({"notes": "From the CRM export of March 31, duplicates removed."})

    as_of: IsoDate | None = Field(None, ge=date(2000, 1, 1), le=date(2100, 12, 31))
    """A new day. Leave it out to keep the current value."""
    customer_count: CustomerCount | None = None
    """A new customer count. Leave it out to keep the current value."""
    repurchase_rate: Rate | None = None
    """A new repurchase rate (0–1). Leave it out to keep the current value."""
    member_activity_rate: Rate | None = None
    """A new member activity rate (0–1). Leave it out to keep the current value."""
    notes: LongText | None = None
    """New notes. Leave it out to keep the current value."""


class SnapshotWindow(Out):
    """The window of orders a computed snapshot counts (`from` included, `to` excluded)."""

    start: datetime = Field(serialization_alias="from")
    """The window's first moment (answered as `from`, RFC 3339, UTC)."""
    end: datetime = Field(serialization_alias="to")
    """The window's end (answered as `to`, RFC 3339, UTC)."""


class SnapshotOut(Out):
    """A status snapshot: entered by hand (`source: manual`) or computed from compliance's orders
    (`source: computed`)."""

    id: str
    """The snapshot's id (`computed` for the computed one)."""
    plan_id: str
    """The plan the object belongs to."""
    as_of: date
    """The day the figures describe."""
    customer_count: int
    """How many customers there were."""
    repurchase_rate: DecimalStr | None = Field(description="null only on a computed snapshot without customers")
    member_activity_rate: DecimalStr | None = Field(description="null only on a computed snapshot without tier members")
    notes: str
    """Where the figures come from."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
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

    model_config = examples(
        {
            "name": "Gold",
            "level": 2,
            "min_orders": 3,
            "min_spend": {"amount": "1000.00", "currency": "USD"},
            "benefits": ["free shipping", "early access"],
            "window_days": 365,
        }
    )

    name: Name
    """The tier's name, e.g. `Gold`."""
    level: Annotated[int, Field(ge=1, le=20)]
    """Its rank, 1 the lowest (up to 20); higher tiers need more."""
    min_orders: Annotated[int, Field(ge=0, le=10**6)] = 0
    """Orders a member needs within `window_days` to reach it."""
    min_spend: Money | None = None
    """Spend a member needs within `window_days` to reach it, if any."""
    benefits: Benefits = []
    """What members of the tier get, e.g. `free shipping` (at most 30)."""
    window_days: WindowDays = 365


class TierPatch(Schema):
    """Changes to a membership tier; fields left out stay as they are."""

    model_config = examples({"benefits": ["free shipping", "early access", "birthday gift"]})

    name: Name | None = None
    """A new name. Leave it out to keep the current value."""
    level: Annotated[int, Field(ge=1, le=20)] | None = None
    """A new rank. Leave it out to keep the current value."""
    min_orders: Annotated[int, Field(ge=0, le=10**6)] | None = None
    """A new order threshold. Leave it out to keep the current value."""
    min_spend: Money | None = None
    """A new spend threshold. Leave it out to keep the current value."""
    benefits: Benefits | None = None
    """New benefits. Leave it out to keep the current value."""
    window_days: WindowDays | None = None
    """New days of orders the thresholds count (1–3660). Leave it out to keep the current value."""


class TierOut(Out):
    """A membership tier."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    name: str
    """The tier's name."""
    level: int
    """Its rank, 1 the lowest."""
    min_orders: int
    """Orders needed within `window_days`."""
    min_spend: MoneyOut | None
    """Spend needed within `window_days`; null when none."""
    benefits: list[str]
    """What members get."""
    window_days: int
    """Days of orders the thresholds count."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


ServiceKind = Literal["site_message", "email", "whatsapp", "wangwang", "live_chat", "phone", "sms", "social", "other"]
ServiceRole = Literal["core", "auxiliary"]


class ServiceChannelIn(Schema):
    """A way the seller talks to its customers (site message, email, WhatsApp ...), core or auxiliary."""

    model_config = examples(
        {
            "kind": "email",
            "role": "core",
            "name": "support@example.com",
            "notes": "Answered within 24 h, English and Spanish.",
        }
    )

    kind: ServiceKind
    """How customers are served: `site_message`, `email`, `whatsapp`, `wangwang`, `live_chat`, `phone`, `sms`,
    `social` or `other`."""
    role: ServiceRole
    """`core` (the main way) or `auxiliary`."""
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    """The channel's name, e.g. `support@example.com`."""
    notes: LongText = ""
    """Hours, languages, who answers."""


class ServiceChannelPatch(Schema):
    """Changes to a service channel; fields left out stay as they are."""

    model_config = examples({"notes": "Answered within 12 h, English and Spanish."})

    kind: ServiceKind | None = None
    """A new kind. Leave it out to keep the current value."""
    role: ServiceRole | None = None
    """`core` or `auxiliary`. Leave it out to keep the current value."""
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    """A new name. Leave it out to keep the current value."""
    notes: LongText | None = None
    """New notes. Leave it out to keep the current value."""


class ServiceChannelOut(Out):
    """A service channel of the plan."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    kind: ServiceKind
    """How customers are served."""
    role: ServiceRole
    """`core` or `auxiliary`."""
    name: str
    """The channel's name."""
    notes: str
    """Hours, languages, who answers."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
