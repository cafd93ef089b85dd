"""A/B test statistics (docs/experiments.md, as GrowthBook's engine computes them). Pure functions over plain numbers.

Per arm a proportion μ = x/n with σ² = μ(1−μ). Against the control:

- absolute effect Δ = μT − μC with se² = σC²/nC + σT²/nT; relative lift Δ/μC with the delta-method variance
  σC²μT²/(μC⁴nC) + σT²/(μC²nT) (shown for reading; decisions stay on the absolute effect);
- ``frequentist``: two-sided Welch t-test (Welch–Satterthwaite ν), CI = Δ ± t(1−α/2, ν)·se;
- ``sequential``: asymptotic confidence sequences (Waudby-Smith et al., the form GrowthBook ships) — valid
  however often the analysis is read, at the price of wider intervals; N* tunes where they are tightest;
- ``bayesian``: a Gaussian prior N(m₀, s₀²) on the relative lift combined with the data's normal likelihood
  (precisions add); chance to win Φ(m/s) and expected loss s·φ(m/s) − m·Φ(−m/s) of the posterior N(m, s²);
- several treatments: Holm's step-down correction (on p-values, and on 1 − chance to win for Bayesian);
- sample ratio mismatch: χ² goodness of fit of the exposures against the planned weights;
- money per variant: revenue per exposure and ROAS as ratio estimators over the campaign's days, with the
  delta method for their variance (each day is one unit, since the rows are daily aggregates).

scipy.special's distribution functions are called directly: scipy.stats' wrappers cost ten times more per call,
which an analysis of many arms (or a Monte Carlo test of many readings) feels.

Over 400 lines on purpose: the three engines share the per-arm helpers and must agree with GrowthBook's to
1e-15; kept in one module, a change to one formula is seen beside the others it must agree with.
"""

# One module, over 400 lines: the statistics engine the docstring below describes, formula by formula; the
# analysis at the end combines them all, and the formulas are checked together against GrowthBook's results.

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from scipy import special

SRM_THRESHOLD = 0.001
SQRT_2PI = math.sqrt(2 * math.pi)

Decision = Literal["insufficient_data", "srm", "winner", "no_winner"]
Method = Literal["frequentist", "bayesian", "sequential"]


@dataclass(frozen=True)
class Day:
    """One day of one arm: what the money ratios are computed from."""

    exposures: float
    revenue: float
    cost: float


@dataclass(frozen=True)
class Arm:
    key: str
    weight: float
    #: units of the metric's rate (clicks for conversion_rate, impressions for ctr, sends for open_rate)
    n: int
    #: successes of the metric (conversions, clicks, opens)
    conversions: int
    #: the units the weights split (impressions; sends for email); the rate's units when not given
    exposures: int | None = None
    days: tuple[Day, ...] = ()

    @property
    def rate(self) -> float | None:
        return self.conversions / self.n if self.n > 0 else None

    @property
    def exposed(self) -> int:
        return self.n if self.exposures is None else self.exposures


@dataclass(frozen=True)
class Settings:
    alpha: float = 0.05
    method: Method = "frequentist"
    min_sample: int = 150
    min_conversions: int = 10
    prior_mean: float = 0.0
    prior_sd: float = 0.3
    sequential_tuning: float = 5000.0
    #: the largest expected loss (metric units) a Bayesian winner may carry
    loss_threshold: float = 0.001


@dataclass(frozen=True)
class Welch:
    lift: float
    se: float
    df: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class Interval:
    estimate: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None = None


@dataclass(frozen=True)
class Posterior:
    mean: float
    sd: float
    chance_to_win: float
    #: expected loss of choosing the treatment, in relative-lift units
    risk: float


