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
    rate: Annotated[
        Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=24, decimal_places=12), DecimalText(), DecimalStr
    ] = Field(description="units of the base currency per 1 unit of `currency`, e.g. 0.1387 for CNY→USD")
    as_of: PlanDate
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

    name: Name
    period_start: PlanDate
    period_end: PlanDate
    base_currency: CurrencyCode
    trade_direction: TradeDirection
    description: LongText = ""
    budget: Money | None = None
    min_repurchase_rate: Threshold | None = None
    key: PlanKey | None = Field(None, description="unique in the organisation; `GET /v1/plans?key=` finds it")
    fx_rates: FxRates = Field(default_factory=list)

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

    name: Omittable[Name] = None
    period_start: Omittable[PlanDate] = None
    period_end: Omittable[PlanDate] = None
    base_currency: Omittable[CurrencyCode] = None
    trade_direction: Omittable[TradeDirection] = None
    description: Omittable[LongText] = None
    budget: Money | None = None
    status: PlanStatus | None = Field(None, description="only `archived` (from active); use /activate to activate")
    strategy_locked_until: PlanDate | None = None
    min_repurchase_rate: Threshold | None = None
    override_reason: ShortText | None = None
    fx_rates: Omittable[FxRates] = Field(None, description="replaces the plan's exchange rates")

    @model_validator(mode="after")
    def _rates(self) -> PlanPatch:
        _check_rates(self.fx_rates, None)
        return self


class ActivateIn(Schema):
    """Optionally, the date until which the strategic layer stays locked once the plan is active."""

    strategy_locked_until: PlanDate | None = Field(None, description="default: the period end")


class PlanOut(Out):
    """A marketing plan: its period, currency, trade direction, status (draft, active, archived) and the date its
    strategic layer is locked until."""

    id: str
    org_id: str
    name: str
    period_start: date
    period_end: date
    base_currency: str
    trade_direction: TradeDirection
    description: str
    budget: MoneyOut | None
    status: PlanStatus
    strategy_locked_until: date | None
    activated_at: datetime | None
    min_repurchase_rate: DecimalStr | None = None
    key: str | None
    fx_rates: list[FxRate]
    created_at: datetime
    updated_at: datetime


class Finding(Out):
    """One thing a plan lacks or gets wrong before it can be activated, with how serious it is and what it refers to."""

    code: str
    severity: Severity
    message: str
    ref: dict[str, str]


class HealthOut(Out):
    """Whether the plan is ready to be activated, and the findings that stand in the way."""

    ready: bool
    findings: list[Finding]


class AuditOut(Out):
    """One change to the plan: who changed what and when, the values before and after, and the override reason."""

    id: str
    plan_id: str
    created_at: datetime
    actor: str
    actor_role: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    override: bool
