"""A/B statistics against references computed another way: scipy's own Welch test, formulas by hand,
numerical integration, and worked numbers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from services.campaigns.experiments.stats import (
    Arm,
    Settings,
    analyse,
    chance_to_win,
    expected_loss,
    holm,
    srm_p_value,
    welch,
)

TOL = 1e-6


def scipy_welch(xc: int, nc: int, xt: int, nt: int) -> tuple[float, float]:
    """scipy's Welch test on the same per-arm mean and σ = √(μ(1−μ)) (statistic, p-value)."""
    mc, mt = xc / nc, xt / nt
    result = stats.ttest_ind_from_stats(
        mt, math.sqrt(mt * (1 - mt)), nt, mc, math.sqrt(mc * (1 - mc)), nc, equal_var=False
    )
    return float(result.statistic), float(result.pvalue)


@pytest.mark.parametrize(
    ("xc", "nc", "xt", "nt"),
    [(100, 1000, 130, 1000), (48, 500, 61, 520), (1200, 30000, 1290, 29800), (7, 160, 19, 155)],
)
def test_welch_p_value_matches_scipy(xc: int, nc: int, xt: int, nt: int) -> None:
    result = welch(Arm("c", 1, nc, xc), Arm("t", 1, nt, xt))
    _, p = scipy_welch(xc, nc, xt, nt)
    assert result.p_value == pytest.approx(p, abs=TOL)


def test_welch_by_hand_100_of_1000_against_130_of_1000() -> None:
    # μC = 0.1, μT = 0.13; se² = 0.1·0.9/1000 + 0.13·0.87/1000 = 0.0002031
    se = math.sqrt(0.0002031)
    # ν = se⁴ / ((0.00009²)/999 + (0.0001131²)/999)
    df = 0.0002031**2 / ((0.00009**2) / 999 + (0.0001131**2) / 999)
    result = welch(Arm("c", 1, 1000, 100), Arm("t", 1, 1000, 130))
    assert result.lift == pytest.approx(0.03, abs=1e-12)
    assert result.se == pytest.approx(se, abs=1e-12)
    assert result.df == pytest.approx(df, abs=1e-6)
    assert df == pytest.approx(1972.48, abs=0.01)  # by hand: 4.12496e-8 / (2.089161e-8 / 999)
    assert result.p_value == pytest.approx(2 * stats.t.sf(0.03 / se, df), abs=TOL)
    assert result.p_value == pytest.approx(0.035, abs=0.001)  # t ≈ 2.105, two-sided
    half = stats.t.ppf(0.975, df) * se
    assert result.ci_low == pytest.approx(0.03 - half, abs=TOL)
    assert result.ci_high == pytest.approx(0.03 + half, abs=TOL)
    assert result.ci_low == pytest.approx(0.00205, abs=1e-4) and result.ci_high == pytest.approx(0.05795, abs=1e-4)


def test_interval_follows_alpha() -> None:
    wide = welch(Arm("c", 1, 1000, 100), Arm("t", 1, 1000, 130), alpha=0.01)
    narrow = welch(Arm("c", 1, 1000, 100), Arm("t", 1, 1000, 130), alpha=0.05)
    assert wide.ci_low < narrow.ci_low and wide.ci_high > narrow.ci_high  # type: ignore[operator]


def test_zero_variance_gives_no_test() -> None:
    result = welch(Arm("c", 1, 500, 0), Arm("t", 1, 500, 0))
    assert result.p_value is None and result.ci_low is None


def test_holm_by_hand() -> None:
    # sorted 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → raised to the running max 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, None, 0.2]) == [pytest.approx(0.5), None, pytest.approx(0.4)]
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])


def test_bayesian_chance_to_win_and_expected_loss_by_integration() -> None:
    lift, se = 0.012, 0.008
    assert chance_to_win(lift, se) == pytest.approx(stats.norm.cdf(1.5), abs=TOL)
    risk, _ = integrate.quad(lambda x: max(0.0, -x) * stats.norm.pdf(x, lift, se), -1, 1, points=[0.0], limit=200)
    assert expected_loss(lift, se) == pytest.approx(risk, abs=TOL)
    assert expected_loss(-lift, se) == pytest.approx(expected_loss(lift, se) + lift, abs=TOL)


def test_srm_5000_4000_on_even_weights() -> None:
    arms = [Arm("a", 0.5, 5000, 400), Arm("b", 0.5, 4000, 330)]
    # χ² = 2 · 500² / 4500 = 111.11…, one degree of freedom
    assert srm_p_value(arms) == pytest.approx(stats.chi2.sf(1000 / 9, 1), rel=1e-9)
    analysis = analyse(arms)
    assert analysis.srm_flagged and analysis.decision == "srm" and analysis.winner is None


def test_srm_hides_a_significant_winner() -> None:
    arms = [Arm("a", 1, 5000, 250), Arm("b", 1, 4000, 600)]
    analysis = analyse(arms)
    assert analysis.arms[1].p_value is not None and analysis.arms[1].p_value < 1e-10
    assert analysis.decision == "srm" and analysis.winner is None


