from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import (
    NOT_BLANK,
    CountryCode,
    DecimalStr,
    DecimalText,
    LongText,
    Name,
    Out,
    Schema,
    ShortText,
    Trimmed,
)

Quadrant = Literal["strength", "weakness", "opportunity", "threat"]
Category = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NOT_BLANK), Trimmed]
Description = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
#: a fraction a year, never a percentage: 0.06 is 6 %; from -1 (the market disappears) to 3 (it quadruples)
GrowthRate = Annotated[
    Decimal,
    Field(
        ge=-1,
        le=3,
        max_digits=9,
        decimal_places=4,
        description="yearly growth as a fraction: 0.06 is 6 % (from -1 to 3; 8 would mean 800 % and is refused)",
    ),
    DecimalText(),
]
Weight = Annotated[
    Decimal,
    Field(ge=0, le=1, max_digits=5, decimal_places=4, description="a fraction from 0 to 1: 0.8 weighs 80 %"),
    DecimalText(),
]
Score = Annotated[int, Field(ge=0, le=10)]
Point = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
OverrideReason = Annotated[
    ShortText | None, Field(description="required while the strategy is locked (executive or admin)")
]


class FactorIn(Schema):
    """An environment factor of the strategic layer: macro (society, economy, technology, policy) or micro (market,
    competitors, suppliers), with its impact from -5 to 5."""

    scope: Literal["macro", "micro"]
    category: Category
    description: Description
    impact: Annotated[int, Field(ge=-5, le=5)]
    override_reason: OverrideReason = None


class FactorPatch(Schema):
    """Changes to an environment factor; fields left out stay as they are."""

    scope: Literal["macro", "micro"] | None = None
    category: Category | None = None
    description: Description | None = None
    impact: Annotated[int, Field(ge=-5, le=5)] | None = None
    override_reason: OverrideReason = None


class FactorOut(Out):
    """An environment factor of the plan."""

    id: str
    plan_id: str
    scope: str
    category: str
    description: str
    impact: int
    created_at: datetime


class SwotItemIn(Schema):
    """One item of the SWOT matrix: its quadrant, what it says, its weight (0-1) and optionally the environment factor
    it comes from."""

    quadrant: Quadrant
    description: Description
    weight: Weight
    factor_id: Id | None = None
    override_reason: OverrideReason = None


class SwotItemPatch(Schema):
    """Changes to a SWOT item; fields left out stay as they are."""

    quadrant: Quadrant | None = None
    description: Description | None = None
    weight: Weight | None = None
    factor_id: Id | None = None
    override_reason: OverrideReason = None


class SwotItemOut(Out):
    """A SWOT item of the plan."""

    id: str
    plan_id: str
    quadrant: Quadrant
    description: str
    weight: DecimalStr
    factor_id: str | None
    created_at: datetime


class Pairing(Out):
    """One TOWS strategy option: an internal item paired with an external one; score = product of weights."""

    internal: SwotItemOut
    external: SwotItemOut
    score: DecimalStr


_ALIAS = "deprecated alias of `quadrants.{}` (the name items use in `quadrant`); same items"


class SwotQuadrants(Out):
    """The SWOT items of each quadrant, named as the items' `quadrant` values, heaviest first."""

    strength: list[SwotItemOut]
    weakness: list[SwotItemOut]
    opportunity: list[SwotItemOut]
    threat: list[SwotItemOut]


class SwotOut(Out):
    """The SWOT matrix by quadrant (heaviest first) and the TOWS pairings of strengths and weaknesses with
    opportunities and threats."""

    quadrants: SwotQuadrants = Field(description="the items by their `quadrant`, heaviest first")
    strengths: list[SwotItemOut] = Field(description=_ALIAS.format("strength"), json_schema_extra={"deprecated": True})
    weaknesses: list[SwotItemOut] = Field(description=_ALIAS.format("weakness"), json_schema_extra={"deprecated": True})
    opportunities: list[SwotItemOut] = Field(
        description=_ALIAS.format("opportunity"), json_schema_extra={"deprecated": True}
    )
    threats: list[SwotItemOut] = Field(description=_ALIAS.format("threat"), json_schema_extra={"deprecated": True})
    so: list[Pairing] = Field(description="strengths × opportunities: use strengths to seize opportunities")
    st: list[Pairing] = Field(description="strengths × threats: use strengths to parry threats")
    wo: list[Pairing] = Field(description="weaknesses × opportunities: overcome weaknesses by opportunities")
    wt: list[Pairing] = Field(description="weaknesses × threats: defend against both")


Countries = Annotated[list[CountryCode], Field(max_length=250)]


class SegmentIn(Schema):
    """A market segment: the countries it covers, its size, growth, attractiveness and fit (0-10)."""

    name: Name
    countries: Countries = Field(min_length=1)
    description: LongText = ""
    size_estimate: Annotated[int, Field(ge=0, le=10**12)] | None = None
    growth_rate: GrowthRate | None = None
    attractiveness: Score
    fit: Score
    override_reason: OverrideReason = None


class SegmentPatch(Schema):
    """Changes to a segment; fields left out stay as they are."""

    name: Name | None = None
    countries: Countries | None = None
    description: LongText | None = None
    size_estimate: Annotated[int, Field(ge=0, le=10**12)] | None = None
    growth_rate: GrowthRate | None = None
    attractiveness: Score | None = None
    fit: Score | None = None
    override_reason: OverrideReason = None


class SegmentOut(Out):
    """A market segment of the plan."""

    id: str
    plan_id: str
    name: str
    countries: list[str]
    description: str
    size_estimate: int | None
    growth_rate: DecimalStr | None
    attractiveness: int
    fit: int
    targeted: bool
    created_at: datetime


class TargetingIn(Schema):
    """The segments the plan targets (replaces the previous choice)."""

    segment_ids: Annotated[list[Id], Field(max_length=100)]
    override_reason: OverrideReason = None


class TargetingOut(Out):
    """The segments the plan targets."""

    plan_id: str
    segment_ids: list[str]


class PositioningIn(Schema):
    """The brand positioning: the targeted segment it speaks to, the statement, the frame of reference, points of
    difference and reasons to believe."""

    target_segment_id: Id
    statement: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    frame_of_reference: ShortText = ""
    points_of_difference: Annotated[list[Point], Field(max_length=20)] = []
    reasons_to_believe: Annotated[list[Point], Field(max_length=20)] = []
    override_reason: OverrideReason = None


class PositioningOut(Out):
    """The plan's brand positioning."""

    id: str
    plan_id: str
    target_segment_id: str
    statement: str
    frame_of_reference: str
    points_of_difference: list[str]
    reasons_to_believe: list[str]
    updated_at: datetime