@dataclass(frozen=True)
class RatioFigure:
    """A money ratio of one arm (and, for a treatment, its difference to the control's)."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    lift: float | None = None
    lift_ci_low: float | None = None
    lift_ci_high: float | None = None
    p_value: float | None = None


@dataclass(frozen=True)
class ArmResult:
    key: str
    n: int
    conversions: int
    rate: float | None
    exposures: int = 0
    lift: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    relative_lift: float | None = None
    relative_ci_low: float | None = None
    relative_ci_high: float | None = None
    p_value: float | None = None
    p_value_raw: float | None = None
    chance_to_win: float | None = None
    expected_loss: float | None = None
    expected_loss_relative: float | None = None
    revenue_per_exposure: RatioFigure = field(default_factory=lambda: RatioFigure(None))
    roas: RatioFigure = field(default_factory=lambda: RatioFigure(None))
    significant: bool = False


@dataclass(frozen=True)
class Analysis:
    decision: Decision
    srm_p_value: float | None
    srm_flagged: bool
    arms: list[ArmResult]
    winner: str | None
    reasons: list[str] = field(default_factory=list)


def check_counts(arms: Sequence[Arm]) -> None:
    for arm in arms:
        if arm.n < 0 or arm.conversions < 0 or arm.conversions > arm.n or arm.exposed < 0:
            raise ValueError(f"variant {arm.key!r} has {arm.conversions} conversions out of {arm.n}")


def _variance(arm: Arm) -> float:
    rate = arm.rate or 0.0
    return rate * (1 - rate)


def welch_dof(vc: float, nc: int, vt: float, nt: int) -> float:
    """Welch–Satterthwaite degrees of freedom from the per-unit variances."""
    return (vc / nc + vt / nt) ** 2 / ((vc / nc) ** 2 / (nc - 1) + (vt / nt) ** 2 / (nt - 1))


def welch(control: Arm, treatment: Arm, alpha: float = 0.05) -> Welch:
    """Two-sided Welch t-test on two proportions; p and CI are None when the variance is zero or an arm
    has fewer than two units (no test is possible)."""
    mc, mt = control.rate or 0.0, treatment.rate or 0.0
    lift = mt - mc
    if control.n < 2 or treatment.n < 2:
        return Welch(lift, math.nan, None, None, None, None)
    vc, vt = _variance(control), _variance(treatment)
    se = math.sqrt(vc / control.n + vt / treatment.n)
    if se == 0:
        return Welch(lift, 0.0, None, None, None, None)
    df = welch_dof(vc, control.n, vt, treatment.n)
    p = float(2 * special.stdtr(df, -abs(lift) / se))
    half = float(special.stdtrit(df, 1 - alpha / 2)) * se
    return Welch(lift, se, df, p, lift - half, lift + half)


def relative_variance(control: Arm, treatment: Arm) -> float | None:
    """Delta-method variance of (μT − μC)/μC; None when the control's rate is zero (the lift is undefined)."""
    mc, mt = control.rate, treatment.rate
    if not mc or mt is None or control.n < 2 or treatment.n < 2:
        return None
    return _variance(treatment) / (mc**2 * treatment.n) + _variance(control) * mt**2 / (mc**4 * control.n)


def confidence_sequence_half_width(variance: float, n_total: int, alpha: float, tuning: float) -> float:
    """Half-width of the asymptotic confidence sequence for an effect whose estimate has ``variance``
    after ``n_total`` units in both arms (Waudby-Smith et al. eq. 9, ρ chosen for N* = ``tuning``)."""
    rho2 = _rho2(alpha, tuning)
    s2 = variance * n_total
    nr = n_total * rho2 + 1
    return math.sqrt(s2) * math.sqrt(2 * nr * math.log(math.sqrt(nr) / alpha) / (n_total**2 * rho2))


def _rho2(alpha: float, tuning: float) -> float:
    return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning


def sequential_p_value(effect: float, variance: float, n_total: int, alpha: float, tuning: float) -> float:
    """Anytime-valid p-value: the inverse of the mixture e-value, capped at 1."""
    rho2 = _rho2(alpha, tuning)
    st2 = effect**2 * n_total / variance
    nr = n_total * rho2 + 1
    log_evalue = rho2 * st2 / (2 * nr) - 0.5 * math.log(nr)
    # computed in logs: a large effect overflows exp() long before 1/e-value underflows to zero
    return 1.0 if log_evalue <= 0 else math.exp(-log_evalue)