def test_no_decision_below_min_sample() -> None:
    analysis = analyse([Arm("a", 1, 149, 10), Arm("b", 1, 150, 60)], Settings(min_sample=150))
    assert analysis.decision == "insufficient_data" and analysis.winner is None


def test_winner_is_the_best_significant_positive_treatment_after_holm() -> None:
    arms = [Arm("a", 1, 4000, 400), Arm("b", 1, 4000, 470), Arm("c", 1, 4000, 520), Arm("d", 1, 4000, 300)]
    analysis = analyse(arms)
    raw = [scipy_welch(400, 4000, x, 4000)[1] for x in (470, 520, 300)]
    adjusted = holm(raw)  # type: ignore[arg-type]
    for result, p in zip(analysis.arms[1:], adjusted, strict=True):
        assert result.p_value == pytest.approx(p, abs=TOL)
    assert analysis.decision == "winner" and analysis.winner == "c"
    assert analysis.arms[0].lift is None  # the control is the reference


def test_negative_significant_effect_is_no_winner() -> None:
    analysis = analyse([Arm("a", 1, 4000, 600), Arm("b", 1, 4000, 400)])
    assert analysis.decision == "no_winner"


def test_bayesian_method_decides_on_chance_to_win() -> None:
    arms = [Arm("a", 1, 4000, 400), Arm("b", 1, 4000, 470)]
    analysis = analyse(arms, Settings(method="bayesian"))
    assert analysis.arms[1].chance_to_win is not None and analysis.arms[1].chance_to_win > 0.95
    assert analysis.decision == "winner"


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        analyse([Arm("a", 1, 10, 11), Arm("b", 1, 10, 1)])


@given(nc=st.integers(2, 100_000), nt=st.integers(2, 100_000), fc=st.floats(0.01, 0.99), ft=st.floats(0.01, 0.99))
def test_welch_agrees_with_scipy_everywhere(nc: int, nt: int, fc: float, ft: float) -> None:
    xc, xt = max(1, min(nc - 1, round(nc * fc))), max(1, min(nt - 1, round(nt * ft)))
    result = welch(Arm("c", 1, nc, xc), Arm("t", 1, nt, xt))
    _, p = scipy_welch(xc, nc, xt, nt)
    assert result.p_value == pytest.approx(p, abs=TOL)
    assert result.ci_low <= result.lift <= result.ci_high  # type: ignore[operator]


def test_bayesian_winner_is_held_to_holm_with_several_treatments() -> None:
    # b's chance to win is 96.5%: enough alone (> 1 − α), not as one of three treatments, where Holm asks the
    # best one for a doubt 1 − chance below α/3
    settings = Settings(method="bayesian", loss_threshold=0.01)
    alone = analyse([Arm("a", 1, 4000, 400), Arm("b", 1, 4000, 455)], settings)
    three = analyse(
        [Arm("a", 1, 4000, 400), Arm("b", 1, 4000, 455), Arm("c", 1, 4000, 400), Arm("d", 1, 4000, 395)], settings
    )
    assert alone.arms[1].chance_to_win == pytest.approx(three.arms[1].chance_to_win)
    assert 0.95 < three.arms[1].chance_to_win < 1 - 0.05 / 3  # type: ignore[operator]
    assert alone.decision == "winner" and alone.winner == "b"
    assert three.decision == "no_winner"


def test_bayesian_winner_needs_the_expected_loss_under_the_threshold() -> None:
    arms = [Arm("a", 1, 4000, 400), Arm("b", 1, 4000, 470)]
    loose = analyse(arms, Settings(method="bayesian", loss_threshold=0.01))
    tight = analyse(arms, Settings(method="bayesian", loss_threshold=1e-6))
    assert loose.arms[1].expected_loss == tight.arms[1].expected_loss
    assert 1e-6 < tight.arms[1].expected_loss < 0.01  # type: ignore[operator]
    assert loose.decision == "winner" and tight.decision == "no_winner"


@given(
    n=st.lists(st.integers(0, 5000), min_size=2, max_size=4),
    x=st.lists(st.integers(0, 60), min_size=4, max_size=4),
    min_sample=st.integers(1, 3000),
    min_conversions=st.integers(1, 40),
)
def test_no_decision_is_ever_made_on_short_data(
    n: list[int], x: list[int], min_sample: int, min_conversions: int
) -> None:
    arms = [Arm(f"v{i}", 1, units, min(units, x[i]), units) for i, units in enumerate(n)]
    result = analyse(arms, Settings(min_sample=min_sample, min_conversions=min_conversions))
    short = any(a.n < min_sample or a.conversions < min_conversions or a.conversions == 0 for a in arms)
    if short and result.decision != "srm":
        assert result.decision == "insufficient_data" and result.winner is None and result.reasons
    if result.decision == "winner":
        assert not short and not result.srm_flagged
