"""Statistics over runs: normalised scores, IQM, stratified bootstrap CIs, P(improvement), AUC.

Definitions follow rliable (Agarwal et al. 2021, google-research/rliable ``metrics.py`` and
``library.py``). Scores are arrays of shape (runs, tasks); a 1-D array is the runs of one task.

- IQM: 25% trimmed mean over all runs x tasks, flattened (``aggregate_iqm``).
- median: median over tasks of the per-task mean over runs (``aggregate_median``).
- mean: mean over tasks of the per-task mean over runs (``aggregate_mean``).
- optimality gap: mean over all runs x tasks of ``max(gamma - score, 0)``, gamma = 1
  (``aggregate_optimality_gap``); lower is better.
- P(X > Y): per task, the Mann-Whitney U of X against Y over ``runs_x * runs_y`` (the
  chance that a run of X beats a run of Y, ties one half), averaged over tasks
  (``probability_of_improvement``).
- CIs: percentile intervals from a stratified bootstrap that resamples runs with replacement
  independently within each task (``StratifiedBootstrap``); for P(X > Y) the runs of X and of Y
  are resampled independently of each other (``StratifiedIndependentBootstrap``); 50,000
  replicates and 95% by default, as ``get_interval_estimates``.

Where ours differs from rliable: the generator is a seeded ``numpy.random.Generator`` (rliable
draws its indices from numpy's global state, so ``random_state`` does not make it reproducible),
so intervals agree within Monte-Carlo error, not digit for digit; rliable's task bootstrap is
not offered.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

Aggregate = Callable[[np.ndarray], float]
Batched = Callable[[np.ndarray], np.ndarray]

DEFAULT_REPS = 50_000  # rliable get_interval_estimates' default
_CHUNK_VALUES = 2_000_000  # resampled values held in memory at once


def normalise(returns: np.ndarray, random_return: float, reference_return: float) -> np.ndarray:
    """Map the random policy's return to 0 and the reference return to 1."""
    scale = reference_return - random_return
    if scale == 0 or not np.isfinite(scale):
        raise ValueError("reference and random returns must differ and be finite")
    return (np.asarray(returns, dtype=float) - random_return) / scale


def _matrix(scores: np.ndarray) -> np.ndarray:
    """Scores as a float (runs, tasks) array; a 1-D array is the runs of one task."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(f"scores must be a non-empty (runs, tasks) array, got {scores.shape}")
    return scores


# Batched forms: (B, runs, tasks) -> (B,), one value per stacked score matrix.
def _iqm_rows(batch: np.ndarray) -> np.ndarray:
    return stats.trim_mean(batch.reshape(len(batch), -1), 0.25, axis=1)


def _median_rows(batch: np.ndarray) -> np.ndarray:
    return np.median(batch.mean(axis=1), axis=1)


def _mean_rows(batch: np.ndarray) -> np.ndarray:
    return batch.mean(axis=1).mean(axis=1)


def _optimality_gap_rows(batch: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    return gamma - np.minimum(batch, gamma).reshape(len(batch), -1).mean(axis=1)


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean, rliable's ``aggregate_iqm``: the 25% trimmed mean (a quarter cut
    from each end) of all runs x tasks flattened together."""
    return float(_iqm_rows(_matrix(scores)[None])[0])


def median(scores: np.ndarray) -> float:
    """rliable's ``aggregate_median``: the median over tasks of each task's mean over runs
    (not the median of all runs x tasks)."""
    return float(_median_rows(_matrix(scores)[None])[0])


def mean(scores: np.ndarray) -> float:
    """rliable's ``aggregate_mean``: the mean over tasks of each task's mean over runs."""
    return float(_mean_rows(_matrix(scores)[None])[0])


def optimality_gap(scores: np.ndarray, gamma: float = 1.0) -> float:
    """rliable's ``aggregate_optimality_gap``: ``gamma - mean(min(score, gamma))`` over all
    runs x tasks, i.e. the mean shortfall below ``gamma``; lower is better."""
    return float(_optimality_gap_rows(_matrix(scores)[None], gamma)[0])


