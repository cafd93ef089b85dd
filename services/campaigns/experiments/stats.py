"""A/B test statistics (RULES.md §4, as GrowthBook documents them). Pure functions over plain numbers.

Per arm a proportion μ = x/n with σ² = μ(1−μ). Against the control: Δ = μT − μC, se² = σC²/nC + σT²/nT,
two-sided Welch t-test with Welch–Satterthwaite ν, CI = Δ ± t(1−α/2, ν)·se, Holm correction across several
treatments. Bayesian with a flat prior: effect ~ N(Δ, se²), chance to win Φ(Δ/se), expected loss
se·φ(Δ/se) − Δ·Φ(−Δ/se). Sample ratio mismatch: χ² goodness of fit against the planned weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import stats

SRM_THRESHOLD = 0.001

Decision = Literal["insufficient_data", "srm", "winner", "no_winner"]


@dataclass(frozen=True)
class Arm:
    key: str
    weight: float
    n: int
    conversions: int

    @property
    def rate(self) -> float | None:
        return self.conversions / self.n if self.n > 0 else None


@dataclass(frozen=True)
class Welch:
    lift: float
    se: float
    df: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class ArmResult:
    key: str
    n: int
    conversions: int
    rate: float | None
    lift: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_value_raw: float | None = None
    chance_to_win: float | None = None
    expected_loss: float | None = None
    significant: bool = False


@dataclass(frozen=True)
class Analysis:
    decision: Decision
    srm_p_value: float | None
    srm_flagged: bool
    arms: list[ArmResult]
    winner: str | None


def check_counts(arms: list[Arm]) -> None:
    for arm in arms:
        if arm.n < 0 or arm.conversions < 0 or arm.conversions > arm.n:
            raise ValueError(f"variant {arm.key!r} has {arm.conversions} conversions out of {arm.n}")


def welch(control: Arm, treatment: Arm, alpha: float = 0.05) -> Welch:
    """Two-sided Welch t-test on two proportions; p and CI are None when the variance is zero or an arm
    has fewer than two units (no test is possible)."""
    mc, mt = control.rate or 0.0, treatment.rate or 0.0
    lift = mt - mc
    if control.n < 2 or treatment.n < 2:
        return Welch(lift, math.nan, None, None, None, None)
    vc, vt = mc * (1 - mc) / control.n, mt * (1 - mt) / treatment.n
    se = math.sqrt(vc + vt)
    if se == 0:
        return Welch(lift, 0.0, None, None, None, None)
    df = (vc + vt) ** 2 / (vc**2 / (control.n - 1) + vt**2 / (treatment.n - 1))
    p = float(2 * stats.t.sf(abs(lift) / se, df))
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return Welch(lift, se, df, p, lift - half, lift + half)


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (None stays None and does not count as a test)."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(tested)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted


def chance_to_win(lift: float, se: float) -> float:
    if se == 0 or math.isnan(se):
        return 1.0 if lift > 0 else 0.0 if lift < 0 else 0.5
    return float(stats.norm.cdf(lift / se))


def expected_loss(lift: float, se: float) -> float:
    """Expected loss (risk) of choosing the treatment: E[max(0, −effect)] with effect ~ N(lift, se²)."""
    if se == 0 or math.isnan(se):
        return max(-lift, 0.0)
    z = lift / se
    return float(se * stats.norm.pdf(z) - lift * stats.norm.cdf(-z))


def srm_p_value(arms: list[Arm]) -> float | None:
    """χ² goodness of fit of the observed units per arm against the planned weights (k−1 degrees of freedom)."""
    total = sum(a.n for a in arms)
    weight_sum = sum(a.weight for a in arms)
    if total == 0 or weight_sum <= 0:
        return None
    expected = [total * a.weight / weight_sum for a in arms]
    return float(stats.chisquare([a.n for a in arms], expected).pvalue)


def _treatment(control: Arm, arm: Arm, alpha: float, p_adjusted: float | None, method: str) -> ArmResult:
    w = welch(control, arm, alpha)
    win = chance_to_win(w.lift, w.se)
    if method == "bayesian":
        significant = win > 1 - alpha
    else:
        significant = p_adjusted is not None and p_adjusted < alpha
    return ArmResult(
        key=arm.key,
        n=arm.n,
        conversions=arm.conversions,
        rate=arm.rate,
        lift=w.lift if arm.n and control.n else None,
        ci_low=w.ci_low,
        ci_high=w.ci_high,
        p_value=p_adjusted,
        p_value_raw=w.p_value,
        chance_to_win=win,
        expected_loss=expected_loss(w.lift, w.se),
        significant=significant,
    )


def decide(
    srm_flagged: bool, arms: list[Arm], treatments: list[ArmResult], min_sample: int
) -> tuple[Decision, str | None]:
    if srm_flagged:
        return "srm", None
    if any(a.n < min_sample for a in arms):
        return "insufficient_data", None
    winners = [t for t in treatments if t.significant and t.lift is not None and t.lift > 0]
    if not winners:
        return "no_winner", None
    return "winner", max(winners, key=lambda t: t.lift or 0.0).key


def analyse(arms: list[Arm], alpha: float = 0.05, min_sample: int = 150, method: str = "frequentist") -> Analysis:
    """The whole analysis; ``arms[0]`` is the control."""
    check_counts(arms)
    control, others = arms[0], arms[1:]
    raw = [welch(control, arm, alpha).p_value for arm in others]
    adjusted = holm(raw) if len(others) > 1 else raw
    treatments = [_treatment(control, arm, alpha, p, method) for arm, p in zip(others, adjusted, strict=True)]
    srm_p = srm_p_value(arms)
    flagged = srm_p is not None and srm_p < SRM_THRESHOLD
    decision, winner = decide(flagged, arms, treatments, min_sample)
    control_result = ArmResult(key=control.key, n=control.n, conversions=control.conversions, rate=control.rate)
    return Analysis(decision, srm_p, flagged, [control_result, *treatments], winner)
