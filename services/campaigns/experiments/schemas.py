from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.campaigns.campaigns.schemas import VariantKey
from shared.schemas import DecimalStr, DecimalText, Name, Out, Schema

Metric = Literal["conversion_rate", "ctr", "open_rate"]
Method = Literal["frequentist", "bayesian"]


class VariantIn(Schema):
    key: VariantKey
    weight: Annotated[Decimal, Field(gt=0, le=1000, max_digits=10, decimal_places=6), DecimalText()]


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
    min_sample: Annotated[int, Field(ge=1, le=10**9)] = 150

    @model_validator(mode="after")
    def _unique_keys(self) -> ExperimentIn:
        keys = [v.key for v in self.variants]
        if len(set(keys)) != len(keys):
            raise ValueError("variant keys must be unique")
        return self


class VariantOut(Out):
    key: str
    weight: DecimalStr


class ExperimentOut(Out):
    id: str
    campaign_id: str
    name: str
    metric: Metric
    variants: list[VariantOut]
    alpha: DecimalStr
    method: Method
    min_sample: int
    decision: str | None
    winner: str | None
    decided_at: datetime | None
    created_at: datetime


class SrmOut(Out):
    p_value: float | None
    flagged: bool


class VariantResult(Out):
    key: str
    n: int
    conversions: int
    rate: float | None
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_value_raw: float | None
    chance_to_win: float | None
    expected_loss: float | None


class AnalysisOut(Out):
    experiment_id: str
    metric: Metric
    method: Method
    alpha: float
    min_sample: int
    decision: Literal["insufficient_data", "srm", "winner", "no_winner"]
    srm: SrmOut
    variants: list[VariantResult]
    winner: str | None
