"""Statistics over runs: normalised scores, IQM, stratified bootstrap CIs, P(improvement), AUC.

Definitions follow rliable (Agarwal et al. 2021): scores are arrays of shape (runs, tasks);
the stratified bootstrap resamples runs independently within each task; IQM is the 25%
trimmed mean over all runs x tasks; P(X > Y) averages over tasks the Mann-Whitney
probability that a run of X beats a run of Y (ties count one half).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

Aggregate = Callable[[np.ndarray], float]


def normalise(returns: np.ndarray, random_return: float, reference_return: float) -> np.ndarray:
    """Map the random policy's return to 0 and the reference return to 1."""
    scale = reference_return - random_return
    if scale == 0 or not np.isfinite(scale):
        raise ValueError("reference and random returns must differ and be finite")
    return (np.asarray(returns, dtype=float) - random_return) / scale


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% of all values (25% trimmed each side)."""
    return float(stats.trim_mean(np.asarray(scores, dtype=float).ravel(), 0.25))


def mean(scores: np.ndarray) -> float:
    return float(np.mean(scores))


def median(scores: np.ndarray) -> float:
    return float(np.median(scores))


AGGREGATES: dict[str, Aggregate] = {"IQM": iqm, "median": median, "mean": mean}


def stratified_bootstrap_ci(
    scores: np.ndarray,
    aggregate: Aggregate,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Point estimate and percentile CI of ``aggregate`` over (runs, tasks) scores.

    Each replicate resamples the runs of every task with replacement, independently per task.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
    runs, tasks = scores.shape
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, runs, size=(reps, runs, tasks))
    resampled = np.take_along_axis(scores[None], idx, axis=1)
    values = np.array([aggregate(r) for r in resampled])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return aggregate(scores), float(low), float(high)


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


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) averaged over tasks; ``x`` (runs_x, tasks), ``y`` (runs_y, tasks)."""
    x, y = np.atleast_2d(np.asarray(x, float).T).T, np.atleast_2d(np.asarray(y, float).T).T
    per_task = []
    for task in range(x.shape[1]):
        diff = x[:, task][:, None] - y[:, task][None, :]
        per_task.append(np.mean((diff > 0) + 0.5 * (diff == 0)))
    return float(np.mean(per_task))


def probability_of_improvement_ci(
    x: np.ndarray, y: np.ndarray, reps: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """P(X > Y) with a stratified bootstrap CI (runs of X and of Y resampled per task)."""
    x, y = np.atleast_2d(np.asarray(x, float).T).T, np.atleast_2d(np.asarray(y, float).T).T
    rng = np.random.default_rng(seed)
    values = np.empty(reps)
    for rep in range(reps):
        xi = np.take_along_axis(x, rng.integers(0, x.shape[0], x.shape), axis=0)
        yi = np.take_along_axis(y, rng.integers(0, y.shape[0], y.shape), axis=0)
        values[rep] = probability_of_improvement(xi, yi)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return probability_of_improvement(x, y), float(low), float(high)


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