def sequential(control: Arm, treatment: Arm, alpha: float = 0.05, tuning: float = 5000.0) -> Welch:
    """The absolute effect with its confidence sequence and anytime-valid p-value."""
    w = welch(control, treatment, alpha)
    if w.p_value is None:
        return Welch(w.lift, w.se, None, None, None, None)
    n_total = control.n + treatment.n
    half = confidence_sequence_half_width(w.se**2, n_total, alpha, tuning)
    p = sequential_p_value(w.lift, w.se**2, n_total, alpha, tuning)
    return Welch(w.lift, w.se, w.df, p, w.lift - half, w.lift + half)


def relative(control: Arm, treatment: Arm, settings: Settings) -> Interval | None:
    """Relative lift with its delta-method interval (Welch t, or the confidence sequence when sequential)."""
    variance = relative_variance(control, treatment)
    if variance is None or variance <= 0 or _variance(control) == 0 or _variance(treatment) == 0:
        return None
    mc, mt = control.rate or 0.0, treatment.rate or 0.0
    estimate = (mt - mc) / mc
    if settings.method == "sequential":
        n_total = control.n + treatment.n
        half = confidence_sequence_half_width(variance, n_total, settings.alpha, settings.sequential_tuning)
    else:
        df = welch_dof(_variance(control), control.n, _variance(treatment), treatment.n)
        half = float(special.stdtrit(df, 1 - settings.alpha / 2)) * math.sqrt(variance)
    return Interval(estimate, estimate - half, estimate + half)


def posterior(control: Arm, treatment: Arm, prior_mean: float = 0.0, prior_sd: float = 0.3) -> Posterior | None:
    """Posterior of the relative lift under a N(prior_mean, prior_sd²) prior; None where no posterior can be
    formed (a zero-rate control, an arm without units, or zero variance)."""
    variance = relative_variance(control, treatment)
    if variance is None or variance <= 0 or _variance(control) == 0 or _variance(treatment) == 0:
        return None
    mc, mt = control.rate or 0.0, treatment.rate or 0.0
    data_mean = (mt - mc) / mc
    precision = 1 / variance + 1 / prior_sd**2
    mean = (data_mean / variance + prior_mean / prior_sd**2) / precision
    sd = math.sqrt(1 / precision)
    return Posterior(mean, sd, chance_to_win(mean, sd), expected_loss(mean, sd))


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
    return float(special.ndtr(lift / se))


def expected_loss(lift: float, se: float) -> float:
    """Expected loss (risk) of choosing the treatment: E[max(0, −effect)] with effect ~ N(lift, se²)."""
    if se == 0 or math.isnan(se):
        return max(-lift, 0.0)
    z = lift / se
    return float(se * math.exp(-z * z / 2) / SQRT_2PI - lift * special.ndtr(-z))


def srm_p_value(arms: Sequence[Arm]) -> float | None:
    """χ² goodness of fit of the exposures per arm against the planned weights (k−1 degrees of freedom)."""
    total = sum(a.exposed for a in arms)
    weight_sum = sum(a.weight for a in arms)
    if total == 0 or weight_sum <= 0:
        return None
    chi2 = sum((a.exposed - total * a.weight / weight_sum) ** 2 / (total * a.weight / weight_sum) for a in arms)
    return float(special.chdtrc(len(arms) - 1, chi2))


# --- money ratios ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """Σ numerator / Σ denominator over k days, with the delta-method variance of that ratio."""

    value: float
    variance: float | None
    k: int


