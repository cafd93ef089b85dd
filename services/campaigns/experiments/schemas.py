from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.campaigns.campaigns.schemas import VariantKey
from shared.schemas import DecimalStr, DecimalText, Name, Out, Ratio, Schema

Metric = Literal["conversion_rate", "ctr", "open_rate"]
Method = Literal["frequentist", "bayesian", "sequential"]
Decision = Literal["insufficient_data", "srm", "winner", "no_winner"]


class VariantIn(Schema):
    key: VariantKey
    weight: Annotated[Decimal, Field(gt=0, le=1000, max_digits=10, decimal_places=6), DecimalText()]


class PriorIn(Schema):
    """A Gaussian prior on the relative lift (0.3 = a 30% lift is one standard deviation away)."""

    mean: Annotated[Decimal, Field(ge=-10, le=10, max_digits=8, decimal_places=4), DecimalText()] = Decimal("0")
    sd: Annotated[Decimal, Field(gt=0, le=10, max_digits=8, decimal_places=4), DecimalText()] = Decimal("0.3")


class ExperimentIn(Schema):
    """An A/B experiment on the campaign: the metric, the variants and their weights (the first is the control), and
    the statistical method."""

    name: Name
    metric: Metric
    variants: Annotated[list[VariantIn], Field(min_length=2, max_length=10, description="the first is the control")]
    alpha: Annotated[Decimal, Field(gt=0, le=Decimal("0.2"), max_digits=6, decimal_places=4), DecimalText()] = Decimal(
        "0.05"
    )
    method: Method = "frequentist"
    min_sample: Annotated[
        int, Field(ge=1, le=10**9, description="exposures per arm (impressions; sends for open_rate)")
    ] = 150
    min_conversions: Annotated[
        int, Field(ge=1, le=10**9, description="successes of the metric per arm (conversions, clicks, opens)")
    ] = 10
    prior: PriorIn = Field(default_factory=PriorIn)
    sequential_tuning: Annotated[
        int, Field(ge=10, le=10**10, description="N*: the total sample (two arms) where a sequential test is tightest")
    ] = 5000
    loss_threshold: Annotated[
        Decimal,
        Field(
            gt=0,
            le=1,
            max_digits=10,
            decimal_places=8,
            description="the largest expected loss a Bayesian winner may carry, in the metric's units "
            "(0.001 = a tenth of a percentage point of the rate)",
        ),
        DecimalText(),
    ] = Decimal("0.001")

    @model_validator(mode="after")
    def _unique_keys(self) -> ExperimentIn:
        keys = [v.key for v in self.variants]
        if len(set(keys)) != len(keys):
            raise ValueError("variant keys must be unique")
        return self


class VariantOut(Out):
    key: str
    weight: DecimalStr


class PriorOut(Out):
    mean: Ratio
    sd: Ratio


class CountsOut(Out):
    """What one arm had when a decision was recorded."""

    key: str
    exposures: int
    n: int
    conversions: int


class ExperimentOut(Out):
    id: str
    campaign_id: str
    name: str
    metric: Metric
    variants: list[VariantOut]
    alpha: DecimalStr
    method: Method
    min_sample: int
    min_conversions: int
    prior: PriorOut
    sequential_tuning: int
    loss_threshold: DecimalStr
    #: the last decision recorded by ``POST …/decision`` (winner, no_winner, srm); None until then
    decision: str | None
    winner: str | None
    decided_at: datetime | None
    decided_by: str | None
    decided_counts: list[CountsOut] | None
    created_at: datetime


class SrmOut(Out):
    p_value: Ratio | None
    flagged: bool


class RatioOut(Out):
    """A money ratio of one arm over the campaign's days; for a treatment, its difference to the control's."""

    value: Ratio | None
    ci_low: Ratio | None
    ci_high: Ratio | None
    lift: Ratio | None
    lift_ci_low: Ratio | None
    lift_ci_high: Ratio | None
    p_value: Ratio | None


class VariantResult(Out):
    key: str
    exposures: int
    n: int
    conversions: int
    rate: Ratio | None
    lift: Ratio | None
    ci_low: Ratio | None
    ci_high: Ratio | None
    relative_lift: Ratio | None
    relative_ci_low: Ratio | None
    relative_ci_high: Ratio | None
    p_value: Ratio | None
    p_value_raw: Ratio | None
    chance_to_win: Ratio | None
    expected_loss: Ratio | None
    expected_loss_relative: Ratio | None
    revenue_per_exposure: RatioOut
    roas: RatioOut


class AnalysisOut(Out):
    experiment_id: str
    metric: Metric
    method: Method
    alpha: Ratio
    min_sample: int
    min_conversions: int
    prior: PriorOut
    sequential_tuning: int
    loss_threshold: Ratio
    currency: str
    decision: Decision
    #: why the decision is ``insufficient_data`` (empty otherwise)
    reasons: list[str]
    srm: SrmOut
    variants: list[VariantResult]
    winner: str | None


class PlanOut(Out):
    """How much longer the experiment needs to detect a given lift."""

    experiment_id: str
    metric: Metric
    alpha: Ratio
    power: Ratio
    mde: Ratio
    baseline_rate: Ratio | None
    target_rate: Ratio | None
    sample_per_arm: int | None
    smallest_arm: int
    daily_units_per_arm: Ratio | None
    days_left: int | None
