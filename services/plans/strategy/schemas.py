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
    examples,
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

    model_config = examples(
        {
            "scope": "macro",
            "category": "policy",
            "description": "US de minimis threshold for parcels under review",
            "impact": -3,
        }
    )

    scope: Literal["macro", "micro"]
    """`macro` (society, economy, technology, policy) or `micro` (market, competitors, suppliers)."""
    category: Category
    """The factor's kind within its scope, e.g. `policy` or `competitors`."""
    description: Description
    """What the factor is, e.g. `EU de minimis threshold removed in 2027`."""
    impact: Annotated[int, Field(ge=-5, le=5)]
    """How strongly it affects the plan, from -5 (very harmful) to 5 (very helpful)."""
    override_reason: OverrideReason = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""


class FactorPatch(Schema):
    """Changes to an environment factor; fields left out stay as they are."""

    model_config = examples({"impact": -4, "override_reason": "Q2 review: the threshold was lowered"})

    scope: Literal["macro", "micro"] | None = None
    """`macro` or `micro`. Leave it out to keep the current value."""
    category: Category | None = None
    """A new category. Leave it out to keep the current value."""
    description: Description | None = None
    """A new description. Leave it out to keep the current value."""
    impact: Annotated[int, Field(ge=-5, le=5)] | None = None
    """A new impact from -5 to 5. Leave it out to keep the current value."""
    override_reason: OverrideReason = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""


class FactorOut(Out):
    """An environment factor of the plan."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    scope: str
    """`macro` or `micro`."""
    category: str
    """The factor's kind within its scope."""
    description: str
    """What the factor is."""
    impact: int
    """From -5 (very harmful) to 5 (very helpful)."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


class SwotItemIn(Schema):
    """One item of the SWOT matrix: its quadrant, what it says, its weight (0-1) and optionally the environment factor
    it comes from."""

    model_config = examples(
        {"quadrant": "strength", "description": "In-house QC lab cuts returns to 2 %", "weight": "0.7"}
    )

    quadrant: Quadrant
    """`strength` or `weakness` (internal), `opportunity` or `threat` (external)."""
    description: Description
    """The item, e.g. `In-house QC lab` or `Rising freight rates`."""
    weight: Weight
    """How much it counts, from 0 to 1."""
    factor_id: Id | None = None
    """The environment factor this item comes from, if any."""
    override_reason: OverrideReason = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""


class SwotItemPatch(Schema):
    """Changes to a SWOT item; fields left out stay as they are."""

    model_config = examples({"weight": "0.8"})

    quadrant: Quadrant | None = None
    """A new quadrant (strength, weakness, opportunity or threat). Leave it out to keep the current value."""
    description: Description | None = None
    """A new wording of the item. Leave it out to keep the current value."""
    weight: Weight | None = None
    """A new weight from 0 to 1. Leave it out to keep the current value."""
    factor_id: Id | None = None
    """A new source factor. Leave it out to keep the current value."""
    override_reason: OverrideReason = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""


class SwotItemOut(Out):
    """A SWOT item of the plan."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    quadrant: Quadrant
    """`strength`, `weakness`, `opportunity` or `threat`."""
    description: str
    """The item."""
    weight: DecimalStr
    """How much it counts, from 0 to 1 (decimal string)."""
    factor_id: str | None
    """The environment factor it comes from; null when none."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


class Pairing(Out):
    """One TOWS strategy option: an internal item paired with an external one; score = product of weights."""

    internal: SwotItemOut
    """The strength or weakness."""
    external: SwotItemOut
    """The opportunity or threat."""
    score: DecimalStr
    """The pair's weight: the product of the two items' weights (decimal string)."""


_ALIAS = "deprecated alias of `quadrants.{}` (the name items use in `quadrant`); same items"


class SwotQuadrants(Out):
    """The SWOT items of each quadrant, named as the items' `quadrant` values, heaviest first."""

    strength: list[SwotItemOut]
    """The strengths, heaviest first."""
    weakness: list[SwotItemOut]
    """The weaknesses, heaviest first."""
    opportunity: list[SwotItemOut]
    """The opportunities, heaviest first."""
    threat: list[SwotItemOut]
    """The threats, heaviest first."""


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

    model_config = examples(
        {
            "name": "US home golfers",
            "countries": ["US"],
            "description": "Golfers aged 35–55 with a garage or spare room.",
            "size_estimate": 2400000,
            "growth_rate": "0.06",
            "attractiveness": 8,
            "fit": 7,
        }
    )

    name: Name
    """The segment's name, e.g. `US home golfers`."""
    countries: Countries = Field(min_length=1)
    """The ISO 3166-1 alpha-2 codes of the countries it spans (at least one)."""
    description: LongText = ""
    """Who the segment is, for people."""
    size_estimate: Annotated[int, Field(ge=0, le=10**12)] | None = None
    """How many buyers it holds, as estimated; null when unknown."""
    growth_rate: GrowthRate | None = None
    """Its yearly growth as a fraction (0.06 is 6 %); null when unknown."""
    attractiveness: Score
    """How attractive the segment is, from 0 to 10."""
    fit: Score
    """How well the company can serve it, from 0 to 10."""
    override_reason: OverrideReason = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""


