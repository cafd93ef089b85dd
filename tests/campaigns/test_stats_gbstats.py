"""XBM's experiment statistics against GrowthBook's engine (``gbstats``), run side by side on the same counts:
sequential p-values and confidence sequences, relative lift with its delta-method interval, and chance to win
and risk under the prior — plus GrowthBook's own published worked examples of the sequential test."""

from __future__ import annotations

import math

import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import FrequentistConfig, SequentialConfig, SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, RatioStatistic, SampleMeanStatistic
from hypothesis import given, settings
from hypothesis import strategies as st

from services.campaigns.experiments.stats import (
    Arm,
    Day,
    Settings,
    analyse,
    chance_to_win,
    confidence_sequence_half_width,
    ratio,
    ratio_figure,
    sequential_p_value,
    welch,
)

TOL = 1e-6

#: (units, conversions) per arm, the control first
DATASETS: dict[str, list[tuple[int, int]]] = {
    "even 10% vs 13%": [(1000, 100), (1000, 130)],
    "small n, 8 vs 16": [(100, 8), (100, 16)],
    "tiny n": [(40, 3), (35, 9)],
    "GrowthBook's example, unequal": [(3000, 1396), (3461, 2422)],
    "rates near 0": [(20000, 12), (19500, 25)],
    "rates near 1": [(5000, 4990), (5100, 5096)],
    "split 1:4": [(800, 40), (3200, 190)],
    "negative effect": [(150, 30), (160, 22)],
    "three variants": [(4000, 400), (4000, 470), (4000, 520)],
    "four variants, one worse": [(2500, 250), (2400, 260), (2600, 200), (2550, 300)],
}
CASES = list(DATASETS.items())
IDS = list(DATASETS)


def arms(counts: list[tuple[int, int]]) -> list[Arm]:
    return [Arm(f"v{i}", 1, n, x) for i, (n, x) in enumerate(counts)]


def prop(n: int, x: int) -> ProportionStatistic:
    return ProportionStatistic(n=n, sum=x)


def gb_bayesian(nc: int, xc: int, nt: int, xt: int, mean: float, sd: float):  # type: ignore[no-untyped-def]
    """GrowthBook's Bayesian test with a proper Gaussian prior on the relative lift (its default scale)."""
    prior = GaussianPrior(mean=mean, variance=sd**2, proper=True)
    return EffectBayesianABTest(prop(nc, xc), prop(nt, xt), EffectBayesianConfig(prior_effect=prior)).compute_result()


@pytest.mark.parametrize("tuning", [5000, 1000, 50000])
@pytest.mark.parametrize(("name", "counts"), CASES, ids=IDS)
def test_sequential_p_values_and_intervals_match_gbstats(name: str, counts: list[tuple[int, int]], tuning: int) -> None:
    result = analyse(arms(counts), Settings(method="sequential", sequential_tuning=tuning))
    (nc, xc), treatments = counts[0], counts[1:]
    for (nt, xt), mine in zip(treatments, result.arms[1:], strict=True):
        absolute = SequentialConfig(difference_type="absolute", sequential_tuning_parameter=tuning)
        ref = SequentialTwoSidedTTest(prop(nc, xc), prop(nt, xt), absolute).compute_result()
        assert mine.lift == pytest.approx(ref.expected, abs=TOL)
        assert mine.p_value_raw == pytest.approx(ref.p_value, abs=TOL)
        assert mine.ci_low == pytest.approx(ref.ci[0], abs=TOL) and mine.ci_high == pytest.approx(ref.ci[1], abs=TOL)
        rel = SequentialConfig(difference_type="relative", sequential_tuning_parameter=tuning)
        ref = SequentialTwoSidedTTest(prop(nc, xc), prop(nt, xt), rel).compute_result()
        assert mine.relative_lift == pytest.approx(ref.expected, abs=TOL)
        assert mine.relative_ci_low == pytest.approx(ref.ci[0], abs=TOL)
        assert mine.relative_ci_high == pytest.approx(ref.ci[1], abs=TOL)


@pytest.mark.parametrize(("name", "counts"), CASES, ids=IDS)
def test_fixed_horizon_relative_lift_matches_gbstats(name: str, counts: list[tuple[int, int]]) -> None:
    result = analyse(arms(counts))
    (nc, xc), treatments = counts[0], counts[1:]
    for (nt, xt), mine in zip(treatments, result.arms[1:], strict=True):
        ref = TwoSidedTTest(prop(nc, xc), prop(nt, xt), FrequentistConfig()).compute_result()
        assert mine.relative_lift == pytest.approx(ref.expected, abs=TOL)
        assert mine.relative_ci_low == pytest.approx(ref.ci[0], abs=TOL)
        assert mine.relative_ci_high == pytest.approx(ref.ci[1], abs=TOL)
        ref = TwoSidedTTest(prop(nc, xc), prop(nt, xt), FrequentistConfig(difference_type="absolute")).compute_result()
        assert mine.p_value_raw == pytest.approx(ref.p_value, abs=TOL)


