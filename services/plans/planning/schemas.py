from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.money import MoneyOut
from shared.schemas import (
    CurrencyCode,
    DecimalStr,
    DecimalText,
    IsoDate,
    LongText,
    Money,
    Name,
    Omittable,
    Out,
    Schema,
    ShortText,
    examples,
)

PlanStatus = Literal["draft", "active", "archived"]
TradeDirection = Literal["export", "import"]
Severity = Literal["error", "warning"]

#: a plan period and a strategy lock stay within these years
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
PlanDate = Annotated[IsoDate, Field(ge=EARLIEST, le=LATEST)]
#: the repurchase rate below which readiness warns (0–1)
Threshold = Annotated[
    Decimal,
    Field(ge=0, le=1, max_digits=5, decimal_places=4, description="readiness warns when the computed "
          "repurchase rate from the orders customs released falls below this"),
    DecimalText(),
]  # fmt: skip
#: what a script names a plan by, so importing the same file twice finds the plan made the first time
PlanKey = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
MAX_FX_RATES = 50


class FxRate(Schema):
    """How many units of the plan's base currency one unit of ``currency`` is worth, as of a date, and whose
    figure it is. Conversions across currencies (SBU spend against budget, ROAS, margins, price ceilings, the
    report) use these and name the rate they used."""

    currency: CurrencyCode
    """The currency the rate converts from (ISO 4217), never the plan's base currency."""
    rate: Annotated[
        Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=24, decimal_places=12), DecimalText(), DecimalStr
    ] = Field(description="units of the base currency per 1 unit of `currency`, e.g. 0.1387 for CNY→USD")
    as_of: PlanDate
    """The day the rate was quoted (YYYY-MM-DD); the report flags rates that have grown old."""
    source: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")] = Field(
        description="where the rate comes from, e.g. `PBOC central parity` or `treasury desk`"
    )


FxRates = Annotated[list[FxRate], Field(max_length=MAX_FX_RATES)]


def _check_rates(rates: list[FxRate] | None, base: str | None) -> None:
    if not rates:
        return
    currencies = [r.currency for r in rates]
    if len(set(currencies)) != len(currencies):
        raise ValueError("fx_rates names a currency twice; keep one rate per currency")
    if base is not None and base in currencies:
        raise ValueError(f"fx_rates needs no rate for the base currency {base}")


class PlanCreate(Schema):
    """A new marketing plan for a period, in a base currency, for export or import trade."""

    model_config = examples(
        {
            "name": "2027 North America export",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "base_currency": "USD",
            "trade_direction": "export",
            "description": "Grow home golf simulators on Amazon US and our own site.",
            "budget": {"amount": "250000.00", "currency": "USD"},
            "min_repurchase_rate": "0.25",
            "fx_rates": [{"currency": "CNY", "rate": "0.1387", "as_of": "2026-12-15", "source": "PBOC central parity"}],
        }
    )

    name: Name
    """The plan's name, e.g. `2027 North America export` (1–200 characters)."""
    period_start: PlanDate
    """The first day the plan covers (YYYY-MM-DD)."""
    period_end: PlanDate
    """The last day the plan covers (YYYY-MM-DD), on or after `period_start`."""
    base_currency: CurrencyCode
    """The ISO 4217 currency the plan's totals and conversions are in, e.g. `USD`."""
    trade_direction: TradeDirection
    """`export` (selling abroad from China) or `import` (cross-border imports into China): decides the customs
    messages."""
    description: LongText = ""
    """Free text for people: the plan's aim, context, owners."""
    budget: Money | None = None
    """The plan's whole budget; null when not set."""
    min_repurchase_rate: Threshold | None = None
    """The repurchase rate (0–1) below which readiness warns; null for no such check."""
    key: PlanKey | None = Field(None, description="unique in the organisation; `GET /v1/plans?key=` finds it")
    fx_rates: FxRates = Field(default_factory=list)
    """Exchange rates to the base currency, one per other currency the plan uses (at most 50)."""

    @model_validator(mode="after")
    def _period_and_budget(self) -> PlanCreate:
        if self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
        _check_rates(self.fx_rates, self.base_currency)
        if self.budget is not None and self.budget.currency != self.base_currency:
            raise ValueError("budget must be in the plan's base currency")
        return self


