from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import StringConstraints, model_validator

from services.campaigns.money import MoneyOut
from services.campaigns.schema_types import Day
from shared.schemas import NOT_BLANK, DecimalStr, Money, Name, Out, Schema, Trimmed

#: as long as the column that keeps it
Platform = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]


class EventNodeIn(Schema):
    """A platform event (a shopping festival, a sale) campaigns can be planned around, with its dates and budget."""

    name: Name
    platform: Platform
    starts_on: Day
    ends_on: Day
    budget: Money

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventNodeIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class EventNodeOut(Out):
    id: str
    name: str
    platform: str
    starts_on: date
    ends_on: date
    budget: MoneyOut
    spend: MoneyOut
    campaign_count: int
    pacing: DecimalStr | None
    created_at: datetime


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
