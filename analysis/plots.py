"""Figures, one function each; ``python -m analysis.plots NAME INPUT... OUTPUT.pdf OUTPUT.png``
(``--help`` lists every figure and its input tables)."""

from __future__ import annotations

import argparse
import inspect
import io
import re
import sys
from pathlib import Path
from typing import NoReturn

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from methods.common.errors import UserError  # noqa: E402
from methods.common.run_io import atomic_write_bytes  # noqa: E402

FAMILY_COLOURS = {"sac": "#4C72B0", "mbpo": "#DD8452", "dyna": "#55A868", "mpc": "#C44E52",
                  "bptt": "#8172B3"}  # fmt: skip


def save(fig: plt.Figure, outputs: list[str]) -> None:
    """Write the figure to each path (format from the suffix) atomically.

    PDFs carry no creation date so reruns give identical bytes.
    """
    for out in outputs:
        buffer = io.BytesIO()
        metadata = {"CreationDate": None} if out.endswith(".pdf") else {"Software": None}
        fig.savefig(buffer, format=Path(out).suffix[1:], bbox_inches="tight", metadata=metadata)
        atomic_write_bytes(Path(out), buffer.getvalue())
    plt.close(fig)


def variant_palette(frame: pd.DataFrame) -> dict[str, str]:
    """One colour per variant, shades of its method family's colour."""
    palette = {}
    for method, group in frame.groupby("method"):
        variants = sorted(group.variant.unique())
        base = FAMILY_COLOURS.get(method, "#777777")
        shades = sns.light_palette(base, n_colors=len(variants) + 2)[2:] if len(variants) > 1 \
            else [base]  # fmt: skip
        palette.update(dict(zip(variants, shades, strict=True)))
    return palette


def published_steps(value) -> float:
    """The leading integer of a reference table's env_steps cell (NaN if none)."""
    match = re.match(r"\s*(\d+)", str(value))
    return float(match.group(1)) if match else float("nan")


def draw_published(ax, published: pd.DataFrame, env: str, max_step: float) -> None:
    """Published returns for env (reference/published_returns.csv): a marker where the
    reference's budget lies within the plotted range, else a dotted line labelled with it."""
    rows = published[published.env == env]
    for i, row in enumerate(rows.itertuples()):
        steps = published_steps(row.env_steps)
        short = str(row.method).split(" (")[0]
        color = sns.color_palette("Greys", len(rows) + 2)[i + 2]
        if np.isfinite(steps) and steps <= 1.05 * max_step:
            ax.plot(steps, row.value, marker="*", ms=11, ls="", color=color,
                    label=f"{row.source} {short} ({steps:g} steps)")  # fmt: skip
        else:
            budget = f"{steps / 1000:g}k steps" if np.isfinite(steps) else "budget n/a"
            ax.axhline(row.value, color=color, ls=":", lw=1.2,
                       label=f"{row.source} {short} at {budget}")  # fmt: skip


def learning_curves(returns: pd.DataFrame, published: pd.DataFrame | None = None) -> plt.Figure:
    """Eval return vs env steps per env, every variant, mean with a 95% bootstrap CI band;
    published returns for the env (``published``) as stars or, beyond the plotted budget,
    dotted lines."""
    envs = sorted(returns.env.unique())
    cols = min(3, len(envs))
    rows = -(-len(envs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.4 * rows), squeeze=False)
    palette = variant_palette(returns)
    for ax, env in zip(axes.flat, envs, strict=False):
        data = returns[returns.env == env]
        sns.lineplot(data=data, x="env_step", y="eval_return_mean", hue="variant",
                     palette=palette, errorbar=("ci", 95), n_boot=1000, seed=0, ax=ax)  # fmt: skip
        if published is not None:
            draw_published(ax, published, env, float(data.env_step.max()))
        n_seeds = data.groupby("variant").seed.nunique().max()
        ax.set(title=f"{env} ({n_seeds} seeds)", xlabel="env steps",
               ylabel="eval return (deterministic policy)")  # fmt: skip
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(envs) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _grid(n: int, width: float = 4.5, height: float = 3.4):
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)[:n]


