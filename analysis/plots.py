"""Figures, one function each; ``python -m analysis.plots NAME INPUT... OUTPUT.pdf OUTPUT.png``
(``--help`` lists every figure and its input tables).

One look for all figures: a variant has one colour wherever it appears (``variant_colour``,
keyed by its name only), one legend per figure sits below the axes, unused grid slots are
not created, and no text is under 8 pt; tests/unit/test_figure_layout.py checks these on
every figure with matplotlib's renderer."""

from __future__ import annotations

import argparse
import functools
import inspect
import io
import re
import sys
import textwrap
import zlib
from pathlib import Path
from typing import NoReturn

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from methods.common.errors import UserError  # noqa: E402
from methods.common.run_io import atomic_write_bytes  # noqa: E402

# ---------------------------------------------------------------- one look for every figure

FAMILY_COLOURS = {"sac": "#222222", "mbpo": "#2166AC", "dyna": "#238B45", "mpc": "#E66101",
                  "bptt": "#762A83"}  # fmt: skip
FAMILY_ORDER = ("sac", "mbpo", "dyna", "mpc", "bptt")
FAMILY_MAPS = {"sac": "Greys", "mbpo": "Blues", "dyna": "Greens", "mpc": "Oranges",
               "bptt": "Purples"}  # fmt: skip
FAMILY_MARKERS = {"sac": "o", "mbpo": "s", "dyna": "^", "mpc": "D", "bptt": "v"}
VARIANT_COLOURS = {  # every variant of config/*.yaml; a family shares a hue
    "sac": "#222222", "sac-matched": "#969696",
    "mbpo-k1": "#74ADD1", "mbpo-k5": "#2166AC", "mbpo-k15": "#08306B",
    "mbpo-sched": "#3D5AFE", "mbpo-k5-det": "#17BECF",
    "dyna-h50": "#5AAE61", "dyna-h200": "#1B7837", "dyna-full": "#00441B",
    "mpc-rs": "#F7B55B", "mpc-cem": "#E66101", "mpc-icem": "#A6611A", "mpc-oracle": "#A50F15",
    "bptt-h1": "#C2A5CF", "bptt-h5": "#9970AB", "bptt-h20": "#762A83", "bptt-h50": "#40004B",
    "bptt-h50-novalue": "#DE77AE", "bptt-h200-novalue": "#C51B7D",
}  # fmt: skip
FONT = {"font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9, "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5, "legend.fontsize": 9, "figure.titlesize": 10,
        "figure.labelsize": 9}  # fmt: skip
MIN_FONT_PT = 8.0  # no text smaller than this at the saved size (tests/unit/test_figure_layout)
FOOTER_CHARS = 110  # a footer line of 8 pt text stays within ~7.5 in
PANEL = (3.6, 2.7)  # inches per panel: figures stay <= ~11 in wide, readable when scaled
CI_REPS = 1000
MODE_LABELS = {  # model_error's propagation modes (methods/common/model_env.py)
    "mean": "mean: the ensemble's mean prediction, no sampling",
    "random-member": "random-member: a random ensemble member each step (MBPO)",
    "TSinf": "TSinf: each particle keeps one ensemble member (PETS)",
}
REFERENCE_SLOPE_LS = (0, (5, 2, 1, 2))  # dash-dot: unlike any model kind
MODE_COLOURS = {"mean": "#1B9E77", "random-member": "#D95F02", "TSinf": "#7570B3"}
MODEL_LINESTYLES = {"probabilistic ensemble": "-", "deterministic ensemble": "--",
                    "deterministic single": ":"}  # fmt: skip


def rendering_stack() -> str:
    """What draws the figures; each PNG's Software tag and PDF's Creator say it, so a figure
    is compared byte for byte only with one the same stack redrew."""
    return f"matplotlib {matplotlib.__version__}, numpy {np.__version__}"


def save(fig: plt.Figure, outputs: list[str]) -> None:
    """Write the figure to each path (format from the suffix) atomically.

    PDFs carry no creation date so reruns give identical bytes.
    """
    for out in outputs:
        buffer = io.BytesIO()
        metadata = ({"CreationDate": None, "Creator": rendering_stack()} if out.endswith(".pdf")
                    else {"Software": rendering_stack()})  # fmt: skip
        fig.savefig(buffer, format=Path(out).suffix[1:], bbox_inches="tight", metadata=metadata)
        atomic_write_bytes(Path(out), buffer.getvalue())
    plt.close(fig)


def family(variant: str) -> str:
    """A variant's method family: the part of its name before the first '-'."""
    return str(variant).split("-")[0]


def variant_colour(variant: str) -> str:
    """The one colour of a variant in every figure, whatever variants a tier has: fixed for
    the variants of config/*.yaml, else a shade of the family's colour map picked by a hash
    of the name (stable across runs and tiers)."""
    if variant in VARIANT_COLOURS:
        return VARIANT_COLOURS[variant]
    position = 0.45 + 0.5 * (zlib.crc32(str(variant).encode()) % 1000) / 1000
    cmap = plt.get_cmap(FAMILY_MAPS.get(family(variant), "copper"))
    return matplotlib.colors.to_hex(cmap(position))