class SegmentPatch(Schema):
    """Changes to a segment; fields left out stay as they are."""

    model_config = examples({"growth_rate": "0.08", "fit": 8})

    name: Name | None = None
    """A new name. Leave it out to keep the current value."""
    countries: Countries | None = None
    """New countries (ISO 3166-1 alpha-2). Leave it out to keep the current value."""
    description: LongText | None = None
    """A new description. Leave it out to keep the current value."""
    size_estimate: Annotated[int, Field(ge=0, le=10**12)] | None = None
    """A new size estimate. Leave it out to keep the current value."""
    growth_rate: GrowthRate | None = None
    """A new yearly growth as a fraction. Leave it out to keep the current value."""
    attractiveness: Score | None = None
    """A new attractiveness from 0 to 10. Leave it out to keep the current value."""
    fit: Score | None = None
    """A new fit from 0 to 10. Leave it out to keep the current value."""
    override_reason: OverrideReason = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""


class SegmentOut(Out):
    """A market segment of the plan."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    name: str
    """The segment's name."""
    countries: list[str]
    """The countries it spans (ISO 3166-1 alpha-2)."""
    description: str
    """Who the segment is."""
    size_estimate: int | None
    """How many buyers it holds; null when unknown."""
    growth_rate: DecimalStr | None
    """Its yearly growth as a fraction (decimal string); null when unknown."""
    attractiveness: int
    """From 0 to 10."""
    fit: int
    """How well the company can serve it, from 0 to 10."""
    targeted: bool
    """True when the plan's targeting includes it."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


class TargetingIn(Schema):
    """The segments the plan targets (replaces the previous choice)."""

    model_config = examples({"segment_ids": ["3f1c9a52-8a3e-4d2b-9a51-0c2f3b4d5e6f"]})

    segment_ids: Annotated[list[Id], Field(max_length=100)]
    """The segments the plan targets (ids of its own segments; at most 100); replaces the previous choice."""
    override_reason: OverrideReason = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""


class TargetingOut(Out):
    """The segments the plan targets."""

    plan_id: str
    """The plan the object belongs to."""
    segment_ids: list[str]
    """The segments the plan targets."""


class PositioningIn(Schema):
    """The brand positioning: the targeted segment it speaks to, the statement, the frame of reference, points of
    difference and reasons to believe."""

    model_config = examples(
        {
            "target_segment_id": "3f1c9a52-8a3e-4d2b-9a51-0c2f3b4d5e6f",
            "statement": "For home golfers who cannot reach a range in winter, our simulator is the only one that fits "
            "a 2.5 m ceiling.",
            "frame_of_reference": "premium indoor golf simulators",
            "points_of_difference": ["fits a 2.5 m ceiling", "ball-flight accuracy within 1 m"],
            "reasons_to_believe": ["tested by 40 PGA coaches"],
        }
    )

    target_segment_id: Id
    """The targeted segment this positioning speaks to."""
    statement: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    """The positioning statement, e.g. `For home golfers who … our simulator is the only one that …`."""
    frame_of_reference: ShortText = ""
    """What the buyer compares the product with, e.g. `premium indoor golf simulators`."""
    points_of_difference: Annotated[list[Point], Field(max_length=20)] = []
    """What sets the product apart (at most 20)."""
    reasons_to_believe: Annotated[list[Point], Field(max_length=20)] = []
    """Why buyers should believe it (at most 20)."""
    override_reason: OverrideReason = None
    """Why the change is made while the plan's strategy is locked; required then (executive or admin), ignored
    otherwise."""


class PositioningOut(Out):
    """The plan's brand positioning."""

    id: str
    """The object's id (a UUID), as used in its path."""
    plan_id: str
    """The plan the object belongs to."""
    target_segment_id: str
    """The segment it speaks to."""
    statement: str
    """The positioning statement."""
    frame_of_reference: str
    """What the buyer compares the product with."""
    points_of_difference: list[str]
    """What sets the product apart."""
    reasons_to_believe: list[str]
    """Why buyers should believe it."""
    updated_at: datetime
    """When the object last changed (RFC 3339, UTC)."""