def model_error_vs_horizon(model_error: pd.DataFrame) -> plt.Figure:
    """Open-loop z-scored MSE vs t (log-log) per env and held-out set (random or trained-
    policy trajectories) and propagation mode (line style: the model kind, e.g.
    deterministic single network vs probabilistic ensemble), with a t^2 reference slope."""
    if "data" not in model_error:
        model_error = model_error.assign(data="random")
    panels = sorted(model_error.groupby(["env", "data"]).groups)
    fig, axes = _grid(len(panels))
    for ax, (env, source) in zip(axes, panels, strict=True):
        data = model_error[(model_error.env == env) & (model_error.data == source)]
        style = "model" if "model" in data and data.model.nunique() > 1 else None
        sns.lineplot(data=data, x="t", y="mse", hue="mode", style=style, errorbar=("ci", 95),
                     n_boot=500, seed=0, ax=ax)  # fmt: skip
        first = data[(data["mode"] == "mean") & (data.t == 1)].mse.mean()
        t = data.t.drop_duplicates().sort_values().to_numpy()
        ax.plot(t, first * t.astype(float) ** 2, "k--", lw=1, label="t^2 reference")
        n_runs = data.groupby(["variant", "seed"]).ngroups
        ax.set(xscale="log", yscale="log", title=f"{env}, {source} data ({n_runs} models)",
               xlabel="open-loop horizon t (steps)", ylabel="MSE (z-scored state)")  # fmt: skip
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def decision_time_cost(timings: pd.DataFrame, returns: pd.DataFrame) -> plt.Figure:
    """Milliseconds per action (log) vs final eval return, per variant (mean over seeds)."""
    ms = timings[timings.name == "time/policy_ms_per_action"]
    ms = ms.groupby(["variant", "method", "env"], as_index=False).value.median()
    final = returns.sort_values("env_step").groupby(["variant", "env", "seed"]).tail(1)
    final = final.groupby(["variant", "env"], as_index=False).eval_return_mean.mean()
    data = ms.merge(final, on=["variant", "env"])
    envs = sorted(data.env.unique())
    fig, axes = _grid(len(envs))
    for ax, env in zip(axes, envs, strict=True):
        sub = data[data.env == env]
        sns.scatterplot(data=sub, x="value", y="eval_return_mean", hue="method",
                        palette=FAMILY_COLOURS, s=60, ax=ax)  # fmt: skip
        for row in sub.itertuples():
            ax.annotate(row.variant, (row.value, row.eval_return_mean), fontsize=6,
                        xytext=(3, 3), textcoords="offset points")  # fmt: skip
        ax.set(xscale="log", title=env, xlabel="decision time (ms per action, median)",
               ylabel="final eval return (mean over seeds)")  # fmt: skip
    fig.tight_layout()
    return fig


def distribution_mismatch(metrics: pd.DataFrame) -> plt.Figure:
    """Per rollout step: distance of synthetic states to the nearest real state (z-scored)
    and ensemble disagreement, MBPO vs Dyna variants, mean with 95% CI over runs."""
    data = metrics[metrics.name.str.match(r"rollout/(nn_distance|disagreement)_step\d+")].copy()
    data["quantity"] = data.name.str.extract(r"rollout/(\w+?)_step")[0]
    data["step"] = data.name.str.extract(r"_step(\d+)")[0].astype(int)
    per_run = data.groupby(["variant", "method", "env", "seed", "quantity", "step"],
                           as_index=False).value.mean()  # fmt: skip
    envs = sorted(per_run.env.unique())
    fig, axes = plt.subplots(2, max(1, len(envs)), figsize=(4.5 * max(1, len(envs)), 6.4),
                             squeeze=False)  # fmt: skip
    palette = variant_palette(per_run)
    for col, env in enumerate(envs):
        for row, (quantity, label) in enumerate(
            [("nn_distance", "distance to nearest real state (z)"),
             ("disagreement", "ensemble disagreement (std, z)")]):  # fmt: skip
            ax = axes[row, col]
            sub = per_run[(per_run.env == env) & (per_run.quantity == quantity)]
            sns.lineplot(data=sub, x="step", y="value", hue="variant", palette=palette,
                         errorbar=("ci", 95), n_boot=500, seed=0, ax=ax)  # fmt: skip
            ax.set(xscale="log", title=env if row == 0 else "", xlabel="rollout step",
                   ylabel=label)  # fmt: skip
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def k_sweep(returns: pd.DataFrame, runs: pd.DataFrame) -> plt.Figure:
    """Final return and AUC vs rollout length k (SAC at k = 0, MBPO at k, Dyna at the right)."""
    from analysis.scores import run_summary

    summary = run_summary(returns).rename(
        columns={"final_return": "final return", "auc": "AUC (mean return)"}
    )
    summary = summary[summary.method.isin(["sac", "mbpo", "dyna"])]
    params = runs.set_index(["variant", "env", "seed"])

    def label(row) -> str:  # noqa: E306
        if row.method == "sac":
            return "0 (SAC)"
        p = params.loc[(row.variant, row.env, row.seed)]
        if row.method == "mbpo" and str(p.get("rollout_schedule")) not in ("None", "nan"):
            return "sched"
        return f"{'Dyna ' if row.method == 'dyna' else ''}{int(p['rollout_length'])}"

    summary["k"] = [label(r) for r in summary.itertuples()]

    def position(k: str) -> tuple:
        number = k.split()[-1] if k.startswith("Dyna") else k.split()[0]
        return (k.startswith("Dyna"), k == "sched", int(number) if number.isdigit() else 0)

    order = sorted(summary.k.unique(), key=position)
    envs = sorted(summary.env.unique())
    fig, axes = plt.subplots(2, max(1, len(envs)), figsize=(4.5 * max(1, len(envs)), 6.4),
                             squeeze=False)  # fmt: skip
    for col, env in enumerate(envs):
        for row, quantity in enumerate(["final return", "AUC (mean return)"]):
            ax = axes[row, col]
            sub = summary[summary.env == env]
            present = [k for k in order if k in set(sub.k)]
            sns.pointplot(data=sub, x="k", y=quantity, order=present, errorbar=("ci", 95),
                          n_boot=500, seed=0, ax=ax, color="#DD8452")  # fmt: skip
            ax.set(title=env if row == 0 else "", xlabel="rollout length k")
            ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig


def final_performance(scores: pd.DataFrame) -> plt.Figure:
    """IQM, median and mean of normalised final scores across envs per variant, each with a
    95% stratified bootstrap CI over runs x envs (rliable's interval plot)."""
    from analysis.stats import AGGREGATES, stratified_bootstrap_ci

    rows = []
    for variant, data in scores.dropna(subset=["score"]).groupby("variant"):
        table = data.pivot_table(index="seed", columns="env", values="score")
        matrix = table.dropna().to_numpy()  # runs present on every env of the variant
        if matrix.size == 0:
            continue
        for name, aggregate in AGGREGATES.items():
            point, low, high = stratified_bootstrap_ci(matrix, aggregate, reps=1000)
            rows.append({"variant": variant, "method": data.method.iloc[0], "aggregate": name,
                         "point": point, "low": low, "high": high,
                         "n": f"{matrix.shape[0]} seeds x {matrix.shape[1]} envs"})  # fmt: skip
    summary = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, len(AGGREGATES), figsize=(4.0 * len(AGGREGATES), 0.5 + 0.35 *
                             max(1, summary.variant.nunique() if len(summary) else 1)),
                             squeeze=False, sharey=True)  # fmt: skip
    order = sorted(summary.variant.unique()) if len(summary) else []
    for ax, name in zip(axes[0], AGGREGATES, strict=True):
        sub = summary[summary["aggregate"] == name].set_index("variant") if len(summary) else None
        for i, variant in enumerate(order):
            if sub is None or variant not in sub.index:
                continue
            row = sub.loc[variant]
            colour = FAMILY_COLOURS.get(row.method, "#777777")
            ax.plot([row.low, row.high], [i, i], color=colour, lw=6, alpha=0.6)
            ax.plot([row.point], [i], "|", color="k", ms=12)
        ax.set(title=name, xlabel="normalised score (random 0, reference 1)")
        ax.set_yticks(range(len(order)), order)
    fig.tight_layout()
    return fig