def variant_linestyle(variant: str) -> str:
    """Solid, except the variants set apart from their family's learners: the true-simulator
    planner (mpc-oracle), one deterministic network (-det) and SAC at MBPO's settings
    (-matched) dashed, schedules and full
    episodes dash-dot, BPTT without a value function dotted."""
    name = str(variant)
    if name == "mpc-oracle" or name.endswith(("-det", "-matched")):
        return "--"
    if name.endswith(("-sched", "-full")):
        return "-."
    if name.endswith("-novalue"):
        return ":"
    return "-"


def variant_marker(variant: str) -> str:
    return FAMILY_MARKERS.get(family(variant), "o")


def variant_order(variants) -> list[str]:
    """Variants by family (sac, mbpo, dyna, mpc, bptt, others), then by the numbers in the
    name (k, H), then by name."""

    def key(name: str) -> tuple:
        fam = family(name)
        rank = FAMILY_ORDER.index(fam) if fam in FAMILY_ORDER else len(FAMILY_ORDER)
        numbers = [int(n) for n in re.findall(r"\d+", name)]
        return (rank, fam, numbers[:1] or [10**9], name)

    return sorted({str(v) for v in variants}, key=key)


def variant_palette(variants) -> dict[str, str]:
    """{variant: colour} for the given variant names (see ``variant_colour``)."""
    return {v: variant_colour(v) for v in variant_order(variants)}


def tag(artist, variant: str):
    """Mark an artist as drawing ``variant`` (tests check each variant's colour by it)."""
    artist.set_gid(f"variant:{variant}")
    return artist


def variant_handle(variant: str, line: bool = True) -> Line2D:
    """A legend entry for a variant: its colour, line style and family marker."""
    return tag(Line2D([], [], color=variant_colour(variant), marker=variant_marker(variant),
                      ls=variant_linestyle(variant) if line else "", lw=1.8, ms=5,
                      label=variant), variant)  # fmt: skip


def styled(fn):
    """Draw the figure under the suite's font sizes (none below MIN_FONT_PT)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with plt.rc_context(FONT):
            return fn(*args, **kwargs)

    return wrapper


def panels(n: int, cols: int = 3, width: float = PANEL[0], height: float = PANEL[1],
           **kwargs) -> tuple[plt.Figure, list]:  # fmt: skip
    """A constrained-layout figure with exactly n axes on a grid of at most ``cols`` columns
    (no empty slots are created)."""
    cols = max(1, min(cols, n))
    rows = -(-max(n, 1) // cols)
    fig = plt.figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1, **kwargs) for i in range(n)]
    return fig, axes


def drop_empty(fig: plt.Figure) -> None:
    """Remove the axes that got nothing to draw (an env a table does not cover)."""
    for ax in list(fig.axes):
        if not ax.has_data():
            fig.delaxes(ax)


def no_data_figure(title: str, reason: str) -> plt.Figure:
    """A figure saying why there is nothing to draw (a tier without those variants)."""
    with plt.rc_context(FONT):
        fig = plt.figure(figsize=(6.0, 1.2))
        fig.text(0.5, 0.5, f"{title}: {reason}", ha="center", va="center", wrap=True)
    return fig


def shared_legend(fig: plt.Figure, handles: list, title: str | None = None) -> None:
    """One legend for the whole figure, below the axes (outside every data area), in as
    many columns as fit the figure's width; the figure grows by the legend's height so the
    axes keep theirs."""
    if not handles:
        return
    renderer = fig.canvas.get_renderer()
    for ncol in range(len(handles), 0, -1):
        legend = fig.legend(handles=handles, loc="outside lower center", ncol=ncol,
                            frameon=False, title=title)  # fmt: skip
        box = legend.get_window_extent(renderer)
        if box.width <= 0.98 * fig.get_figwidth() * fig.dpi or ncol == 1:
            break
        legend.remove()
    fig.set_figheight(fig.get_figheight() + box.height / fig.dpi + 0.1)


def bootstrap_mean_ci(values, reps: int = CI_REPS, seed: int = 0) -> tuple[float, float, float]:
    """Mean of the finite values and its 95% percentile bootstrap CI (the mean itself for one
    value, NaNs for none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return (float("nan"),) * 3
    point = float(v.mean())
    if len(v) < 2:
        return point, point, point
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(reps, len(v)))].mean(1)
    low, high = np.quantile(means, [0.025, 0.975])
    return point, float(low), float(high)


