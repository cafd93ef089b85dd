from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from services.plans.kit import MoneyOut
from shared.schemas import CurrencyCode, IsoDate, LongText, Money, Name, Omittable, Out, Schema, ShortText

PlanStatus = Literal["draft", "active", "archived"]
TradeDirection = Literal["export", "import"]
Severity = Literal["error", "warning"]

#: a plan period and a strategy lock stay within these years
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
PlanDate = Annotated[IsoDate, Field(ge=EARLIEST, le=LATEST)]


class PlanCreate(Schema):
    """A new marketing plan for a period, in a base currency, for export or import trade."""

    name: Name
    period_start: PlanDate
    period_end: PlanDate
    base_currency: CurrencyCode
    trade_direction: TradeDirection
    description: LongText = ""
    budget: Money | None = None

    @model_validator(mode="after")
    def _period_and_budget(self) -> PlanCreate:
        if self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
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
    override_reason: ShortText | None = None


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
