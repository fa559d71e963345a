"""Do analysis/stats.py's aggregates, P(improvement) and stratified-bootstrap CIs agree with
rliable's? Runs both on fixed random (runs, tasks) arrays; writes results.json beside itself.

Needs a side environment where rliable imports (see README.md); our side needs only numpy and
scipy. Usage: /tmp/rl-venv/bin/python studies/rliable_agreement/compare.py
"""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from analysis import stats  # noqa: E402

try:
    from rliable import library as rly
    from rliable import metrics as rlm
except ImportError as error:  # pragma: no cover - the README says how to build the side env
    message = f"rliable does not import here ({error}); build the side env in README.md"
    raise SystemExit(message) from None

REPS = 20_000
SEEDS = 8  # our bootstrap is rerun with this many seeds to measure its Monte-Carlo error
TOLERANCE_SE = 4.0  # agreement: |ours - rliable| <= 4 s.e. of the difference

RLIABLE_AGGREGATES = {
    "IQM": rlm.aggregate_iqm,
    "median": rlm.aggregate_median,
    "mean": rlm.aggregate_mean,
    "optimality gap": rlm.aggregate_optimality_gap,
}


def arrays() -> dict[str, np.ndarray]:
    """Fixed (runs, tasks) score arrays: hand-sized, skewed, wide and tied."""
    rng = np.random.default_rng(20240935)
    skewed = rng.gamma(2.0, 0.4, size=(10, 5)) + np.array([0.0, 0.2, 0.5, 1.0, 1.5])
    return {
        "hand 3x2": np.array([[0.0, 4.0], [1.0, 5.0], [8.0, 6.0]]),
        "skewed 10x5": skewed,
        "wide 5x26": rng.normal(0.8, 0.6, size=(5, 26)) * rng.uniform(0.5, 2.0, size=26),
        "tied 6x4": np.round(rng.normal(0.9, 0.5, size=(6, 4)), 1),
    }


def flat_median(scores: np.ndarray) -> float:
    """The definition analysis/stats.py used before issue 35: median of all runs x tasks."""
    return float(np.median(scores))


def rliable_ci(scores, func, seed: int) -> tuple[float, float, float]:
    """rliable's point estimate and percentile stratified-bootstrap CI at REPS replicates."""
    np.random.seed(seed)  # noqa: NPY002 - rliable draws its indices from numpy's global state

    def wrapped(*s: np.ndarray) -> np.ndarray:
        return np.array([func(*s)])  # rliable wants a 1-D output

    point, interval = rly.get_interval_estimates({"k": scores}, wrapped, reps=REPS)
    return float(point["k"][0]), float(interval["k"][0, 0]), float(interval["k"][1, 0])


def compare_ci(ours_runs: list[tuple[float, float, float]], theirs) -> dict:
    """Endpoint differences against the Monte-Carlo s.e. measured from our reruns."""
    lows, highs = np.array([r[1] for r in ours_runs]), np.array([r[2] for r in ours_runs])
    out = {"rliable": {"point": theirs[0], "low": theirs[1], "high": theirs[2]},
           "ours_seed0": {"point": ours_runs[0][0], "low": lows[0], "high": highs[0]}}  # fmt: skip
    agree = True
    for name, ours, theirs_value in (("low", lows, theirs[1]), ("high", highs, theirs[2])):
        se = float(ours.std(ddof=1))  # one run's MC s.e.; rliable's run is assumed alike
        diff = float(ours[0] - theirs_value)
        tol = TOLERANCE_SE * np.sqrt(2.0) * se
        ok = abs(diff) <= tol
        agree &= ok
        # z: the difference in s.e. of a difference; None where our reruns never varied
        z = diff / (np.sqrt(2.0) * se) if se > 0 else (0.0 if diff == 0 else None)
        out[name] = {"diff": diff, "mc_se": se, "z": z, "tolerance": tol, "agree": bool(ok)}
    out["agree"] = bool(agree)
    return out