def mean_band(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per x: mean of y over the rows (runs) and its 95% bootstrap CI."""
    rows = [(value, *bootstrap_mean_ci(group[y])) for value, group in frame.groupby(x)]
    return pd.DataFrame(rows, columns=[x, "mean", "low", "high"]).dropna(subset=["mean"])


def draw_band(ax, band: pd.DataFrame, x: str, variant: str | None = None, shade: bool = True,
              **style) -> None:  # fmt: skip
    """A mean line with its CI band (``shade``); a variant's line carries its colour and line
    style."""
    if variant is not None:
        style = {"color": variant_colour(variant), "ls": variant_linestyle(variant), **style}
    (line,) = ax.plot(band[x], band["mean"], lw=1.6, **style)
    if variant is not None:
        tag(line, variant)
    if shade:
        fill = ax.fill_between(band[x], band["low"], band["high"], color=line.get_color(),
                               alpha=0.18, lw=0)  # fmt: skip
        if variant is not None:
            tag(fill, variant)
    if len(band) == 1:  # one evaluation: a line of one point would not show
        line.set_marker(variant_marker(variant) if variant is not None else "o")


def seed_band(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per x: the median of y over seeds, and its range (min, max) over seeds. A table
    without a ``seed`` column is one seed."""
    if "seed" not in frame:
        frame = frame.assign(seed=0)
    values = frame.pivot_table(index=x, columns="seed", values=y, aggfunc="first", dropna=False)
    band = pd.DataFrame({
        x: values.index,
        "mean": values.median(axis=1, skipna=True).to_numpy(),
        "low": values.min(axis=1).to_numpy(),
        "high": values.max(axis=1).to_numpy(),
        "n": values.notna().sum(axis=1).to_numpy(),
    })  # fmt: skip
    return band.dropna(subset=["mean"])


# ---------------------------------------------------------------- figures


def published_steps(value) -> float:
    """The leading integer of a reference table's env_steps cell (NaN if none)."""
    match = re.match(r"\s*(\d+)", str(value))
    return float(match.group(1)) if match else float("nan")


def draw_published(ax, published: pd.DataFrame, env: str, max_step: float) -> None:
    """Published returns for env (reference/published_returns.csv): a star where the
    reference's budget lies within the plotted range, else a dotted line labelled with it."""
    rows = published[published.env == env]
    greys = ["#7F7F7F", "#A0A0A0", "#5F5F5F", "#BDBDBD"]
    dots = [":", (0, (4, 2, 1, 2)), (0, (1, 3)), (0, (6, 3))]
    for i, row in enumerate(rows.itertuples()):
        steps = published_steps(row.env_steps)
        short = str(row.method).split(" (")[0]
        color = greys[i % len(greys)]
        if np.isfinite(steps) and steps <= 1.05 * max_step:
            ax.plot(steps, row.value, marker="*", ms=11, ls="", color=color,
                    label=f"{row.source} {short} ({steps:g} steps)")  # fmt: skip
        else:
            budget = f"{steps / 1000:g}k steps" if np.isfinite(steps) else "budget n/a"
            ax.axhline(row.value, color=color, ls=dots[i % len(dots)], lw=1.4,
                       label=f"{row.source} {short} at {budget}")  # fmt: skip


@styled
def learning_curves(returns: pd.DataFrame, published: pd.DataFrame | None = None) -> plt.Figure:
    """Eval return vs env steps per env, every variant, mean over seeds with a 95% bootstrap
    CI band; published returns for the env (``published``) as stars or, beyond the plotted
    budget, dotted grey lines."""
    envs = sorted(returns.env.unique())
    if not envs:
        return no_data_figure("learning curves", "no evaluations in the returns table")
    variants = variant_order(returns.variant.unique())
    fig, axes = panels(len(envs))
    references = []
    for ax, env in zip(axes, envs, strict=True):
        data = returns[returns.env == env]
        for variant in variants:
            sub = data[data.variant == variant]
            if len(sub):
                draw_band(ax, mean_band(sub, "env_step", "eval_return_mean"), "env_step",
                          variant)  # fmt: skip
        if published is not None:
            draw_published(ax, published, env, float(data.env_step.max()))
            for line in ax.get_lines():  # a legend entry per reference, naming its env
                if line.get_label().startswith("_"):
                    continue
                suffix = f" [{env}]" if len(envs) > 1 else ""
                references.append(Line2D([], [], color=line.get_color(), ls=line.get_linestyle(),
                                         marker=line.get_marker(), ms=8,
                                         label=line.get_label() + suffix))  # fmt: skip
        n_seeds = data.groupby("variant").seed.nunique().max()
        ax.set(title=f"{env} ({n_seeds} seeds)", xlabel="env steps",
               ylabel="eval return (deterministic policy)")  # fmt: skip
    shared_legend(fig, [variant_handle(v) for v in variants] + references)
    return fig


def known_first(values, known) -> list[str]:
    """The distinct values, those in ``known`` first in its order, then the rest sorted."""
    present = set(values)
    return [v for v in known if v in present] + sorted(present - set(known))


@styled
def model_error_vs_horizon(model_error: pd.DataFrame) -> plt.Figure:
    """Open-loop MSE of the state, each dimension scaled by the model's training-state std,
    vs t (log-log), per env (row) and held-out set (column: random-policy or trained-policy
    trajectories); colour: propagation mode, line style: model kind; mean over the trained
    models with a 95% bootstrap CI; a t^2 reference slope."""
    if "data" not in model_error:
        model_error = model_error.assign(data="random")
    if "model" not in model_error:
        model_error = model_error.assign(model="probabilistic ensemble")
    data_all = model_error[model_error.mse > 0]
    envs = sorted(data_all.env.unique())
    sources = sorted(data_all.data.unique(), key=lambda s: (s != "random", s))
    if not envs:
        return no_data_figure("model error vs horizon", "no model-error curves")
    grid = [(env, source) for env in envs for source in sources]
    present = set(data_all.groupby(["env", "data"]).groups)
    fig = plt.figure(figsize=(PANEL[0] * len(sources), PANEL[1] * len(envs)),
                     layout="constrained")  # fmt: skip
    models = known_first(data_all.model, MODEL_LINESTYLES)
    modes = known_first(data_all["mode"], MODE_COLOURS)
    for i, (env, source) in enumerate(grid):
        if (env, source) not in present:
            continue
        ax = fig.add_subplot(len(envs), len(sources), i + 1)
        data = data_all[(data_all.env == env) & (data_all.data == source)]
        for (model, mode), sub in data.groupby(["model", "mode"]):
            band = mean_band(sub, "t", "mse")
            draw_band(ax, band, "t", color=MODE_COLOURS.get(mode, "#777777"),
                      ls=MODEL_LINESTYLES.get(model, "-."))  # fmt: skip
        anchor = data[(data["mode"] == "mean") & (data.t == data.t.min())].mse.mean()
        t = np.sort(data.t.unique()).astype(float)
        if np.isfinite(anchor) and len(t) > 1:
            ax.plot(t, anchor * (t / t[0]) ** 2, color="#999999", ls=REFERENCE_SLOPE_LS, lw=1.2)
        n_models = data.groupby(["variant", "seed"]).ngroups if "variant" in data else 1
        held_out = {"random": "random-policy", "policy": "trained-policy"}.get(source, source)
        ax.set(xscale="log", yscale="log", title=f"{env}\n{held_out} data ({n_models} models)",
               xlabel="open-loop horizon t (steps)",
               ylabel="MSE of state / training-state std")  # fmt: skip
    handles = [Line2D([], [], color=MODE_COLOURS.get(m, "#777777"), lw=1.8,
                      label=MODE_LABELS.get(m, m)) for m in modes]  # fmt: skip
    if len(models) > 1:
        handles += [Line2D([], [], color="k", lw=1.4, ls=MODEL_LINESTYLES.get(m, "-."),
                           label=m) for m in models]  # fmt: skip
    reference = "t\u00b2 reference (from the mean mode at the first t)"
    handles.append(Line2D([], [], color="#999999", ls=REFERENCE_SLOPE_LS, lw=1.2, label=reference))
    title = f"model: {models[0]}" if len(models) == 1 else None
    shared_legend(fig, handles, title=title)
    return fig


@styled
def decision_time_cost(timings: pd.DataFrame, returns: pd.DataFrame) -> plt.Figure:
    """Milliseconds per action (log, median over evaluations and seeds) vs final eval
    return (mean over seeds, bar: range over seeds), one marker per variant."""
    ms = timings[timings.name == "time/policy_ms_per_action"]
    ms = ms.groupby(["variant", "env"], as_index=False).value.median()
    final = returns.sort_values("env_step").groupby(["variant", "env", "seed"]).tail(1)
    final = final.groupby(["variant", "env"]).eval_return_mean.agg(["mean", "min", "max"])
    final = final.reset_index()
    data = ms.merge(final, on=["variant", "env"])
    envs = sorted(data.env.unique())
    if not envs:
        return no_data_figure("decision time", "no policy timings with evaluations")
    variants = variant_order(data.variant.unique())
    fig, axes = panels(len(envs))
    for ax, env in zip(axes, envs, strict=True):
        sub = data[data.env == env].set_index("variant")
        for variant in variants:
            if variant not in sub.index:
                continue
            row = sub.loc[variant]
            colour = variant_colour(variant)
            tag(ax.plot([row.value] * 2, [row["min"], row["max"]], color=colour, lw=1.2,
                        alpha=0.7)[0], variant)  # fmt: skip
            tag(ax.plot(row.value, row["mean"], ls="", marker=variant_marker(variant), ms=7,
                        color=colour, mec="k", mew=0.5)[0], variant)  # fmt: skip
        ax.set(xscale="log", title=env, xlabel="decision time (ms per action, median)",
               ylabel="final eval return\n(mean over seeds, bar: range)")  # fmt: skip
    shared_legend(fig, [variant_handle(v, line=False) for v in variants])
    return fig


@styled
def distribution_mismatch(metrics: pd.DataFrame) -> plt.Figure:
    """Per rollout step: distance of synthetic states to the nearest real state (z-scored)
    and ensemble disagreement, MBPO vs Dyna variants, mean with 95% CI over runs; one row
    per env."""
    data = metrics[metrics.name.str.match(r"rollout/(nn_distance|disagreement)_step\d+")].copy()
    if data.empty:
        return no_data_figure("distribution mismatch", "no rollout diagnostics (MBPO or Dyna)")
    data["quantity"] = data.name.str.extract(r"rollout/(\w+?)_step")[0]
    data["step"] = data.name.str.extract(r"_step(\d+)")[0].astype(int)
    per_run = data.groupby(["variant", "env", "seed", "quantity", "step"],
                           as_index=False).value.mean()  # fmt: skip
    envs = sorted(per_run.env.unique())
    variants = variant_order(per_run.variant.unique())
    quantities = [("nn_distance", "distance to nearest real state (z)"),
                  ("disagreement", "ensemble disagreement (std, z)")]  # fmt: skip
    fig, axes = panels(2 * len(envs), cols=2)
    for i, env in enumerate(envs):
        for j, (quantity, label) in enumerate(quantities):
            ax = axes[2 * i + j]
            sub = per_run[(per_run.env == env) & (per_run.quantity == quantity)]
            for variant in variants:
                one = sub[sub.variant == variant]
                if len(one):
                    draw_band(ax, mean_band(one, "step", "value"), "step", variant)
            ax.set(xscale="log", title=env, ylabel=label, xlabel="rollout step")
    drop_empty(fig)
    shared_legend(fig, [variant_handle(v) for v in variants])
    return fig


def k_label(variant: str, params: pd.Series | None, method: str) -> str:
    """The rollout length a variant uses: 0 for SAC, k for MBPO ('sched' for the paper's
    schedule), 'Dyna H' (or 'Dyna full') for Dyna; '(det)' marks one deterministic network."""
    if method == "sac":
        return "0 (SAC)"
    get = params.get if params is not None else (lambda _k, d=None: d)
    det = " (det)" if str(get("probabilistic", True)) in ("False", "false", "0", "0.0") else ""
    if method == "mbpo" and str(get("rollout_schedule")) not in ("None", "nan") or (
            method == "mbpo" and str(get("paper_schedule")) == "True"):  # fmt: skip
        return "sched" + det
    length = pd.to_numeric(get("rollout_length"), errors="coerce")
    if method == "dyna":
        full = str(get("full_episode_rollouts")) == "True" or not np.isfinite(length)
        return "Dyna full" if full else f"Dyna {int(length)}"
    return (f"{int(length)}" if np.isfinite(length) else variant) + det


@styled
def k_sweep(returns: pd.DataFrame, runs: pd.DataFrame) -> plt.Figure:
    """Final return and AUC vs rollout length k (SAC at k = 0, MBPO at k, Dyna at the right),
    each variant's mean over seeds with a 95% bootstrap CI; one row per env."""
    from analysis.scores import run_summary

    summary = run_summary(returns)
    summary = summary[summary.method.isin(["sac", "mbpo", "dyna"])]
    if summary.empty:
        return no_data_figure("k sweep", "no SAC, MBPO or Dyna runs")
    params = runs.drop_duplicates(["variant", "env", "seed"]).set_index(["variant", "env", "seed"])
    labels = {}
    for row in summary.drop_duplicates(["variant", "env"]).itertuples():
        key = (row.variant, row.env, row.seed)
        labels[row.variant] = k_label(row.variant, params.loc[key] if key in params.index
                                      else None, row.method)  # fmt: skip

    def position(variant: str) -> tuple:
        k = labels[variant]
        numbers = re.findall(r"\d+", k)
        return (k.startswith("Dyna"), k.startswith("sched"), int(numbers[0]) if numbers
                else 10**9, k, variant)  # fmt: skip

    envs = sorted(summary.env.unique())
    variants = variant_order(summary.variant.unique())
    fig, axes = panels(2 * len(envs), cols=2, height=PANEL[1] + 0.3)
    for i, env in enumerate(envs):
        sub = summary[summary.env == env]
        present = sorted(sub.variant.unique(), key=position)
        quantities = [("final_return", "final eval return"), ("auc", "AUC (mean return)")]
        for j, (column, label) in enumerate(quantities):
            ax = axes[2 * i + j]
            for x, variant in enumerate(present):
                point, low, high = bootstrap_mean_ci(sub[sub.variant == variant][column])
                colour = variant_colour(variant)
                tag(ax.plot([x, x], [low, high], color=colour, lw=2.5, alpha=0.6)[0], variant)
                tag(ax.plot(x, point, ls="", marker=variant_marker(variant), ms=7, color=colour,
                            mec="k", mew=0.5)[0], variant)  # fmt: skip
            ax.set_xticks(range(len(present)), [labels[v] for v in present], rotation=30,
                          ha="right")  # fmt: skip
            ax.set(title=env, xlabel="rollout length k", ylabel=label,
                   xlim=(-0.5, len(present) - 0.5))  # fmt: skip
    shared_legend(fig, [variant_handle(v, line=False) for v in variants])
    return fig


def reference_kind(name) -> str:
    """What a scores table's reference_name says the normalisation's 1 is."""
    name = str(name)
    if name.startswith("mpc-oracle"):
        return "mpc-oracle's return (true-simulator planner)"
    if name in ("none", "nan", ""):
        return "no reference (no score)"
    if name.startswith("best variant"):
        return "best variant of the tier (older scores table)"
    return f"published: {name.split(' (')[0]}"


def score_footer(scores: pd.DataFrame) -> str:
    """Per env: the common budget the scores are taken at and what the score's 1 is."""
    lines = []
    for env, group in scores.groupby("env"):
        budget = "each run's final evaluation"
        if "common_step" in group and group.common_step.notna().any():
            budget = f"{int(group.common_step.max())} env steps"
        ref = reference_kind(group.reference_name.iloc[0]) if "reference_name" in group else "?"
        warning = ""
        if {"reference_return", "random_return"} <= set(group.columns) and (
            group.reference_return.iloc[0] <= group.random_return.iloc[0]
        ):
            warning = " (NOT above random: the scale is inverted)"
        line = f"{env}: score at {budget}; 0 = random policy, 1 = {ref}{warning}"
        if "common_return" in group:
            late = group.groupby("variant").common_return.apply(lambda r: r.isna().all())
            if late.any():
                line += f"; left out, first evaluated after it: {', '.join(late[late].index)}"
        lines.append(textwrap.fill(line, width=FOOTER_CHARS, subsequent_indent="    "))
    return "\n".join(lines)


def variant_rows(ax, summary: pd.DataFrame, order: list[str]) -> None:
    """Per variant (one row each): the 95% CI as a bar in the variant's colour and the point
    estimate as a marker with caps, visible even when the interval is a single point."""
    for i, variant in enumerate(order):
        if variant not in summary.index:
            continue
        row = summary.loc[variant]
        colour = variant_colour(variant)
        tag(ax.plot([row.low, row.high], [i, i], color=colour, lw=7, alpha=0.45,
                    solid_capstyle="butt")[0], variant)  # fmt: skip
        bars = ax.errorbar(row.point, i, xerr=[[row.point - row.low], [row.high - row.point]],
                           fmt=variant_marker(variant), ms=7, color=colour, mec="k", mew=0.6,
                           ecolor=colour, elinewidth=1.2, capsize=4)  # fmt: skip
        tag(bars.lines[0], variant)
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)