def probability_of_improvement(scores: pd.DataFrame) -> plt.Figure:
    """P(variant > SAC) on normalised final scores, averaged over envs, with a 95%
    stratified bootstrap CI (rliable's probability of improvement)."""
    from analysis.stats import probability_of_improvement_ci

    data = scores.dropna(subset=["score"])
    baseline = data[data.method == "sac"]
    rows = []
    for variant, group in data[data.method != "sac"].groupby("variant"):
        envs = sorted(set(group.env) & set(baseline.env))
        if not envs:
            continue
        x = group.pivot_table(index="seed", columns="env", values="score")[envs].dropna()
        y = baseline.pivot_table(index="seed", columns="env", values="score")[envs].dropna()
        if x.empty or y.empty:
            continue
        point, low, high = probability_of_improvement_ci(x.to_numpy(), y.to_numpy(), reps=500)
        rows.append({"variant": variant, "method": group.method.iloc[0], "point": point,
                     "low": low, "high": high})  # fmt: skip
    summary = pd.DataFrame(rows).sort_values("variant") if rows else pd.DataFrame()
    fig, ax = plt.subplots(figsize=(5.5, 0.6 + 0.35 * max(1, len(summary))))
    for i, row in enumerate(summary.itertuples()):
        ax.plot([row.low, row.high], [i, i], color=FAMILY_COLOURS.get(row.method, "#777"),
                lw=6, alpha=0.6)  # fmt: skip
        ax.plot([row.point], [i], "|", color="k", ms=12)
    ax.axvline(0.5, color="grey", ls="--", lw=1)
    ax.set_yticks(range(len(summary)), list(summary.variant) if len(summary) else [])
    ax.set(xlim=(0, 1), xlabel="P(variant > SAC), normalised final score, mean over envs",
           title="probability of improvement over SAC")  # fmt: skip
    fig.tight_layout()
    return fig


def dyna_exploitation(metrics: pd.DataFrame) -> plt.Figure:
    """Model-predicted minus real return of the eval policy over training, per rollout
    length (MBPO's branched k vs Dyna's long rollouts), mean with a 95% CI over seeds."""
    gap = metrics[(metrics.name == "model/return_gap") & metrics.method.isin(["mbpo", "dyna"])]
    envs = sorted(gap.env.unique())
    fig, axes = _grid(max(1, len(envs)))
    palette = variant_palette(gap) if len(gap) else {}
    for ax, env in zip(axes, envs, strict=False):
        sub = gap[gap.env == env]
        sns.lineplot(data=sub, x="env_step", y="value", hue="variant", palette=palette,
                     errorbar=("ci", 95), n_boot=500, seed=0, ax=ax)  # fmt: skip
        ax.axhline(0.0, color="grey", lw=1, ls="--")
        ax.set(title=env, xlabel="env steps",
               ylabel="predicted - real return (eval policy)")  # fmt: skip
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def bptt_gradient_vs_horizon(
    metrics: pd.DataFrame, runs: pd.DataFrame, gradient: pd.DataFrame, divergence: pd.DataFrame
) -> plt.Figure:
    """Per env, left: |d return / d policy| through the learned model vs H (log-log): the
    chaos diagnostic's median over start states, and the mean gradient norm of each BPTT
    variant over its training; right: median (and mean) log-distance of 1e-6-perturbed
    true-simulator twins vs t (the finite-time Lyapunov picture)."""
    envs = sorted(set(gradient.env) | set(divergence.env))
    fig, axes = plt.subplots(max(1, len(envs)), 2, figsize=(9.5, 3.4 * max(1, len(envs))),
                             squeeze=False)  # fmt: skip
    grads = metrics[metrics.name == "bptt/grad_norm"]
    horizon = runs.set_index(["variant", "env", "seed"])["horizon"] if "horizon" in runs else None
    for row, env in enumerate(envs):
        ax = axes[row, 0]
        diag = gradient[gradient.env == env].sort_values("horizon")
        ax.plot(diag.horizon, diag.median_grad_norm, "o-", color="k",
                label="chaos diagnostic (fixed policy, median)")  # fmt: skip
        sub = grads[grads.env == env]
        if horizon is not None and len(sub):
            per_run = sub.groupby(["variant", "seed"]).value.mean().reset_index()
            per_run["H"] = [horizon.get((v, env, s), np.nan) for v, s in
                            zip(per_run.variant, per_run.seed, strict=True)]  # fmt: skip
            sns.pointplot(data=per_run, x="H", y="value", native_scale=True, errorbar=("ci", 95),
                          n_boot=500, seed=0, color=FAMILY_COLOURS["bptt"], ax=ax,
                          label="BPTT runs (mean over training)")  # fmt: skip
        ax.set(xscale="log", yscale="log", title=env, xlabel="horizon H (model steps)",
               ylabel="policy-gradient norm")  # fmt: skip
        ax.legend(fontsize=7)
        ax = axes[row, 1]
        div = divergence[divergence.env == env].sort_values("t")
        collapsed = np.log(1e-30)  # twins on the very same state give log(1e-300): not drawn
        if "median_log_distance" in div:  # robust to pairs that collapse onto one state
            ax.plot(div.t, div.median_log_distance.where(div.median_log_distance > collapsed),
                    color="#C44E52", label="median")  # fmt: skip
        ax.plot(div.t, div.mean_log_distance.where(div.mean_log_distance > collapsed),
                color="#C44E52", ls=":", label="mean")  # fmt: skip
        ax.set(title=f"{env}: true-simulator twins", xlabel="t (env steps)",
               ylabel="log distance of the twins (> 1e-30)")  # fmt: skip
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