def main() -> None:
    began = time.perf_counter()
    results: dict = {
        "versions": {
            p: importlib.metadata.version(p)
            for p in ("rliable", "arch", "numpy", "scipy", "pandas")
        },  # fmt: skip
        "reps": REPS,
        "seeds_for_mc_error": SEEDS,
        "tolerance": f"|ours - rliable| <= {TOLERANCE_SE} * sqrt(2) * MC s.e.",
        "rliable_default_reps": inspect.signature(rly.get_interval_estimates)
        .parameters["reps"]
        .default,
        "ours_default_reps": inspect.signature(stats.stratified_bootstrap_ci)
        .parameters["reps"]
        .default,
        "aggregates": {},
        "probability_of_improvement": {},
    }
    data = arrays()
    worst_point = 0.0
    for label, scores in data.items():
        entry: dict = {"shape": list(scores.shape), "flat_median_before": flat_median(scores)}
        for name, theirs_fn in RLIABLE_AGGREGATES.items():
            ours_fn = stats.AGGREGATES[name]
            point_diff = abs(ours_fn(scores) - float(theirs_fn(scores)))
            worst_point = max(worst_point, point_diff)
            ours_runs = [stats.stratified_bootstrap_ci(scores, ours_fn, reps=REPS, seed=s)
                         for s in range(SEEDS)]  # fmt: skip
            cmp = compare_ci(ours_runs, rliable_ci(scores, theirs_fn, seed=0))
            entry[name] = {"point_abs_diff": point_diff, **cmp}
            print(f"{label:12s} {name:15s} point diff {point_diff:.1e}  CI ours "
                  f"[{cmp['ours_seed0']['low']:.4f}, {cmp['ours_seed0']['high']:.4f}] rliable "
                  f"[{cmp['rliable']['low']:.4f}, {cmp['rliable']['high']:.4f}] "
                  f"agree={cmp['agree']}", flush=True)  # fmt: skip
        results["aggregates"][label] = entry

    rng = np.random.default_rng(35)
    pairs = {
        "10x5 vs 7x5, ties": (
            np.round(rng.normal(0.6, 0.4, (10, 5)), 1),
            np.round(rng.normal(0.4, 0.4, (7, 5)), 1),
        ),  # fmt: skip
        "5x3 vs 5x3": (rng.normal(1.0, 1.0, (5, 3)), rng.normal(0.5, 1.0, (5, 3))),
    }
    for label, (x, y) in pairs.items():
        point_diff = abs(stats.probability_of_improvement(x, y)
                         - float(rlm.probability_of_improvement(x, y)))  # fmt: skip
        worst_point = max(worst_point, point_diff)
        ours_runs = [stats.probability_of_improvement_ci(x, y, reps=REPS, seed=s)
                     for s in range(SEEDS)]  # fmt: skip
        cmp = compare_ci(ours_runs, rliable_ci([x, y], rlm.probability_of_improvement, seed=0))
        results["probability_of_improvement"][label] = {"point_abs_diff": point_diff, **cmp}
        print(f"PoI {label:18s} point diff {point_diff:.1e}  CI ours "
              f"[{cmp['ours_seed0']['low']:.4f}, {cmp['ours_seed0']['high']:.4f}] rliable "
              f"[{cmp['rliable']['low']:.4f}, {cmp['rliable']['high']:.4f}] "
              f"agree={cmp['agree']}", flush=True)  # fmt: skip

    checks = [v for e in results["aggregates"].values() for k, v in e.items()
              if k in RLIABLE_AGGREGATES]  # fmt: skip
    checks += list(results["probability_of_improvement"].values())
    results["max_point_abs_diff"] = worst_point
    results["points_agree_1e-9"] = worst_point <= 1e-9
    results["cis_agree"] = all(c["agree"] for c in checks)
    zs = [c[end]["z"] for c in checks for end in ("low", "high")]
    results["max_abs_z"] = None if None in zs else max(abs(z) for z in zs)
    results["wall_seconds"] = round(time.perf_counter() - began, 1)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"max point diff {worst_point:.2e}; all CIs agree: {results['cis_agree']} "
          f"(max |z| {results['max_abs_z']}); "
          f"{results['wall_seconds']} s")  # fmt: skip


if __name__ == "__main__":
    main()
