from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.campaigns.campaigns.schemas import VariantKey
from shared.schemas import DecimalStr, DecimalText, Name, Out, Ratio, Schema, examples

Metric = Literal["conversion_rate", "ctr", "open_rate"]
Method = Literal["frequentist", "bayesian", "sequential"]
Decision = Literal["insufficient_data", "srm", "winner", "no_winner"]


class VariantIn(Schema):
    key: VariantKey
    """The variant's key, as metric rows name it (the first variant is the control)."""
    weight: Annotated[Decimal, Field(gt=0, le=1000, max_digits=10, decimal_places=6), DecimalText()]
    """Its share of the traffic, relative to the others (1 and 1 is an even split)."""


class PriorIn(Schema):
    """A Gaussian prior on the relative lift (0.3 = a 30% lift is one standard deviation away)."""

    mean: Annotated[Decimal, Field(ge=-10, le=10, max_digits=8, decimal_places=4), DecimalText()] = Decimal("0")
    """The prior's mean relative lift (0: no lift expected)."""
    sd: Annotated[Decimal, Field(gt=0, le=10, max_digits=8, decimal_places=4), DecimalText()] = Decimal("0.3")
    """The prior's standard deviation of the relative lift (0.3: lifts beyond ±30 % are unusual)."""


class ExperimentIn(Schema):
    """An A/B experiment on the campaign: the metric, the variants and their weights (the first is the control), and
    the statistical method."""

    model_config = examples(
        {
            "name": "Hero image A/B",
            "metric": "conversion_rate",
            "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}],
            "alpha": "0.05",
            "method": "sequential",
        }
    )

    name: Name
    """The experiment's name, e.g. `Hero image A/B`."""
    metric: Metric
    """What it compares: `conversion_rate` (conversions / clicks), `ctr` (clicks / impressions) or `open_rate`
    (opens / sends)."""
    variants: Annotated[list[VariantIn], Field(min_length=2, max_length=10, description="the first is the control")]
    alpha: Annotated[Decimal, Field(gt=0, le=Decimal("0.2"), max_digits=6, decimal_places=4), DecimalText()] = Decimal(
        "0.05"
    )
    """The false-positive rate accepted (0 < α ≤ 0.2; default 0.05)."""
    method: Method = "frequentist"
    """`frequentist` (Welch, read once), `sequential` (safe to read any time) or `bayesian`."""
    min_sample: Annotated[
        int, Field(ge=1, le=10**9, description="exposures per arm (impressions; sends for open_rate)")
    ] = 150
    min_conversions: Annotated[
        int, Field(ge=1, le=10**9, description="successes of the metric per arm (conversions, clicks, opens)")
    ] = 10
    prior: PriorIn = Field(default_factory=PriorIn)
    """The Gaussian prior on the relative lift (bayesian only; default N(0, 0.3²))."""
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
    """The variant's key."""
    weight: DecimalStr
    """Its share of the traffic, relative to the others (decimal string)."""


class PriorOut(Out):
    mean: Ratio
    """The prior's mean relative lift (decimal string)."""
    sd: Ratio
    """The prior's standard deviation (decimal string)."""


class CountsOut(Out):
    """What one arm had when a decision was recorded."""

    key: str
    """The arm's variant key."""
    exposures: int
    """Its exposures (impressions, or sends for `open_rate`)."""
    n: int
    """Units of the rate (clicks, impressions or sends)."""
    conversions: int
    """Successes of the metric."""


class ExperimentOut(Out):
    id: str
    """The object's id (a UUID), as used in its path."""
    campaign_id: str
    """The campaign whose variants it compares."""
    name: str
    """The experiment's name."""
    metric: Metric
    """`conversion_rate`, `ctr` or `open_rate`."""
    variants: list[VariantOut]
    """Its variants, the control first."""
    alpha: DecimalStr
    """The false-positive rate accepted (decimal string)."""
    method: Method
    """`frequentist`, `sequential` or `bayesian`."""
    min_sample: int
    """Exposures each arm needs before a decision (default 150)."""
    min_conversions: int
    """Successes each arm needs before a decision (default 10)."""
    prior: PriorOut
    """The prior on the relative lift (bayesian)."""
    sequential_tuning: int
    """N*, the total sample at which the sequential interval is tightest (default 5,000)."""
    loss_threshold: DecimalStr
    """The expected loss below which a bayesian winner may be called (decimal string)."""
    #: the last decision recorded by ``POST …/decision`` (winner, no_winner, srm); None until then
    decision: str | None
    """The last decision recorded by `POST …/decision` (`winner`, `no_winner`, `srm`); null until then."""
    winner: str | None
    """The winning variant's key; null when none."""
    decided_at: datetime | None
    """When the decision was recorded; null until then."""
    decided_by: str | None
    """Who recorded it (the subject of their token); null until then."""
    decided_counts: list[CountsOut] | None
    """The counts per arm the decision saw; null until then."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


class SrmOut(Out):
    p_value: Ratio | None
    """The χ² p-value of the exposures against the planned weights (decimal string); null without exposures."""
    flagged: bool
    """True when p < 0.001: the split is broken and no result can be trusted."""


class RatioOut(Out):
    """A money ratio of one arm over the campaign's days; for a treatment, its difference to the control's."""

    value: Ratio | None
    """The arm's ratio over the campaign's days (decimal string); null without data."""
    ci_low: Ratio | None
    """Its interval's lower end."""
    ci_high: Ratio | None
    """Its interval's upper end."""
    lift: Ratio | None
    """A treatment's difference to the control; null for the control."""
    lift_ci_low: Ratio | None
    """The difference's interval, lower end."""
    lift_ci_high: Ratio | None
    """The difference's interval, upper end."""
    p_value: Ratio | None
    """The difference's p-value; null for the control."""


