import numpy as np
import pytest

from analysis import stats


def test_normalise_maps_random_to_zero_and_reference_to_one():
    assert stats.normalise(np.array([-100.0, 400.0, 150.0]), -100.0, 400.0).tolist() == [
        0.0,
        1.0,
        0.5,
    ]
    with pytest.raises(ValueError):
        stats.normalise(np.array([1.0]), 2.0, 2.0)


def test_iqm_by_hand():
    # sorted: -50 1 | 2 3 4 5 | 6 100 -> trim 2 each side -> mean of [2, 3, 4, 5] = 3.5
    assert stats.iqm(np.array([100, 1, 2, 3, 4, 5, 6, -50])) == 3.5
    assert stats.iqm(np.array([[1.0, 2.0], [3.0, 4.0]])) == 2.5


def test_probability_of_improvement_by_hand():
    x = np.array([[1.0], [3.0]])
    y = np.array([[2.0], [2.0], [3.0]])
    # pairs: 1>2 no, 1>2 no, 1>3 no, 3>2 yes, 3>2 yes, 3=3 half -> 2.5 / 6
    assert stats.probability_of_improvement(x, y) == pytest.approx(2.5 / 6)
    two_tasks = stats.probability_of_improvement(np.array([[1.0, 5.0]]), np.array([[0.0, 9.0]]))
    assert two_tasks == 0.5


def test_area_under_curve_by_hand():
    assert stats.area_under_curve(np.array([0, 1, 3]), np.array([0.0, 2.0, 2.0])) == pytest.approx(
        (1.0 + 4.0) / 3
    )


def test_stratified_bootstrap_resamples_within_tasks():
    scores = np.array([[0.0, 10.0], [0.0, 10.0], [0.0, 10.0]])  # no within-task variation
    point, low, high = stats.stratified_bootstrap_ci(scores, stats.mean, reps=200)
    assert point == low == high == 5.0  # a pooled bootstrap would vary; a stratified one cannot
    point, low, high = stats.stratified_bootstrap_ci(np.arange(10.0), stats.mean, reps=500)
    assert low < point < high and point == 4.5


def test_bootstrap_is_seeded():
    data = np.random.default_rng(0).normal(size=(8, 3))
    assert stats.stratified_bootstrap_ci(data, stats.iqm, seed=3) == stats.stratified_bootstrap_ci(
        data, stats.iqm, seed=3
    )
    assert stats.mean_ci(data[:, 0], seed=1) == stats.mean_ci(data[:, 0], seed=1)


@pytest.mark.parametrize("method", ["stratified", "scipy"])
def test_ci_covers_the_true_mean_at_about_the_nominal_rate(method):
    rng = np.random.default_rng(0)
    hits, trials = 0, 300
    for trial in range(trials):
        sample = rng.normal(loc=1.0, scale=2.0, size=20)
        if method == "scipy":
            _, low, high = stats.mean_ci(sample, seed=trial, reps=500)
        else:
            _, low, high = stats.stratified_bootstrap_ci(sample, stats.mean, reps=500, seed=trial)
        hits += low <= 1.0 <= high
    # percentile bootstrap at n = 20 slightly under-covers; 95% nominal
    assert 0.88 <= hits / trials <= 0.99


def test_power_law_fit_recovers_exponent_with_noise():
    rng = np.random.default_rng(0)
    t = np.arange(1, 60)
    err = 0.01 * t**2.0 * np.exp(rng.normal(scale=0.1, size=len(t)))
    c, p = stats.fit_power_law(t, err)
    assert p == pytest.approx(2.0, abs=0.05) and c == pytest.approx(0.01, rel=0.2)


# --- rliable agreement (issue 35, defect 6) -------------------------------------------------
# Hand-checkable (runs, tasks) arrays on which rliable's definitions differ from flat ones.
THREE_BY_TWO = np.array([[0.0, 4.0], [1.0, 5.0], [8.0, 6.0]])  # task means 3, 5
THREE_BY_THREE = np.array([[0.0, 1.0, 10.0], [0.0, 2.0, 10.0], [12.0, 3.0, 10.0]])  # 4, 2, 10


def test_median_is_the_median_over_tasks_of_per_task_means():
    # flat median of [0, 1, 8, 4, 5, 6] would be 4.5; median of task means (3, 5) is 4
    assert stats.median(THREE_BY_TWO) == pytest.approx(4.0, abs=1e-9)
    # flat median of the nine values would be 3; median of task means (4, 2, 10) is 4
    assert stats.median(THREE_BY_THREE) == pytest.approx(4.0, abs=1e-9)


def test_mean_and_iqm_by_hand_on_runs_by_tasks():
    assert stats.mean(THREE_BY_THREE) == pytest.approx((4.0 + 2.0 + 10.0) / 3, abs=1e-9)
    # six values, int(0.25 * 6) = 1 cut each side: mean of [1, 4, 5, 6] = 4
    assert stats.iqm(THREE_BY_TWO) == pytest.approx(4.0, abs=1e-9)