@styled
def final_performance(scores: pd.DataFrame) -> plt.Figure:
    """Normalised score at each env's common budget: one panel per env (each variant's runs
    as dots, their IQM with a 95% bootstrap CI over seeds), and a last panel with the IQM
    over runs x envs (95% stratified bootstrap CI, rliable's) of the variants that ran on
    every scored env, so that no aggregate mixes different env sets."""
    from analysis.stats import iqm, stratified_bootstrap_ci

    data = scores.dropna(subset=["score"])
    if data.empty:
        return no_data_figure("final performance", "no normalised scores (no env has a "
                              "published reference or an mpc-oracle run)")  # fmt: skip
    envs = sorted(data.env.unique())
    tables = {variant: group.pivot_table(index="seed", columns="env", values="score")
              for variant, group in data.groupby("variant")}  # fmt: skip
    everywhere = [v for v, t in tables.items() if len(envs) > 1 and set(t.columns) == set(envs)
                  and not t[envs].dropna().empty]  # fmt: skip
    order = variant_order(tables)
    fig, axes = panels(len(envs) + bool(everywhere), cols=2, width=3.9,
                       height=1.0 + 0.3 * len(order), sharey=None)  # fmt: skip
    for ax, env in zip(axes, envs, strict=False):
        rows = []
        for variant, table in tables.items():
            if env not in table:
                continue
            runs = table[env].dropna().to_numpy()
            point, low, high = stratified_bootstrap_ci(runs[:, None], iqm, reps=1000)
            rows.append({"variant": variant, "point": point, "low": low, "high": high})
            y = order.index(variant) + np.linspace(-0.15, 0.15, len(runs))
            ax.plot(runs, y, ".", ms=3, color="k", alpha=0.5, zorder=3)  # the runs
        variant_rows(ax, pd.DataFrame(rows).set_index("variant"), order)
        step = data.loc[data.env == env, "common_step"].max()
        ax.set_title(f"{env} at {int(step)} env steps" if pd.notna(step) else env)
    if everywhere:
        ax = axes[-1]
        rows = []
        for variant in everywhere:
            matrix = tables[variant][envs].dropna().to_numpy()  # seeds present on every env
            point, low, high = stratified_bootstrap_ci(matrix, iqm, reps=1000)
            rows.append({"variant": variant, "point": point, "low": low, "high": high})
        variant_rows(ax, pd.DataFrame(rows).set_index("variant"), order)
        ax.set_title(f"all {len(envs)} envs: IQM over runs x envs\n(variants that ran on "
                     "every env)")  # fmt: skip
    for ax in axes:
        for ref in (0.0, 1.0):
            ax.axvline(ref, color="#BBBBBB", lw=0.8, zorder=0)
    for ax in axes[1::2]:
        ax.tick_params(labelleft=False)
    fig.supxlabel("normalised score at the common budget of each env (the same env steps "
                  "for every variant); bar: IQM with its 95% CI, dots: runs\n"
                  + score_footer(scores), fontsize=8, ha="center")  # fmt: skip
    return fig


