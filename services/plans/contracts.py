"""The events plans publishes (docs/events.md), as the models its consumers import: the only module of plans
another service may import besides :mod:`services.plans.client`. It imports nothing of plans itself."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import StringConstraints

from shared.events.contracts import Event, Id, IsoDateTime, Part
from shared.schemas import DecimalStr


class PlansEvent(Event):
    publisher: ClassVar[str] = "plans"


class PlanActivated(PlansEvent):
    type: ClassVar[str] = "plan.activated"

    plan_id: Id
    name: str | None = None
    strategy_locked_until: date | None = None


class SbuCreated(PlansEvent):
    """An SBU came to life (created or derived from another)."""

    type: ClassVar[str] = "sbu.created"

    sbu_id: Id
    plan_id: str | None = None
    status: str | None = None
    customer_id: str | None = None
    channel_id: str | None = None
    product_id: str | None = None
    derived_from: str | None = None


class SbuRetired(SbuCreated):
    """An SBU was retired for good (campaigns pause its running campaigns)."""

    type: ClassVar[str] = "sbu.retired"

    reason: str | None = None


class TierSpend(Part):
    amount: DecimalStr
    currency: Annotated[str, StringConstraints(max_length=3)]


class MembershipTierChanged(PlansEvent):
    """A membership tier with everything needed to apply it (never the benefits' text); the receiver keeps the
    newest ``changed_at``, so a late delivery of an older version changes nothing."""

    tier_id: Id
    plan_id: Id
    name: str | None = None
    level: int
    min_orders: int | None = None
    min_spend: TierSpend | None = None
    window_days: int | None = None
    changed_at: IsoDateTime


class MembershipTierCreated(MembershipTierChanged):
    type: ClassVar[str] = "membership_tier.created"


class MembershipTierUpdated(MembershipTierChanged):
    type: ClassVar[str] = "membership_tier.updated"


class MembershipTierDeleted(MembershipTierChanged):
    type: ClassVar[str] = "membership_tier.deleted"


#: every event plans publishes
EVENTS: tuple[type[PlansEvent], ...] = (
    PlanActivated,
    SbuCreated,
    SbuRetired,
    MembershipTierCreated,
    MembershipTierUpdated,
    MembershipTierDeleted,
)