def test_optimality_gap_by_hand():
    scores = np.array([[0.5, 1.5], [1.0, -0.5], [2.0, 0.8]])
    # clipped at 1: 0.5 + 1 + 1 + 1 - 0.5 + 0.8 = 3.8 over 6 values
    assert stats.optimality_gap(scores) == pytest.approx(1.0 - 3.8 / 6, abs=1e-9)
    # clipped at 2: 0.5 + 1.5 + 1 - 0.5 + 2 + 0.8 = 5.3
    assert stats.optimality_gap(scores, gamma=2.0) == pytest.approx(2.0 - 5.3 / 6, abs=1e-9)
    assert stats.AGGREGATES["optimality gap"] is stats.optimality_gap


def test_aggregate_docstrings_name_their_rliable_definition():
    for name, aggregate in stats.AGGREGATES.items():
        assert aggregate.__doc__ and "rliable" in aggregate.__doc__, name
    assert set(stats.AGGREGATES) == {"IQM", "median", "mean", "optimality gap"}


def test_bootstrap_defaults_match_rliable_get_interval_estimates():
    import inspect

    for fn in (stats.stratified_bootstrap_ci, stats.probability_of_improvement_ci):
        params = inspect.signature(fn).parameters
        assert params["reps"].default == 50_000, fn.__name__
        assert params["confidence"].default == 0.95, fn.__name__


def test_probability_of_improvement_propagates_nan_like_rliable():
    x = np.array([[1.0, 2.0], [np.nan, 3.0]])
    y = np.array([[0.0, 1.0], [0.5, 1.0]])
    assert np.isnan(stats.probability_of_improvement(x, y))
    assert stats.probability_of_improvement(x[:, 1:], y[:, 1:]) == 1.0


# Independent slow references: plain Python loops, one replicate and one task at a time.
def _ref_aggregate(name: str, matrix: list[list[float]]) -> float:
    import statistics

    runs, tasks = len(matrix), len(matrix[0])
    task_means = [sum(matrix[r][t] for r in range(runs)) / runs for t in range(tasks)]
    flat = sorted(matrix[r][t] for r in range(runs) for t in range(tasks))
    if name == "median":
        return statistics.median(task_means)
    if name == "mean":
        return sum(task_means) / tasks
    if name == "optimality gap":
        return 1.0 - sum(min(v, 1.0) for v in flat) / len(flat)
    cut = int(0.25 * len(flat))
    middle = flat[cut : len(flat) - cut]
    return sum(middle) / len(middle)


def _ref_poi(x: list[list[float]], y: list[list[float]]) -> float:
    per_task = []
    for t in range(len(x[0])):
        wins = 0.0
        for row_x in x:
            for row_y in y:
                wins += 1.0 if row_x[t] > row_y[t] else (0.5 if row_x[t] == row_y[t] else 0.0)
        per_task.append(wins / (len(x) * len(y)))
    return sum(per_task) / len(per_task)


def _resample_loop(rng: np.random.Generator, scores: np.ndarray) -> list[list[float]]:
    """One stratified resample: for each task, draw its runs with replacement."""
    runs, tasks = scores.shape
    out = [[0.0] * tasks for _ in range(runs)]
    for t in range(tasks):
        for r, pick in enumerate(rng.integers(runs, size=runs)):
            out[r][t] = float(scores[pick, t])
    return out


def _agrees_within_mc_error(value: float, reference: np.ndarray, level: float) -> bool:
    """``value`` sits at quantile ``level`` of the reference replicates, within 5 MC s.e."""
    tol = 5 * np.sqrt(2 * level * (1 - level) / len(reference))
    below, at_or_below = np.mean(reference < value), np.mean(reference <= value)
    return below <= level + tol and at_or_below >= level - tol


@pytest.mark.parametrize("name", ["IQM", "median", "mean", "optimality gap"])
def test_stratified_bootstrap_ci_matches_a_slow_loop(name):
    scores = np.random.default_rng(7).gamma(2.0, 0.5, size=(5, 4))
    scores[:, 3] += 1.5  # one task far from the others, so the definitions differ
    reps = 2000
    point, low, high = stats.stratified_bootstrap_ci(scores, stats.AGGREGATES[name], reps=reps)
    assert point == pytest.approx(_ref_aggregate(name, scores.tolist()), abs=1e-9)
    rng = np.random.default_rng(123)
    reference = np.array([_ref_aggregate(name, _resample_loop(rng, scores)) for _ in range(reps)])
    assert _agrees_within_mc_error(low, reference, 0.025), (low, np.quantile(reference, 0.025))
    assert _agrees_within_mc_error(high, reference, 0.975), (high, np.quantile(reference, 0.975))


def test_probability_of_improvement_ci_matches_a_slow_loop():
    rng = np.random.default_rng(11)
    x = np.round(rng.normal(0.3, 1.0, size=(5, 3)), 1)  # rounding makes ties
    y = np.round(rng.normal(0.0, 1.0, size=(4, 3)), 1)
    reps = 1500
    point, low, high = stats.probability_of_improvement_ci(x, y, reps=reps)
    assert point == pytest.approx(_ref_poi(x.tolist(), y.tolist()), abs=1e-9)
    ref_rng = np.random.default_rng(321)
    reference = np.array(
        [_ref_poi(_resample_loop(ref_rng, x), _resample_loop(ref_rng, y)) for _ in range(reps)]
    )
    assert _agrees_within_mc_error(low, reference, 0.025), (low, np.quantile(reference, 0.025))
    assert _agrees_within_mc_error(high, reference, 0.975), (high, np.quantile(reference, 0.975))