def ratio(numerators: Sequence[float], denominators: Sequence[float]) -> Ratio | None:
    k = len(numerators)
    total_d = sum(denominators)
    if k == 0 or total_d <= 0:
        return None
    value = sum(numerators) / total_d
    if k < 2:
        return Ratio(value, None, k)
    mean_m, mean_d = sum(numerators) / k, total_d / k
    var_m = sum((m - mean_m) ** 2 for m in numerators) / (k - 1)
    var_d = sum((d - mean_d) ** 2 for d in denominators) / (k - 1)
    cov = sum((m - mean_m) * (d - mean_d) for m, d in zip(numerators, denominators, strict=True)) / (k - 1)
    per_unit = var_m / mean_d**2 - 2 * cov * mean_m / mean_d**3 + mean_m**2 * var_d / mean_d**4
    return Ratio(value, max(per_unit, 0.0) / k, k)


def ratio_figure(control: Ratio | None, arm: Ratio | None, alpha: float, is_control: bool) -> RatioFigure:
    if arm is None:
        return RatioFigure(None)
    low = high = None
    if arm.variance:  # only with two days or more
        half = float(special.stdtrit(arm.k - 1, 1 - alpha / 2)) * math.sqrt(arm.variance)
        low, high = arm.value - half, arm.value + half
    if is_control or control is None:
        return RatioFigure(arm.value, low, high)
    lift = arm.value - control.value
    if not control.variance or not arm.variance:
        return RatioFigure(arm.value, low, high, lift)
    se = math.sqrt(control.variance + arm.variance)
    vc, vt = control.variance, arm.variance
    df = (vc + vt) ** 2 / (vc**2 / (control.k - 1) + vt**2 / (arm.k - 1))
    half = float(special.stdtrit(df, 1 - alpha / 2)) * se
    p = float(2 * special.stdtr(df, -abs(lift) / se))
    return RatioFigure(arm.value, low, high, lift, lift - half, lift + half, p)


def money_ratios(arm: Arm) -> tuple[Ratio | None, Ratio | None]:
    """(revenue per exposure, ROAS) of an arm over its days; ROAS only on days that spent something."""
    per_exposure = ratio([d.revenue for d in arm.days], [d.exposures for d in arm.days])
    roas = ratio([d.revenue for d in arm.days], [d.cost for d in arm.days])
    return per_exposure, roas


# --- the analysis ------------------------------------------------------------------------------------------


def _test(control: Arm, arm: Arm, settings: Settings) -> Welch:
    if settings.method == "sequential":
        return sequential(control, arm, settings.alpha, settings.sequential_tuning)
    return welch(control, arm, settings.alpha)


def _treatment(
    control: Arm, arm: Arm, settings: Settings, p_adjusted: float | None, money: tuple[RatioFigure, RatioFigure]
) -> ArmResult:
    w = _test(control, arm, settings)
    rel = relative(control, arm, settings)
    post = posterior(control, arm, settings.prior_mean, settings.prior_sd)
    both = arm.n > 0 and control.n > 0
    return ArmResult(
        key=arm.key,
        n=arm.n,
        conversions=arm.conversions,
        rate=arm.rate,
        exposures=arm.exposed,
        lift=w.lift if both else None,
        ci_low=w.ci_low,
        ci_high=w.ci_high,
        relative_lift=rel.estimate if rel else None,
        relative_ci_low=rel.ci_low if rel else None,
        relative_ci_high=rel.ci_high if rel else None,
        p_value=p_adjusted,
        p_value_raw=w.p_value,
        chance_to_win=post.chance_to_win if post else None,
        # the relative risk in the metric's units: the control's rate scales relative lift to absolute
        expected_loss=post.risk * (control.rate or 0.0) if post else None,
        expected_loss_relative=post.risk if post else None,
        revenue_per_exposure=money[0],
        roas=money[1],
    )