AGGREGATES: dict[str, Aggregate] = {
    "IQM": iqm,
    "median": median,
    "mean": mean,
    "optimality gap": optimality_gap,
}
_BATCHED: dict[Aggregate, Batched] = {
    iqm: _iqm_rows,
    median: _median_rows,
    mean: _mean_rows,
    optimality_gap: _optimality_gap_rows,
}


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile bootstrap interval (linear interpolation, as arch's ``percentile`` method)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def _resample(rng: np.random.Generator, scores: np.ndarray, count: int) -> np.ndarray:
    """``count`` stratified resamples, (count, runs, tasks): runs drawn per task."""
    runs, tasks = scores.shape
    idx = rng.integers(0, runs, size=(count, runs, tasks))
    return np.take_along_axis(scores[None], idx, axis=1)


def _chunks(reps: int, values_per_rep: int) -> list[int]:
    size = max(1, _CHUNK_VALUES // max(1, values_per_rep))
    return [min(size, reps - start) for start in range(0, reps, size)]


def stratified_bootstrap_ci(
    scores: np.ndarray,
    aggregate: Aggregate,
    reps: int = DEFAULT_REPS,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Point estimate and percentile CI of ``aggregate`` over (runs, tasks) scores.

    rliable's ``get_interval_estimates`` with ``StratifiedBootstrap`` (``task_bootstrap=False``,
    ``method="percentile"``): each replicate resamples the runs of every task with replacement,
    independently per task. The built-in aggregates are evaluated on whole chunks of replicates
    at once; any other ``aggregate`` is called once per replicate.
    """
    scores = _matrix(scores)
    if reps < 1:
        raise ValueError(f"reps must be positive, got {reps}")
    rng = np.random.default_rng(seed)
    batched = _BATCHED.get(aggregate)
    values = []
    for count in _chunks(reps, scores.size):
        resampled = _resample(rng, scores, count)
        if batched is not None:
            values.append(batched(resampled))
        else:
            values.append(np.array([aggregate(r) for r in resampled], dtype=float))
    low, high = _percentile_interval(np.concatenate(values), confidence)
    return aggregate(scores), low, high


def mean_ci(
    values: np.ndarray, confidence: float = 0.95, seed: int = 0, reps: int = 2000
) -> tuple[float, float, float]:
    """Mean and percentile bootstrap CI of a 1-D sample via scipy.stats.bootstrap."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2 or np.all(values == values[0]):
        return float(np.mean(values)), float(np.mean(values)), float(np.mean(values))
    res = stats.bootstrap((values,), np.mean, confidence_level=confidence, n_resamples=reps,
                          method="percentile", rng=np.random.default_rng(seed))  # fmt: skip
    return (
        float(np.mean(values)),
        float(res.confidence_interval.low),
        float(res.confidence_interval.high),
    )


def _poi_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) for stacked pairs: x (B, runs_x, tasks), y (B, runs_y, tasks) -> (B,).

    A task with a NaN score gives NaN (as scipy's Mann-Whitney U does in rliable).
    """
    xs, ys = x[:, :, None, :], y[:, None, :, :]
    per_task = ((xs > ys) + 0.5 * (xs == ys)).mean(axis=(1, 2))
    nan = np.isnan(x).any(axis=1) | np.isnan(y).any(axis=1)
    return np.where(nan, np.nan, per_task).mean(axis=1)


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = _matrix(x), _matrix(y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must score the same tasks, got {x.shape} and {y.shape}")
    return x, y


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """rliable's ``probability_of_improvement``: per task, Mann-Whitney U(X > Y) / (m * n),
    i.e. the chance a run of X beats a run of Y with ties counting one half, averaged over
    tasks; ``x`` (runs_x, tasks), ``y`` (runs_y, tasks). NaN scores give NaN."""
    x, y = _pair(x, y)
    return float(_poi_rows(x[None], y[None])[0])


def probability_of_improvement_ci(
    x: np.ndarray,
    y: np.ndarray,
    reps: int = DEFAULT_REPS,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """P(X > Y) with a percentile CI from rliable's ``StratifiedIndependentBootstrap``: each
    replicate resamples the runs of X and, independently, the runs of Y within every task."""
    x, y = _pair(x, y)
    if reps < 1:
        raise ValueError(f"reps must be positive, got {reps}")
    rng = np.random.default_rng(seed)
    values = [
        _poi_rows(_resample(rng, x, count), _resample(rng, y, count))
        for count in _chunks(reps, x.shape[0] * y.shape[0] * x.shape[1])
    ]
    low, high = _percentile_interval(np.concatenate(values), confidence)
    return probability_of_improvement(x, y), low, high


def area_under_curve(steps: np.ndarray, returns: np.ndarray) -> float:
    """Mean return over the curve's step range (trapezoid area / step span)."""
    steps, returns = np.asarray(steps, float), np.asarray(returns, float)
    if len(steps) < 2:
        return float(returns[0]) if len(returns) else float("nan")
    return float(np.trapezoid(returns, steps) / (steps[-1] - steps[0]))


def fit_power_law(t: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    """Least squares in log-log: err = c * t**p -> (c, p). Non-positive errors are dropped."""
    t, err = np.asarray(t, float), np.asarray(err, float)
    keep = (t > 0) & (err > 0) & np.isfinite(err)
    if keep.sum() < 2:
        return float("nan"), float("nan")
    p, log_c = np.polyfit(np.log(t[keep]), np.log(err[keep]), 1)
    return float(np.exp(log_c)), float(p)