@pytest.mark.parametrize(("mean", "sd"), [(0.0, 0.3), (0.05, 0.1), (-0.1, 1.0)])
@pytest.mark.parametrize(("name", "counts"), CASES, ids=IDS)
def test_chance_to_win_and_risk_with_the_prior_match_gbstats(
    name: str, counts: list[tuple[int, int]], mean: float, sd: float
) -> None:
    result = analyse(arms(counts), Settings(method="bayesian", prior_mean=mean, prior_sd=sd))
    (nc, xc), treatments = counts[0], counts[1:]
    for (nt, xt), mine in zip(treatments, result.arms[1:], strict=True):
        ref = gb_bayesian(nc, xc, nt, xt, mean, sd)
        assert ref.error_message is None
        assert mine.chance_to_win == pytest.approx(ref.chance_to_win, abs=TOL)
        # gbstats' risk is [of keeping the control, of choosing the treatment], in relative-lift units
        assert mine.expected_loss_relative == pytest.approx(ref.risk[1], abs=TOL)
        assert mine.expected_loss == pytest.approx(ref.risk[1] * xc / nc, abs=TOL)


def test_the_prior_tempers_a_small_8_vs_16_test() -> None:
    counts = arms(DATASETS["small n, 8 vs 16"])
    guards = {"min_sample": 100, "min_conversions": 5}
    flat_like = analyse(counts, Settings(method="bayesian", prior_sd=1000, **guards))  # type: ignore[arg-type]
    with_prior = analyse(counts, Settings(method="bayesian", **guards))  # type: ignore[arg-type]
    # the absolute effect with a flat prior (what XBM answered before): Φ(0.08 / √0.00208) ≈ 96%
    w = welch(counts[0], counts[1])
    assert chance_to_win(w.lift, w.se) == pytest.approx(0.960, abs=0.001)
    # a (nearly) flat prior on the relative lift leaves the data's own z = 1.0 / √0.67; N(0, 0.3²) pulls it to 0
    assert flat_like.arms[1].chance_to_win == pytest.approx(0.889, abs=0.001)
    assert with_prior.arms[1].chance_to_win == pytest.approx(0.663, abs=0.001)
    assert with_prior.decision == "no_winner"


def test_zero_control_conversions_have_no_posterior_as_in_gbstats() -> None:
    ref = EffectBayesianABTest(prop(500, 0), prop(500, 6), EffectBayesianConfig()).compute_result()
    assert ref.error_message  # GrowthBook refuses to compute against a zero baseline
    result = analyse([Arm("a", 1, 500, 0), Arm("b", 1, 500, 6)], Settings(method="bayesian", min_conversions=1))
    assert result.arms[1].chance_to_win is None and result.arms[1].relative_lift is None
    assert result.decision == "insufficient_data"


def test_growthbooks_published_sequential_example_on_proportions() -> None:
    # GrowthBook's own test: 1396/3000 against 2422/3461, N* = 5,000, relative effect, to five decimals
    result = analyse([Arm("a", 1, 3000, 1396), Arm("b", 1, 3461, 2422)], Settings(method="sequential"))
    b = result.arms[1]
    assert round(b.relative_lift, 5) == 0.50386  # type: ignore[arg-type]
    assert (round(b.relative_ci_low, 5), round(b.relative_ci_high, 5)) == (0.40098, 0.60675)  # type: ignore[arg-type]
    assert round(b.p_value_raw, 5) == 0.0  # type: ignore[arg-type]


def test_growthbooks_published_sequential_example_on_means() -> None:
    # GrowthBook's own test on a mean metric: sums and sums of squares of 3000 and 3461 users, N* = 1,000
    na, sa, qa, nb, sb, qb = 3000, 1396.87, 52377.9767, 3461, 2422.7, 134698.29
    ma, mb = sa / na, sb / nb
    va, vb = (qa - sa**2 / na) / (na - 1), (qb - sb**2 / nb) / (nb - 1)
    variance = vb / (ma**2 * nb) + va * mb**2 / (ma**4 * na)  # delta method, relative lift
    lift = (mb - ma) / ma
    half = confidence_sequence_half_width(variance, na + nb, 0.05, 1000)
    assert round(lift, 5) == 0.50336 and round(math.sqrt(variance), 5) == 0.33341
    assert (round(lift - half, 5), round(lift + half, 5)) == (-0.55844, 1.56516)
    assert sequential_p_value(lift, variance, na + nb, 0.05, 1000) == 1.0


def test_tuning_is_tightest_near_the_sample_it_names() -> None:
    counts = [Arm("a", 1, 3000, 1396), Arm("b", 1, 3461, 2422)]
    widths = {
        tuning: (lambda r: r.ci_high - r.ci_low)(
            analyse(counts, Settings(method="sequential", sequential_tuning=tuning)).arms[1]
        )
        for tuning in (10, 6461, 10000)
    }
    assert widths[6461] < widths[10000] < widths[10]


