"""The claims table: one row per claim of the method spectrum, each verdict computed by a
stated rule from the aggregated tables, never typed by hand.

    python -m analysis.claims --tables results/tables --out results/claims

Writes ``claims.csv`` and ``claims.md``. Verdicts: supported / not supported /
inconclusive (too few runs, or the quantity is not measured by this tier's variants).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import stats
from analysis.model_error import pre_saturation
from methods.common.run_io import atomic_write_text

COLUMNS = ["claim", "env", "measure", "effect", "ci_low", "ci_high", "n", "verdict", "rule"]
MIN_RUNS = 3


def _row(claim, env, measure, effect, low, high, n, verdict, rule) -> dict:
    return dict(zip(COLUMNS, [claim, env, measure, effect, low, high, n, verdict, rule],
                    strict=True))  # fmt: skip


def _missing(claim: str, measure: str, why: str) -> dict:
    return _row(claim, "all", measure, np.nan, np.nan, np.nan, 0, "inconclusive", why)


def model_error_exponent(model_error: pd.DataFrame | None) -> list[dict]:
    claim, rule = "1. model error grows ~ t^2", "supported if 2 lies in the 95% CI of p"
    if model_error is None or model_error.empty:
        return [_missing(claim, "p in err = c t^p", "no model-error table in this tier")]
    if "data" not in model_error:
        model_error = model_error.assign(data="random")
    rows = []
    for (env, source), data in model_error[model_error["mode"] == "mean"].groupby(["env", "data"]):
        label = {"random": "random-policy", "policy": "trained-policy"}.get(source, source)
        measure = f"p (mean propagation, pre-saturation fit, {label} trajectories)"
        exponents = []
        for _, curve in data.groupby(["variant", "seed"]):
            fit = pre_saturation(curve.sort_values("t"))
            if len(fit) >= 3:
                exponents.append(stats.fit_power_law(fit.t.to_numpy(), fit.mse.to_numpy())[1])
        exponents = np.array([p for p in exponents if np.isfinite(p)])
        if len(exponents) < MIN_RUNS:
            rows.append(_row(claim, env, measure, np.nan,
                             np.nan, np.nan, len(exponents), "inconclusive",
                             f"fewer than {MIN_RUNS} fitted models"))  # fmt: skip
            continue
        p, low, high = stats.stratified_bootstrap_ci(exponents, stats.mean)
        verdict = "supported" if low <= 2.0 <= high else "not supported"
        rows.append(_row(claim, env, measure, p, low, high, len(exponents), verdict, rule))
    return rows


def bptt_gradient_growth(metrics: pd.DataFrame, runs: pd.DataFrame) -> list[dict]:
    claim = "2. BPTT gradient norm grows with H"
    rule = "supported if the 95% CI of the slope of log grad norm vs log H is above 0"
    bptt = metrics[(metrics.method == "bptt") & (metrics.name == "bptt/grad_norm")]
    if bptt.empty or "horizon" not in runs:
        return [_missing(claim, "slope d log|g| / d log H", "no BPTT runs in this tier")]
    rows = []
    per_run = bptt.groupby(["variant", "env", "seed"], as_index=False).value.median()
    per_run = per_run.merge(runs[["variant", "env", "seed", "horizon"]], on=["variant", "env",
                                                                            "seed"])  # fmt: skip
    for env, data in per_run.groupby("env"):
        if data.horizon.nunique() < 2 or len(data) < MIN_RUNS:
            rows.append(_row(claim, env, "slope d log|g| / d log H", np.nan, np.nan, np.nan,
                             len(data), "inconclusive", "needs >= 2 horizons"))  # fmt: skip
            continue
        x, y = np.log(data.horizon.astype(float).to_numpy()), np.log(data.value.to_numpy())
        rng = np.random.default_rng(0)
        slopes = []
        for _ in range(2000):
            idx = rng.integers(0, len(x), len(x))
            if np.unique(x[idx]).size > 1:
                slopes.append(np.polyfit(x[idx], y[idx], 1)[0])
        slope = np.polyfit(x, y, 1)[0]
        low, high = np.quantile(slopes, [0.025, 0.975])
        verdict = "supported" if low > 0 else ("not supported" if high < 0 else "inconclusive")
        rows.append(_row(claim, env, "slope d log|g| / d log H", slope, low, high, len(data),
                         verdict, rule))  # fmt: skip
    return rows


def _final_half_mean(metrics: pd.DataFrame, name: str) -> pd.DataFrame:
    data = metrics[metrics.name == name]
    cut = data.groupby(["variant", "env", "seed"]).env_step.transform("max") / 2
    late = data[data.env_step >= cut]
    return late.groupby(["variant", "method", "env", "seed"], as_index=False).value.mean()


def _pairwise(claim, measure, rule, table, value, better_method, other_method) -> list[dict]:
    rows = []
    for env, data in table.groupby("env"):
        x = data[data.method == better_method][value].to_numpy()
        y = data[data.method == other_method][value].to_numpy()
        if len(x) < MIN_RUNS or len(y) < MIN_RUNS:
            rows.append(_row(claim, env, measure, np.nan, np.nan, np.nan, len(x) + len(y),
                             "inconclusive", f"fewer than {MIN_RUNS} runs of each"))  # fmt: skip
            continue
        p, low, high = stats.probability_of_improvement_ci(x[:, None], y[:, None])
        verdict = "supported" if low > 0.5 else ("not supported" if high < 0.5 else
                                                 "inconclusive")  # fmt: skip
        rows.append(_row(claim, env, measure, p, low, high, len(x) + len(y), verdict, rule))
    return rows


def _dyna_above_mbpo(metrics: pd.DataFrame, name: str, claim: str, quantity: str) -> list[dict]:
    """P(Dyna's second-half mean of metric ``name`` > MBPO's), per env, with its rule."""
    rule = f"supported if the 95% CI of P({quantity}_dyna > {quantity}_mbpo) is above 0.5"
    measure = f"P({quantity}_dyna > {quantity}_mbpo), 2nd half"
    table = _final_half_mean(metrics, name)
    if table.empty:
        return [_missing(claim, measure, "no Dyna/MBPO runs in this tier")]
    return _pairwise(claim, measure, rule, table, "value", "dyna", "mbpo")


def dyna_exploitation(metrics: pd.DataFrame) -> list[dict]:
    claim = "3. long Dyna rollouts are exploited (predicted - real return grows)"
    return _dyna_above_mbpo(metrics, "model/return_gap", claim, "gap")


def branched_efficiency(returns: pd.DataFrame) -> list[dict]:
    claim = "4. short branched rollouts beat long rollouts and model-free"
    rule = "supported if the 95% CI of P(AUC_mbpo > AUC_other) is above 0.5"
    rows = []
    for _env, data in returns.groupby("env"):
        for other in ("sac", "dyna"):
            # the two methods' common range only (an MPC or BPTT budget must not cut it)
            pair = data[data.method.isin(["mbpo", other])]
            if pair.method.nunique() < 2:
                continue
            common = pair.groupby("variant").env_step.max().min()
            pair = pair[pair.env_step <= common]
            auc = pair.groupby(["variant", "method", "env", "seed"]).apply(
                lambda g: stats.area_under_curve(g.env_step.to_numpy(),
                                                 g.eval_return_mean.to_numpy()),
                include_groups=False,
            ).rename("auc").reset_index()  # fmt: skip
            rows += _pairwise(claim, f"P(AUC_mbpo > AUC_{other}) to {common} steps", rule,
                              auc, "auc", "mbpo", other)  # fmt: skip
    return rows or [_missing(claim, "P(AUC_mbpo > AUC_other)", "no MBPO runs beside SAC/Dyna")]


def decision_cost(timings: pd.DataFrame) -> list[dict]:
    claim = "5. MPC costs far more per action than an amortised policy"
    rule = "supported if the 95% CI of the ms-per-action ratio MPC / policy is above 10"
    ms = timings[timings.name == "time/policy_ms_per_action"]
    per_run = ms.groupby(["variant", "method", "env", "seed"], as_index=False).value.median()
    rows = []
    for env, data in per_run.groupby("env"):
        mpc = data[data.method == "mpc"].value.to_numpy()
        policy = data[data.method.isin(["sac", "mbpo", "dyna", "bptt"])].value.to_numpy()
        if len(mpc) < MIN_RUNS or len(policy) < MIN_RUNS:
            rows.append(_row(claim, env, "ms/action ratio", np.nan, np.nan, np.nan,
                             len(mpc) + len(policy), "inconclusive", "too few runs"))  # fmt: skip
            continue
        rng = np.random.default_rng(0)
        ratios = [np.median(rng.choice(mpc, len(mpc))) / np.median(rng.choice(policy, len(policy)))
                  for _ in range(2000)]  # fmt: skip
        ratio = float(np.median(mpc) / np.median(policy))
        low, high = np.quantile(ratios, [0.025, 0.975])
        verdict = "supported" if low > 10 else ("not supported" if high < 10 else "inconclusive")
        rows.append(_row(claim, env, "median ms/action, MPC / policy", ratio, low, high,
                         len(mpc) + len(policy), verdict, rule))  # fmt: skip
    return rows or [_missing(claim, "ms/action ratio", "no runs")]


def distribution_mismatch(metrics: pd.DataFrame) -> list[dict]:
    claim = "6. branched rollouts stay closer to the real data than long ones"
    return _dyna_above_mbpo(metrics, "rollout/nn_distance_mean", claim, "nn-distance")


def claims_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = (
        model_error_exponent(tables.get("model_error"))
        + bptt_gradient_growth(tables["metrics"], tables["runs"])
        + dyna_exploitation(tables["metrics"])
        + branched_efficiency(tables["returns"])
        + decision_cost(tables["timings"])
        + distribution_mismatch(tables["metrics"])
    )
    return pd.DataFrame(rows, columns=COLUMNS)


def to_markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in table.itertuples(index=False):
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", required=True)
    parser.add_argument("--out", required=True, help="output prefix (writes .csv and .md)")
    args = parser.parse_args(argv)
    folder = Path(args.tables)
    tables = {}
    for name in ("returns", "metrics", "timings", "runs", "model_error"):
        path = folder / f"{name}.parquet"
        if path.exists():
            tables[name] = pd.read_parquet(path)
        elif name != "model_error":
            print(f"error: {path} is missing; run the aggregate rule first", file=sys.stderr)
            return 2
    table = claims_table(tables)
    atomic_write_text(Path(f"{args.out}.csv"), table.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(Path(f"{args.out}.md"), to_markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