def guards(arms: Sequence[Arm], settings: Settings) -> list[str]:
    """Why no decision can be made yet (empty when the data are enough to decide on)."""
    reasons = []
    for arm in arms:
        if arm.exposed < settings.min_sample:
            reasons.append(f"variant {arm.key!r} has {arm.exposed} exposures, fewer than {settings.min_sample}")
        if arm.conversions == 0:
            reasons.append(f"variant {arm.key!r} has no conversions: its rate cannot be compared")
        elif arm.conversions < settings.min_conversions:
            reasons.append(
                f"variant {arm.key!r} has {arm.conversions} conversions, fewer than {settings.min_conversions}"
            )
    return reasons


def _significant(results: list[ArmResult], settings: Settings) -> list[bool]:
    if settings.method != "bayesian":
        return [r.p_value is not None and r.p_value < settings.alpha for r in results]
    # Holm on 1 − chance to win keeps the family's chance of a false winner near α with several treatments
    doubts = holm([None if r.chance_to_win is None else 1 - r.chance_to_win for r in results])
    return [
        d is not None and d < settings.alpha and _affordable(r.expected_loss, settings.loss_threshold)
        for r, d in zip(results, doubts, strict=True)
    ]


def _affordable(loss: float | None, threshold: float) -> bool:
    return loss is not None and loss < threshold


def analyse(arms: list[Arm], settings: Settings | None = None) -> Analysis:
    """The whole analysis; ``arms[0]`` is the control."""
    settings = settings or Settings()
    check_counts(arms)
    control, others = arms[0], arms[1:]
    raw = [_test(control, arm, settings).p_value for arm in others]
    adjusted = holm(raw) if len(others) > 1 else raw
    ratios = [money_ratios(arm) for arm in arms]
    money = [
        (
            ratio_figure(ratios[0][0], r[0], settings.alpha, i == 0),
            ratio_figure(ratios[0][1], r[1], settings.alpha, i == 0),
        )
        for i, r in enumerate(ratios)
    ]
    treatments = [
        _treatment(control, arm, settings, p, m) for arm, p, m in zip(others, adjusted, money[1:], strict=True)
    ]
    flags = _significant(treatments, settings)
    treatments = [_mark(t, s) for t, s in zip(treatments, flags, strict=True)]
    srm_p = srm_p_value(arms)
    flagged = srm_p is not None and srm_p < SRM_THRESHOLD
    reasons = guards(arms, settings)
    decision, winner = decide(flagged, reasons, treatments)
    control_result = ArmResult(
        key=control.key,
        n=control.n,
        conversions=control.conversions,
        rate=control.rate,
        exposures=control.exposed,
        revenue_per_exposure=money[0][0],
        roas=money[0][1],
    )
    return Analysis(decision, srm_p, flagged, [control_result, *treatments], winner, reasons)


def _mark(result: ArmResult, significant: bool) -> ArmResult:
    return replace(result, significant=significant)


def decide(srm_flagged: bool, reasons: list[str], treatments: list[ArmResult]) -> tuple[Decision, str | None]:
    if srm_flagged:
        return "srm", None
    if reasons:
        return "insufficient_data", None
    winners = [t for t in treatments if t.significant and t.lift is not None and t.lift > 0]
    if not winners:
        return "no_winner", None
    return "winner", max(winners, key=lambda t: t.lift or 0.0).key


# --- planning ----------------------------------------------------------------------------------------------


def sample_per_arm(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Units per arm to detect a relative lift ``mde`` on a rate ``baseline`` with a two-sided test at α and
    the given power: n = (z₁₋α/₂ + z₁₋β)²·[p₁(1−p₁) + p₂(1−p₂)]/(p₁ − p₂)²."""
    p1 = baseline
    p2 = baseline * (1 + mde)
    if not 0 < p1 < 1 or not 0 < p2 < 1 or p1 == p2:
        return None
    z = float(special.ndtri(1 - alpha / 2) + special.ndtri(power))
    gap = (p1 - p2) ** 2
    n = z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / gap if gap > 0 else math.inf
    return math.ceil(n) if math.isfinite(n) else None  # a lift too small for any sample to show