class VariantResult(Out):
    key: str
    """The variant's key."""
    exposures: int
    """Its exposures (impressions, or sends)."""
    n: int
    """Units of the rate (clicks, impressions or sends)."""
    conversions: int
    """Successes of the metric."""
    rate: Ratio | None
    """Successes / units (decimal string); null without units."""
    lift: Ratio | None
    """The absolute difference of rates to the control; null for the control."""
    ci_low: Ratio | None
    """The absolute lift's interval, lower end."""
    ci_high: Ratio | None
    """The absolute lift's interval, upper end."""
    relative_lift: Ratio | None
    """The lift relative to the control's rate (0.3 is +30 %)."""
    relative_ci_low: Ratio | None
    """The relative lift's interval, lower end."""
    relative_ci_high: Ratio | None
    """The relative lift's interval, upper end."""
    p_value: Ratio | None
    """The p-value the decision uses (Holm-adjusted with several treatments; anytime-valid for `sequential`)."""
    p_value_raw: Ratio | None
    """The p-value before Holm's correction."""
    chance_to_win: Ratio | None
    """The posterior probability that the treatment beats the control; null when no posterior can be computed."""
    expected_loss: Ratio | None
    """What choosing the treatment is expected to lose if it is in fact worse, in the metric's units."""
    expected_loss_relative: Ratio | None
    """The same, in relative-lift units."""
    revenue_per_exposure: RatioOut
    """Revenue per exposure over the campaign's days, with its interval."""
    roas: RatioOut
    """Revenue / cost over the campaign's days, with its interval."""


class AnalysisOut(Out):
    experiment_id: str
    """The experiment analysed."""
    metric: Metric
    """The metric compared."""
    method: Method
    """The method deciding."""
    alpha: Ratio
    """The false-positive rate accepted (decimal string)."""
    min_sample: int
    """Exposures each arm needs."""
    min_conversions: int
    """Successes each arm needs."""
    prior: PriorOut
    """The prior on the relative lift."""
    sequential_tuning: int
    """N* of the sequential method."""
    loss_threshold: Ratio
    """The expected loss a bayesian winner must stay below (decimal string)."""
    currency: str
    """The currency of the money ratios (the campaign's)."""
    decision: Decision
    """`insufficient_data`, `srm`, `winner` or `no_winner`, as of the metric rows now."""
    #: why the decision is ``insufficient_data`` (empty otherwise)
    reasons: list[str]
    """Why the decision is `insufficient_data` (empty otherwise)."""
    srm: SrmOut
    """The sample-ratio check on exposures."""
    variants: list[VariantResult]
    """Each arm's figures, the control first."""
    winner: str | None
    """The winning variant's key; null unless `winner`."""


class PlanOut(Out):
    """How much longer the experiment needs to detect a given lift."""

    experiment_id: str
    """The experiment planned."""
    metric: Metric
    """The metric compared."""
    alpha: Ratio
    """Its false-positive rate (decimal string)."""
    power: Ratio
    """The chance to detect the lift asked for (decimal string)."""
    mde: Ratio
    """The smallest relative lift worth detecting (decimal string; 0.1 is +10 %)."""
    baseline_rate: Ratio | None
    """The control's rate used (so far, or `baseline=`); null when unknown."""
    target_rate: Ratio | None
    """The rate the treatment would have at that lift; null when unknown."""
    sample_per_arm: int | None
    """Units each arm needs for a fixed-horizon test; null without a baseline."""
    smallest_arm: int
    """Units of the smallest arm so far."""
    daily_units_per_arm: Ratio | None
    """Units per day of the slowest arm so far (decimal string); null without days."""
    days_left: int | None
    """Days still needed at that pace; null when unknown."""
