"""analysis/verdicts.py: hand-checked p-values, CIs that show the verdict, Holm, and a small
seeded calibration (the full one is studies/claims_calibration/calibrate.py)."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from analysis import verdicts as v

ALPHA = 0.05
DATASETS = 300
# a rate that should be <= alpha may exceed it by 3 Monte-Carlo standard errors (~0.038)
NULL_LIMIT = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / DATASETS)


def rates(p_value, p_refute, alpha=ALPHA) -> tuple[float, float]:
    verdict = v.decide(p_value, p_refute, alpha)
    return float((verdict == v.SUPPORTED).mean()), float((verdict == v.REFUTED).mean())


def test_permutation_p_by_hand():
    # x = [2, 3], y = [0, 1]: the x group's sum over the 6 splits is 5 4 3 3 2 1 -> 1 >= 5
    res = v.compare_groups([2.0, 3.0], [0.0, 1.0])
    assert res.p_value == pytest.approx(1 / 6) and res.p_refute == 1.0
    # x = [1, 3], y = [0, 2]: sums 5 4 3 3 2 1, observed 4 -> 2 splits >= 4, 5 splits <= 4
    res = v.compare_groups([1.0, 3.0], [0.0, 2.0])
    assert (res.p_value, res.p_refute) == pytest.approx((2 / 6, 5 / 6))
    assert res.effect == 1.0 and (res.n_x, res.n_y) == (2, 2)
    # margin 1: x - 1 = [2, 3, 4] against [0, 1, 2]; the tie at 2 gives a second split of
    # sum 9, so p = 2 / 20 (ties count against the claim)
    res = v.compare_groups([3.0, 4.0, 5.0], [0.0, 1.0, 2.0], margin=1.0)
    assert res.p_value == pytest.approx(2 / 20) and res.verdict == "inconclusive"


def test_three_seeds_per_group_decide_only_on_full_separation():
    assert v.min_permutation_p(3, 3) == pytest.approx(1 / 20)
    assert v.min_permutation_p(5, 5) == pytest.approx(1 / 252)
    separated = v.compare_groups([3.0, 4.0, 5.0], [0.0, 1.0, 2.0])
    assert separated.p_value == pytest.approx(0.05) and separated.verdict == "supported"
    # the lowest x (0.5) below the highest y (2): the best split is no longer unique
    assert v.compare_groups([0.5, 4.0, 5.0], [0.0, 1.0, 2.0]).verdict == "inconclusive"
    assert v.compare_groups([0.0, 1.0, 2.0], [3.0, 4.0, 5.0]).verdict == "refuted"
    # the CI at 3 vs 3 is [min x - max y, max x - min y]
    assert (separated.ci_low, separated.ci_high) == (1.0, 5.0)


def test_verdict_strings_are_exactly_the_three():
    assert v.VERDICTS == ("supported", "refuted", "inconclusive")
    rng = np.random.default_rng(0)
    rows = [
        v.compare_groups(rng.normal(size=5), rng.normal(size=5)),
        v.equivalence_exponent(rng.normal(2, 0.1, 5), 2.0, 0.25),
        v.one_sample_above(rng.normal(size=5)),
        v.one_sample_above(rng.normal(size=5), method="sign"),
    ]
    assert all(type(r.verdict) is str and r.verdict in v.VERDICTS for r in rows)
    assert type(v.decide(0.01, 0.99)) is str and v.decide(0.01, 0.99) == "supported"
    assert v.decide(0.99, 0.05) == "refuted" and v.decide(0.2, 0.8) == "inconclusive"
    assert v.decide(np.nan, np.nan) == "inconclusive"
    assert set(v.decide(np.array([0.01, 0.5]), np.array([0.99, 0.01]))) == {"supported", "refuted"}
    row = rows[0].as_row()
    assert list(row) == [f.name for f in dataclasses.fields(v.Verdict)]
    assert all(isinstance(value, (int, float, str)) for value in row.values())


@pytest.mark.parametrize("max_exact", [v.MAX_EXACT, 10])  # exact, then Monte Carlo
def test_permutation_ci_shows_the_verdict(max_exact):
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, y = rng.normal(1, 1, 5), rng.normal(0, 1, 5)
        for margin in np.linspace(-2, 3, 21):
            res = v.compare_groups(x, y, margin=margin, max_exact=max_exact, n_resamples=999)
            assert res.ci_low <= res.effect <= res.ci_high
            assert (res.verdict == "supported") == (margin < res.ci_low)
            assert (res.verdict == "refuted") == (margin > res.ci_high)


def test_monte_carlo_p_agrees_with_exact():
    rng = np.random.default_rng(2)
    x, y = rng.normal(0.8, 1, (20, 5)), rng.normal(0, 1, (20, 5))
    exact = v.permutation_pvalues(x, y, with_ci=False)
    sampled = v.permutation_pvalues(x, y, max_exact=10, n_resamples=9999, with_ci=False)
    assert exact["exact"].all() and not sampled["exact"].any()
    assert np.abs(exact["p_value"] - sampled["p_value"]).max() < 0.015


def test_holm_by_hand():
    assert v.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert v.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    # a NaN row is in the family (m = 3) as p = 1 and stays NaN
    out = v.holm([0.01, np.nan, 0.02])
    assert out[0] == pytest.approx(0.03) and out[2] == pytest.approx(0.04) and np.isnan(out[1])
    # rows are independent families
    np.testing.assert_allclose(
        v.holm(np.array([[0.01, 0.04, 0.03], [0.2, 0.1, 0.3]])),
        [[0.03, 0.06, 0.06], [0.4, 0.3, 0.4]],  # 0.1 x 3, 0.2 x 2, 0.3 x 1, running max
    )


def test_apply_holm_turns_a_raw_support_into_inconclusive():
    base = v.compare_groups([3.0, 4.0, 5.0, 6.0, 7.0], [0.0, 1.0, 2.0, 3.0, 4.0])
    rows = [dataclasses.replace(base, p_value=p, p_refute=1 - p) for p in (0.03, 0.01, 0.2)]
    assert [r.verdict for r in rows] == ["supported"] * 3  # as copied; raw would be s, s, i
    out = v.apply_holm(rows)
    assert [r.p_holm for r in out] == pytest.approx([0.06, 0.03, 0.2])
    assert [r.verdict for r in out] == ["inconclusive", "supported", "inconclusive"]
    assert all(r.family_size == 3 and "Holm over 3 envs" in r.rule for r in out)
    # seeds_needed after Holm asks for alpha / 3, never fewer seeds
    assert all(a.seeds_needed >= b.seeds_needed for a, b in zip(out, rows, strict=True))


def test_tost_matches_one_sided_t_tests():
    e = np.array([1.9, 2.0, 2.1])
    res = v.equivalence_exponent(e, 2.0, 0.25)
    low = stats.ttest_1samp(e, 1.75, alternative="greater").pvalue
    high = stats.ttest_1samp(e, 2.25, alternative="less").pvalue
    assert res.p_value == pytest.approx(max(low, high)) and res.verdict == "supported"
    half = stats.t.ppf(0.95, 2) * 0.1 / math.sqrt(3)  # sd 0.1, 90% CI
    assert (res.ci_low, res.ci_high) == pytest.approx((2 - half, 2 + half))
    assert v.equivalence_exponent([1.0, 1.1, 0.9], 2.0, 0.25).verdict == "refuted"
    assert v.equivalence_exponent([1.5, 2.5, 2.0], 2.0, 0.25).verdict == "inconclusive"
    # the point 2 inside a wide CI is not support (the old fail-to-reject rule said it was)
    wide = v.equivalence_exponent([1.0, 3.0, 2.2], 2.0, 0.25)
    assert wide.ci_low < 2 < wide.ci_high and wide.verdict == "inconclusive"


def test_one_sample_tests_by_hand():
    t = v.one_sample_above([0.3, 0.5, 0.2])
    assert t.p_value == pytest.approx(
        stats.ttest_1samp([0.3, 0.5, 0.2], 0.0, alternative="greater").pvalue
    )
    assert t.verdict == "supported" and t.ci_low > 0
    sign = v.one_sample_above([0.3, 0.5, 0.2, 0.4, 0.6], method="sign")
    assert sign.p_value == pytest.approx(1 / 32) and sign.verdict == "supported"
    assert (sign.ci_low, sign.ci_high) == (0.2, 0.6)  # r = 1: P(Bin(5, 1/2) <= 0) <= 0.05
    three = v.one_sample_above([0.3, 0.5, 0.2], method="sign")  # 1/8: cannot reach 0.05
    assert three.p_value == pytest.approx(1 / 8) and three.verdict == "inconclusive"
    assert math.isinf(three.ci_low) and math.isinf(three.ci_high)
    assert v.one_sample_above([-0.3, -0.5, -0.2]).verdict == "refuted"


def test_model_selection_picks_the_generating_law():
    rng = np.random.default_rng(3)
    t = np.arange(1.0, 21.0)
    noise = np.exp(rng.normal(0, 0.1, t.size))
    power = v.model_selection_aic(t, 0.01 * t**2 * noise)
    assert power.best == "power" and power.exponent == pytest.approx(2, abs=0.1)
    growth = v.model_selection_aic(t, 0.01 * np.exp(0.3 * t) * noise)
    assert growth.best == "exponential" and growth.rate == pytest.approx(0.3, abs=0.02)
    line = v.model_selection_aic(t, 5 + 2 * t + rng.normal(0, 0.2, t.size))
    assert line.best == "linear"
    # AIC by hand for the power law: 3 parameters, Gaussian on log y with sigma^2 = RSS / n
    y = 0.01 * t**2 * noise
    resid = np.log(y) - np.polyval(np.polyfit(np.log(t), np.log(y), 1), np.log(t))
    hand = 6 + t.size * (np.log(2 * np.pi * np.mean(resid**2)) + 1)
    assert v.model_selection_aic(t, y).aic_power == pytest.approx(hand)
    with pytest.raises(ValueError, match=">= 4 points"):
        v.model_selection_aic([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])


def test_seeds_needed():
    # normal approximation 2 (z_.95 + z_.8)^2 / 1.5^2 = 5.5; the t correction gives 7
    assert v.seeds_needed(1.5, 1.0) == 7
    assert v.seeds_needed(1.5, 1.0, alpha=0.0125) > 7
    assert v.seeds_needed(1.0, 1.0, test="one-sample-t") == 8
    assert math.isinf(v.seeds_needed(0.0, 1.0)) and math.isinf(v.seeds_needed(0.05, 1.0))
    assert math.isnan(v.seeds_needed(1.0, math.nan))
    # identical seeds: the fewest the exact tests can decide with
    assert v.seeds_needed(1.0, 0.0, alpha=0.0125) == 5  # 1/C(8, 4) = 1/70 > 0.0125
    assert v.seeds_needed(1.0, 0.0, test="sign") == 5  # 1/32 <= 0.05 < 1/16
    # equivalence: on target it needs fewer seeds than near a bound
    near = v.seeds_needed(2.2, 0.1, "equivalence", margin=0.25, target=2.0)
    assert v.seeds_needed(2.0, 0.1, "equivalence", margin=0.25, target=2.0) < near


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="NaN or inf"):
        v.compare_groups([1.0, np.nan], [0.0, 1.0])
    with pytest.raises(ValueError, match="alpha"):
        v.compare_groups([1.0, 2.0], [0.0, 1.0], alpha=0.7)
    with pytest.raises(ValueError, match="at least 2"):
        v.equivalence_exponent([2.0], 2.0, 0.25)
    with pytest.raises(ValueError, match="margin must be positive"):
        v.equivalence_exponent([2.0, 2.1], 2.0, 0.0)
    with pytest.raises(ValueError, match="method"):
        v.one_sample_above([1.0, 2.0], method="wilcoxon")


@pytest.mark.parametrize("n", [3, 5, 10])
def test_compare_groups_null_rates_within_alpha(n):
    rng = np.random.default_rng(100 + n)
    x, y = rng.normal(size=(DATASETS, n)), rng.normal(size=(DATASETS, n))
    res = v.permutation_pvalues(x, y, with_ci=False)
    supported, refuted = rates(res["p_value"], res["p_refute"])
    assert supported <= NULL_LIMIT and refuted <= NULL_LIMIT
    # on the margin: x = y + 0.5, tested against margin 0.5
    res = v.permutation_pvalues(x + 0.5, y, margin=0.5, with_ci=False)
    assert max(rates(res["p_value"], res["p_refute"])) <= NULL_LIMIT
    if n >= 5:  # 1.5 sd apart: the rule has power
        res = v.permutation_pvalues(x + 1.5, y, with_ci=False)
        assert rates(res["p_value"], res["p_refute"])[0] > 0.5


def test_holm_family_wise_rate_within_alpha():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(DATASETS * 4, 5)), rng.normal(size=(DATASETS * 4, 5))
    res = v.permutation_pvalues(x, y, with_ci=False)
    p = v.holm(res["p_value"].reshape(DATASETS, 4))
    q = v.holm(res["p_refute"].reshape(DATASETS, 4))
    verdict = v.decide(p, q, ALPHA)
    assert (verdict == "supported").any(axis=1).mean() <= NULL_LIMIT
    assert (verdict == "refuted").any(axis=1).mean() <= NULL_LIMIT


@pytest.mark.parametrize("n", [3, 5, 10])
def test_equivalence_and_one_sample_null_rates_within_alpha(n):
    rng = np.random.default_rng(200 + n)
    for truth in (1.75, 2.25):  # on a bound of 2 +- 0.25
        res = v.tost_pvalues(rng.normal(truth, 0.15, (DATASETS, n)), 2.0, 0.25)
        assert max(rates(res["p_value"], res["p_refute"])) <= NULL_LIMIT
    res = v.tost_pvalues(rng.normal(1.0, 0.15, (DATASETS, n)), 2.0, 0.25)
    assert rates(res["p_value"], res["p_refute"])[0] == 0.0
    for method in ("t", "sign"):
        res = v.one_sample_pvalues(rng.normal(size=(DATASETS, n)), 0.0, ALPHA, method)
        assert max(rates(res["p_value"], res["p_refute"])) <= NULL_LIMIT