@styled
def probability_of_improvement(scores: pd.DataFrame) -> plt.Figure:
    """P(variant > SAC) on normalised scores at each env's common budget, averaged over
    envs, with a 95% stratified bootstrap CI (rliable's probability of improvement)."""
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
        rows.append({"variant": variant, "point": point, "low": low, "high": high,
                     "envs": len(envs)})  # fmt: skip
    if not rows:
        return no_data_figure("probability of improvement", "no variant shares a scored env "
                              "with SAC")  # fmt: skip
    summary = pd.DataFrame(rows).set_index("variant")
    order = variant_order(summary.index)
    fig = plt.figure(figsize=(6.0, 1.4 + 0.32 * len(order)), layout="constrained")
    ax = fig.add_subplot()
    ax.axvline(0.5, color="grey", ls="--", lw=1, zorder=0)
    variant_rows(ax, summary, order)
    ax.set(xlim=(-0.02, 1.02), title="probability of improvement over SAC (0.5: no difference)",
           xlabel="P(run of variant > run of SAC), mean over envs")  # fmt: skip
    fig.supxlabel("score at the common budget of each env:\n" + score_footer(scores),
                  fontsize=8)  # fmt: skip
    return fig


@styled
def dyna_exploitation(metrics: pd.DataFrame) -> plt.Figure:
    """Model-predicted minus real return of the eval policy over training, per rollout
    length (MBPO's branched k vs Dyna's long rollouts), mean with a 95% CI over seeds."""
    gap = metrics[(metrics.name == "model/return_gap") & metrics.method.isin(["mbpo", "dyna"])]
    envs = sorted(gap.env.unique())
    if not envs:
        return no_data_figure("model exploitation", "no model/return_gap of MBPO or Dyna runs")
    variants = variant_order(gap.variant.unique())
    fig, axes = panels(len(envs))
    for ax, env in zip(axes, envs, strict=True):
        sub = gap[gap.env == env]
        ax.axhline(0.0, color="grey", lw=1, ls="--")
        for variant in variants:
            one = sub[sub.variant == variant]
            if len(one):
                draw_band(ax, mean_band(one, "env_step", "value"), "env_step", variant)
        ax.set(title=env, xlabel="env steps", ylabel="predicted - real return\n(eval policy)")
    shared_legend(fig, [variant_handle(v) for v in variants])
    return fig