@settings(max_examples=60, deadline=None)
@given(
    nc=st.integers(20, 200_000),
    nt=st.integers(20, 200_000),
    fc=st.floats(0.001, 0.999),
    ft=st.floats(0.001, 0.999),
    tuning=st.integers(100, 1_000_000),
)
def test_sequential_and_bayesian_agree_with_gbstats_everywhere(
    nc: int, nt: int, fc: float, ft: float, tuning: int
) -> None:
    xc, xt = max(1, min(nc - 1, round(nc * fc))), max(1, min(nt - 1, round(nt * ft)))
    seq = analyse([Arm("c", 1, nc, xc), Arm("t", 1, nt, xt)], Settings(method="sequential", sequential_tuning=tuning))
    config = SequentialConfig(difference_type="absolute", sequential_tuning_parameter=tuning)
    ref = SequentialTwoSidedTTest(prop(nc, xc), prop(nt, xt), config).compute_result()
    assert seq.arms[1].p_value_raw == pytest.approx(ref.p_value, abs=TOL)
    assert seq.arms[1].ci_low == pytest.approx(ref.ci[0], abs=TOL)
    bayes = analyse([Arm("c", 1, nc, xc), Arm("t", 1, nt, xt)], Settings(method="bayesian"))
    ref_b = gb_bayesian(nc, xc, nt, xt, 0.0, 0.3)
    assert bayes.arms[1].chance_to_win == pytest.approx(ref_b.chance_to_win, abs=TOL)
    assert bayes.arms[1].expected_loss_relative == pytest.approx(ref_b.risk[1], abs=TOL)


# --- money ratios ------------------------------------------------------------------------------------------

CONTROL_DAYS = [Day(1000, 520.0, 100.0), Day(1400, 610.5, 130.0), Day(900, 300.25, 95.0), Day(1200, 700.0, 120.0)]
TREATMENT_DAYS = [Day(1100, 720.0, 105.0), Day(1300, 800.0, 125.0), Day(950, 410.0, 90.0), Day(1250, 905.5, 118.0)]


def gb_ratio(days: list[Day], numerator: str, denominator: str) -> RatioStatistic:
    m = [getattr(d, numerator) for d in days]
    d_ = [getattr(d, denominator) for d in days]
    n = len(days)
    return RatioStatistic(
        n=n,
        m_statistic=SampleMeanStatistic(n=n, sum=sum(m), sum_squares=sum(v * v for v in m)),
        d_statistic=SampleMeanStatistic(n=n, sum=sum(d_), sum_squares=sum(v * v for v in d_)),
        m_d_sum_of_products=sum(a * b for a, b in zip(m, d_, strict=True)),
    )


@pytest.mark.parametrize("denominator", ["exposures", "cost"])
def test_money_ratios_use_the_delta_method_as_gbstats_does(denominator: str) -> None:
    control = ratio([d.revenue for d in CONTROL_DAYS], [getattr(d, denominator) for d in CONTROL_DAYS])
    treatment = ratio([d.revenue for d in TREATMENT_DAYS], [getattr(d, denominator) for d in TREATMENT_DAYS])
    assert control is not None and treatment is not None
    ref_c, ref_t = gb_ratio(CONTROL_DAYS, "revenue", denominator), gb_ratio(TREATMENT_DAYS, "revenue", denominator)
    assert control.value == pytest.approx(ref_c.mean, rel=1e-12)
    assert control.variance == pytest.approx(ref_c.variance / ref_c.n, rel=1e-9)
    figure = ratio_figure(control, treatment, 0.05, is_control=False)
    ref = TwoSidedTTest(ref_c, ref_t, FrequentistConfig(difference_type="absolute")).compute_result()
    assert figure.lift == pytest.approx(ref.expected, abs=TOL)
    assert figure.lift_ci_low == pytest.approx(ref.ci[0], abs=TOL)
    assert figure.lift_ci_high == pytest.approx(ref.ci[1], abs=TOL)
    assert figure.p_value == pytest.approx(ref.p_value, abs=TOL)


def test_money_ratios_reach_the_analysis() -> None:
    result = analyse(
        [
            Arm("a", 1, 4500, 450, 4500, tuple(CONTROL_DAYS)),
            Arm("b", 1, 4600, 520, 4600, tuple(TREATMENT_DAYS)),
        ]
    )
    a, b = result.arms
    revenue_a = sum(d.revenue for d in CONTROL_DAYS)
    assert a.revenue_per_exposure.value == pytest.approx(revenue_a / 4500)
    assert a.roas.value == pytest.approx(revenue_a / sum(d.cost for d in CONTROL_DAYS))
    assert a.roas.lift is None and b.roas.lift is not None and b.roas.lift > 0
    assert b.revenue_per_exposure.ci_low < b.revenue_per_exposure.value < b.revenue_per_exposure.ci_high  # type: ignore[operator]
