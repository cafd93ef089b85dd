from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import StringConstraints, model_validator

from services.campaigns.money import MoneyOut
from services.campaigns.schema_types import Day
from shared.schemas import NOT_BLANK, DecimalStr, Money, Name, Out, Schema, Trimmed, examples

#: as long as the column that keeps it
Platform = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]


class EventNodeIn(Schema):
    """A platform event (a shopping festival, a sale) campaigns can be planned around, with its dates and budget."""

    model_config = examples(
        {
            "name": "Black Friday 2026",
            "platform": "amazon",
            "starts_on": "2026-11-27",
            "ends_on": "2026-11-30",
            "budget": {"amount": "20000.00", "currency": "USD"},
        }
    )

    name: Name
    """The sales event's name, e.g. `Black Friday 2026`."""
    platform: Platform
    """The platform it runs on, e.g. `amazon`."""
    starts_on: Day
    """Its first day (YYYY-MM-DD)."""
    ends_on: Day
    """Its last day (YYYY-MM-DD)."""
    budget: Money
    """What its campaigns may spend together."""

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventNodeIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class EventNodeOut(Out):
    id: str
    """The object's id (a UUID), as used in its path."""
    name: str
    """The sales event's name."""
    platform: str
    """The platform it runs on."""
    starts_on: date
    """Its first day."""
    ends_on: date
    """Its last day."""
    budget: MoneyOut
    """What its campaigns may spend together."""
    spend: MoneyOut
    """What its campaigns spent so far, in the budget's currency."""
    campaign_count: int
    """How many campaigns belong to it."""
    pacing: DecimalStr | None
    """(spend / budget) ÷ (days elapsed / days) as of the day asked (decimal string): 1 is on pace, above 1
    overspending; null before it starts or with no budget."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


def node_out(node, spend: Decimal, campaign_count: int, pacing: Decimal | None) -> EventNodeOut:  # type: ignore[no-untyped-def]
    return EventNodeOut(
        id=node.id,
        name=node.name,
        platform=node.platform,
        starts_on=node.starts_on,
        ends_on=node.ends_on,
        budget=MoneyOut(amount=node.budget_amount, currency=node.currency),
        spend=MoneyOut(amount=spend, currency=node.currency),
        campaign_count=campaign_count,
        pacing=pacing,
        created_at=node.created_at,
    )