COLLAPSED = np.log(1e-30)  # twins on the very same state give log(1e-300): not drawn


@styled
def bptt_gradient_vs_horizon(
    metrics: pd.DataFrame,
    runs: pd.DataFrame,
    gradient: pd.DataFrame,
    divergence: pd.DataFrame,
    diagnostics: pd.DataFrame | None = None,
) -> plt.Figure:
    """Per env (row), left: |d return / d policy| through the learned model vs H (log-log):
    the chaos diagnostic (median over its seeds, band: range over seeds) and each BPTT
    variant's mean gradient norm over its training (mean over seeds, 95% CI); middle:
    median log-distance of 1e-6-perturbed true-simulator twins vs t (the finite-time
    Lyapunov picture), median over seeds; right (with ``diagnostics``): the learned closed
    loop's log sigma_1 of ds_H/ds_0 vs H."""
    envs = sorted(set(gradient.env) | set(divergence.env))
    if not envs:
        return no_data_figure("BPTT gradients", "no chaos diagnostic tables")
    with_diag = diagnostics is not None and len(diagnostics) > 0
    cols = 3 if with_diag else 2
    fig, axes = panels(cols * len(envs), cols=cols)
    grads = metrics[metrics.name == "bptt/grad_norm"]
    horizon = runs.set_index(["variant", "env", "seed"])["horizon"] if "horizon" in runs else None
    variants = variant_order(grads.variant.unique()) if horizon is not None else []
    seeds = lambda table: table.seed.nunique() if "seed" in table else 1  # noqa: E731
    chaos = dict(color="k", marker="o", ms=4)
    for i, env in enumerate(envs):
        ax = axes[cols * i]
        diag = gradient[gradient.env == env]
        if len(diag):
            draw_band(ax, seed_band(diag, "horizon", "median_grad_norm"), "horizon", **chaos)
        if with_diag:
            extra = diagnostics[diagnostics.env == env]
            if len(extra):
                draw_band(ax, seed_band(extra, "horizon", "grad_norm"), "horizon",
                          **{**chaos, "ls": "--", "marker": "s"})  # fmt: skip
        sub = grads[grads.env == env]
        for variant in variants:
            per_seed = sub[sub.variant == variant].groupby("seed").value.mean()
            h = [horizon.get((variant, env, s), np.nan) for s in per_seed.index]
            if not len(per_seed) or not np.isfinite(np.nanmean(h)):
                continue
            point, low, high = bootstrap_mean_ci(per_seed)
            colour, x = variant_colour(variant), float(np.nanmean(h))
            tag(ax.plot([x, x], [low, high], color=colour, lw=2.5, alpha=0.6)[0], variant)
            tag(ax.plot(x, point, ls="", marker=variant_marker(variant), ms=7, color=colour,
                        mec="k", mew=0.5)[0], variant)  # fmt: skip
        ax.set(xscale="log", yscale="log", title=f"{env}\ngradient through the learned model",
               xlabel="horizon H (model steps)", ylabel="policy-gradient norm")  # fmt: skip
        ax = axes[cols * i + 1]
        div = divergence[divergence.env == env]
        for column, ls in (("median_log_distance", "-"), ("mean_log_distance", ":")):
            if column in div and len(div):
                kept = div.assign(**{column: div[column].where(div[column] > COLLAPSED)})
                draw_band(ax, seed_band(kept, "t", column), "t", color="#444444", ls=ls,
                          shade=ls == "-")  # fmt: skip
        n_div = seeds(div)
        ax.set(title=f"{env}\ntrue-simulator twins ({n_div} seed{'s' * (n_div != 1)})",
               xlabel="t (env steps)",
               ylabel="log distance of the twins")  # fmt: skip
        if with_diag:
            ax = axes[cols * i + 2]
            extra = diagnostics[diagnostics.env == env]
            if len(extra) and "log_sigma1_median" in extra:
                draw_band(ax, seed_band(extra, "horizon", "log_sigma1_median"), "horizon",
                          color="#444444", marker="o", ms=4)  # fmt: skip
            ax.axhline(0.0, color="#BBBBBB", lw=0.8, zorder=0)
            ax.set(title=f"{env}\nlearned closed loop", xlabel="horizon H (model steps)",
                   ylabel="log \u03c3\u2081 of ds_H/ds_0 (median over starts)")  # fmt: skip
    drop_empty(fig)
    n = max(seeds(gradient), seeds(divergence))
    over = f"median over {n} seeds, band: range" if n > 1 else "1 seed"
    handles = [Line2D([], [], **chaos, label=f"chaos diagnostic: median over starts of "
                      f"|grad R_H| ({over})")]  # fmt: skip
    if with_diag:
        label = f"chaos diagnostic: |grad of the mean R_H|, BPTT's loss ({over})"
        handles.append(Line2D([], [], **{**chaos, "ls": "--", "marker": "s"}, label=label))
    for variant in variants:
        handle = variant_handle(variant, line=False)
        handle.set_label(f"{variant}: mean over its training (mean over seeds, 95% CI)")
        handles.append(handle)
    twins = f"twins: median over pairs ({over}; pairs closer than 1e-30 dropped)"
    handles.append(Line2D([], [], color="#444444", label=twins))
    handles.append(Line2D([], [], color="#444444", ls=":", label="twins: mean over pairs"))
    shared_legend(fig, handles)
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
    "diagnostics": "results/tables/chaos_gradient_diagnostics.parquet",
}
TABLE_SUFFIXES = (".parquet", ".csv")
OUTPUT_SUFFIXES = (".pdf", ".png")


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are the suite's one ``error:`` line."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see python -m analysis.plots --help)")


def figure_inputs(name: str) -> list[str]:
    """The required table arguments of a figure function, in order."""
    fn, n_inputs = FIGURES[name]
    return list(inspect.signature(fn).parameters)[:n_inputs]


def figure_optional_inputs(name: str) -> list[str]:
    """The optional table arguments that may follow the required ones, in order."""
    fn, n_inputs = FIGURES[name]
    return list(inspect.signature(fn).parameters)[n_inputs:]


def _usage_line(name: str) -> str:
    required = [TABLE_FILES.get(t, t) for t in figure_inputs(name)]
    optional = [f"[{TABLE_FILES.get(t, t)}]" for t in figure_optional_inputs(name)]
    return " ".join(required + optional)


def _build_parser() -> argparse.ArgumentParser:
    lines = [f"  {name}\n      {_usage_line(name)}" for name in FIGURES]
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
        for _ in figure_optional_inputs(name):  # optional tables, before the outputs
            if outputs and outputs[0].endswith(TABLE_SUFFIXES):
                inputs.append(outputs.pop(0))
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