class PlanPatch(Schema):
    """Fields left out stay as they are; those every plan has cannot be set to null (422)."""

    model_config = examples(
        {
            "description": "Grow home golf simulators on Amazon US, TikTok Shop and our own site.",
            "budget": {"amount": "280000.00", "currency": "USD"},
        }
    )

    name: Omittable[Name] = None
    """A new name. Leave it out to keep the current value."""
    period_start: Omittable[PlanDate] = None
    """A new first day. Leave it out to keep the current value."""
    period_end: Omittable[PlanDate] = None
    """A new last day. Leave it out to keep the current value."""
    base_currency: Omittable[CurrencyCode] = None
    """A new base currency (ISO 4217). Leave it out to keep the current value."""
    trade_direction: Omittable[TradeDirection] = None
    """`export` or `import`. Leave it out to keep the current value."""
    description: Omittable[LongText] = None
    """A new description. Leave it out to keep the current value."""
    budget: Money | None = None
    """A new budget; null removes it. Leave it out to keep the current value."""
    status: PlanStatus | None = Field(None, description="only `archived` (from active); use /activate to activate")
    strategy_locked_until: PlanDate | None = None
    """Until this day the strategic layer (factors, SWOT, segments, targeting, positioning) changes only with an
    override reason."""
    min_repurchase_rate: Threshold | None = None
    """A new readiness threshold (0–1); null removes it. Leave it out to keep the current value."""
    override_reason: ShortText | None = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""
    fx_rates: Omittable[FxRates] = Field(None, description="replaces the plan's exchange rates")

    @model_validator(mode="after")
    def _rates(self) -> PlanPatch:
        _check_rates(self.fx_rates, None)
        return self


class ActivateIn(Schema):
    """Optionally, the date until which the strategic layer stays locked once the plan is active."""

    model_config = examples({"strategy_locked_until": "2027-06-30"})

    strategy_locked_until: PlanDate | None = Field(None, description="default: the period end")


class PlanOut(Out):
    """A marketing plan: its period, currency, trade direction, status (draft, active, archived) and the date its
    strategic layer is locked until."""

    id: str
    """The object's id (a UUID), as used in its path."""
    org_id: str
    """The organisation the object belongs to (the caller's own)."""
    name: str
    """The plan's name."""
    period_start: date
    """The first day the plan covers."""
    period_end: date
    """The last day the plan covers."""
    base_currency: str
    """The currency of the plan's totals and conversions (ISO 4217)."""
    trade_direction: TradeDirection
    """`export` or `import`."""
    description: str
    """Free text for people."""
    budget: MoneyOut | None
    """The plan's whole budget; null when not set."""
    status: PlanStatus
    """`draft` (being written), `active` (activated: campaigns run against it) or `archived`."""
    strategy_locked_until: date | None
    """Until this day the strategic layer changes only with an override reason; null when not locked."""
    activated_at: datetime | None
    """When the plan was activated; null while a draft."""
    min_repurchase_rate: DecimalStr | None = None
    """The repurchase rate below which readiness warns; null when not set."""
    key: str | None
    """The name a script gave the plan (`xbm plan import`), so importing the same file again finds it; null for
    plans made by hand."""
    fx_rates: list[FxRate]
    """Exchange rates to the base currency the plan converts with."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
    updated_at: datetime
    """When the object last changed (RFC 3339, UTC)."""


class Finding(Out):
    """One thing a plan lacks or gets wrong before it can be activated, with how serious it is and what it refers to."""

    code: str
    """A stable code for the finding, e.g. `swot_quadrant_empty` or `no_targeting`."""
    severity: Severity
    """`error` blocks activation; `warning` does not."""
    message: str
    """What is missing or wrong, in words for people."""
    ref: dict[str, str]
    """What the finding is about: `{"type": "plan", "id": "…"}`, or another object (an SBU …) by type and id."""


class HealthOut(Out):
    """Whether the plan is ready to be activated, and the findings that stand in the way."""

    ready: bool
    """True when no finding is an error: the plan can be activated."""
    findings: list[Finding]
    """Everything that stands in the way or deserves a look."""


class AuditOut(Out):
    """One change to the plan: who changed what and when, the values before and after, and the override reason."""

    id: str
    """The audit entry's id."""
    plan_id: str
    """The plan the object belongs to."""
    created_at: datetime
    """When the change was made (RFC 3339, UTC)."""
    actor: str
    """Who made the change: the subject of their token (the id of the API key it was issued for)."""
    actor_role: str
    """The role the change was made with."""
    action: str
    """What was done: `create`, `update`, `delete`, `activate` …"""
    entity: str
    """The kind of object changed, e.g. `swot_item`."""
    entity_id: str
    """The id of the object changed."""
    before: dict[str, Any] | None
    """Its fields before the change; null for a creation."""
    after: dict[str, Any] | None
    """Its fields after the change; null for a deletion."""
    reason: str | None
    """The override reason given; null when none was needed."""
    override: bool
    """True when the change was made through the strategy lock with an override reason."""