FIGURES = {
    "distribution_mismatch": (distribution_mismatch, 1),
    "k_sweep": (k_sweep, 2),
    "learning_curves": (learning_curves, 2),
    "model_error_vs_horizon": (model_error_vs_horizon, 1),
    "decision_time_cost": (decision_time_cost, 2),
    "final_performance": (final_performance, 1),
    "probability_of_improvement": (probability_of_improvement, 1),
    "dyna_exploitation": (dyna_exploitation, 1),
    "bptt_gradient_vs_horizon": (bptt_gradient_vs_horizon, 4),
}


TABLE_FILES = {  # where the DAG (workflow/rules/figures.smk) reads each table argument from
    "returns": "results/tables/returns.parquet",
    "published": "reference/published_returns.csv",
    "model_error": "results/tables/model_error.parquet",
    "timings": "results/tables/timings.parquet",
    "metrics": "results/tables/metrics.parquet",
    "runs": "results/tables/runs.parquet",
    "scores": "results/tables/scores.parquet",
    "gradient": "results/tables/chaos_gradient.parquet",
    "divergence": "results/tables/chaos_divergence.parquet",
}
OUTPUT_SUFFIXES = (".pdf", ".png")


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are the suite's one ``error:`` line."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see python -m analysis.plots --help)")


def figure_inputs(name: str) -> list[str]:
    """The table arguments of a figure function, in order."""
    fn, n_inputs = FIGURES[name]
    return list(inspect.signature(fn).parameters)[:n_inputs]


def _build_parser() -> argparse.ArgumentParser:
    lines = [f"  {name}\n      " + " ".join(TABLE_FILES.get(t, t) for t in figure_inputs(name))
             for name in FIGURES]  # fmt: skip
    parser = _Parser(
        prog="python -m analysis.plots",
        description="Draw one figure: its input tables (.parquet or .csv) in order, then one "
        "or more outputs (.pdf, .png), e.g.\n  python -m analysis.plots learning_curves "
        "results/tables/returns.parquet reference/published_returns.csv "
        "figures/learning_curves.pdf figures/learning_curves.png",
        epilog="figures and their input tables:\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("figure", help="a figure name (listed below)")
    parser.add_argument("files", nargs="*", metavar="FILE",
                               help="the figure's input tables, then its outputs")  # fmt: skip
    return parser


def read_table(path: str) -> pd.DataFrame:
    """A .csv or .parquet table; a missing or unreadable file -> UserError naming it."""
    try:
        return pd.read_csv(path) if path.endswith(".csv") else pd.read_parquet(path)
    except FileNotFoundError:
        raise UserError(f"cannot read table {path}: it does not exist") from None
    except (OSError, ValueError) as exc:  # pyarrow's and pandas' parse errors are ValueErrors
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise UserError(f"cannot read table {path} ({reason})") from None


def main(argv: list[str] | None = None) -> int:
    try:
        args = _build_parser().parse_args(sys.argv[1:] if argv is None else argv)
        name = args.figure
        if name not in FIGURES:
            raise UserError(f"unknown figure '{name}'; known: {', '.join(FIGURES)}")
        fn, n_inputs = FIGURES[name]
        inputs, outputs = args.files[:n_inputs], args.files[n_inputs:]
        if len(inputs) < n_inputs:
            wanted = ", ".join(TABLE_FILES.get(t, t) for t in figure_inputs(name))
            raise UserError(f"figure '{name}' needs {n_inputs} input tables ({wanted}), "
                            f"got {len(inputs)}")  # fmt: skip
        if not outputs:
            raise UserError(f"figure '{name}': no output file after its {n_inputs} input "
                            "tables (give .pdf and/or .png paths)")  # fmt: skip
        for out in outputs:
            if Path(out).suffix not in OUTPUT_SUFFIXES:
                raise UserError(f"output {out} must end in .pdf or .png")
        tables = [read_table(p) for p in inputs]
        save(fn(*tables), outputs)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
