"""MBPO on Hopper (issue 38): our MBPO and SAC runs against published Hopper learning curves.

    python -m analysis.replication --runs results/hopper/runs --reference reference/ \
        --out figures/hopper_replication

Reads ``{runs}/{variant}/{env}/s{seed}/returns.csv`` for the variants in ``VARIANT_METHODS``
and the published curves ``{reference}/curves_hopper_*.csv`` (tidy: ``source, method, env,
env_version, seed, env_step, return``). Writes ``{out}.png``, ``{out}.pdf`` (the curves),
``{out}_summary.csv`` (one row per method), ``{out}_seeds.csv`` (one row per seed and, for
our seeds, where each sits among the published seeds), ``{out}_cost.csv`` (what the runs cost:
env steps per second and seconds per 1000 env steps in each phase, per 10k steps, from each
run's ``timings.csv`` where it has one), ``{out}_diagnostics.csv`` and ``.png``/``.pdf``
(alpha, soft value, critic and model losses per 10k steps and against env steps, ours beside
the published MBPO run's; see ``analysis.replication_diagnostics``) and ``{out}.md`` (the
tables).

Every number is taken over the window of env steps ``WINDOW`` (90k-100k, both ends included):
a seed's *window mean* is the mean of its evaluations inside the window. A seed whose last
evaluation comes before the window's end is *unfinished*: it is listed as such and left out of
every statistic, never averaged over the part it has.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from scipy import stats as sps  # noqa: E402

from analysis.plots import FAMILY_COLOURS, save  # noqa: E402
from analysis.replication_diagnostics import (  # noqa: E402
    PUBLISHED_FILE,
    PUBLISHED_SOURCE,
    bin_end,
    diagnostics_figure,
    diagnostics_table,
    published_diagnostics,
    run_diagnostics,
)
from analysis.stats import DEFAULT_REPS, mean_ci, probability_of_improvement_ci  # noqa: E402
from methods.common.errors import UserError  # noqa: E402
from methods.common.run_io import atomic_write_text  # noqa: E402

ENV = "gym-Hopper-v5"
ENV_VERSION = "Hopper-v5"
VARIANT_METHODS = {"mbpo-sched": "MBPO", "sac": "SAC"}  # our variant -> method name
WINDOW = (90_000, 100_000)  # env steps, both ends included
THRESHOLD = 2500.0
CURVE_GLOB = "curves_hopper_*.csv"
CURVE_COLUMNS = ("source", "method", "env", "env_version", "seed", "env_step", "return")
RUN_COLUMNS = ("env_step", "eval_return_mean")
TIMING_COLUMNS = ("env_step", "name", "value")  # timings.csv and metrics.csv
PUBLISHED_LOG_COLUMNS = ("tag", "step", "value")  # reference/PUBLISHED_FILE
WALL = "time/train_wall_s"  # cumulative training wall seconds (evaluations excluded)
PHASES = {  # per-interval seconds a run logs at each evaluation -> the phase's name
    "time/model_train_s": "model training",
    "time/rollout_s": "model rollouts",
    "time/policy_update_s": "SAC updates",
}
OTHER_PHASE = "env and rest"  # wall minus the phases: env steps, acting, checkpoints, logging
COST_BIN = 10_000  # env steps per row of the per-phase table
PEERS = {  # our method -> the published methods its seeds are placed among
    "MBPO": ("MBPO", "REDQ (UTD 20)"),  # REDQ: model-free at MBPO's 20 updates per env step
    "SAC": ("SAC",),
}
OURS = "ours"
PUBLISHED = "published"
KEY = ["group", "source", "method", "env_version"]  # one curve (a method from one source)
METHOD_STYLE = {  # published curves: (colour, linestyle); ours are solid
    "MBPO": (FAMILY_COLOURS["mbpo"], ":"),
    "SAC": (FAMILY_COLOURS["sac"], "--"),
}
OTHER_STYLE = ("#555555", "-.")


# ---------------------------------------------------------------- reading


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """A CSV holding ``columns``; unreadable or lacking one is a UserError naming the file."""
    try:
        table = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise UserError(f"cannot read {path} ({reason})") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UserError(f"{path} lacks columns {missing} (has {list(table.columns)})")
    return table


def _numeric(
    table: pd.DataFrame, path: Path, columns: Sequence[str], finite: bool = True
) -> pd.DataFrame:
    """``columns`` as floats; a missing or non-numeric cell is a UserError naming row and
    column, and so is a non-finite one unless ``finite`` is False (a diverged run's NaN or inf
    is then kept, for the caller to drop)."""
    table = table.copy()
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if not finite:
            bad &= ~table[column].map(_is_float).to_numpy(dtype=bool)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise UserError(f"{path} row {row + 2}: '{column}' is {table[column].iloc[row]!r}, "
                            f"not a {'finite ' * finite}number")  # fmt: skip
        table[column] = values.astype(float)
    return table


def _is_float(cell: object) -> bool:
    """The cell reads as a float, NaN and infinities included."""
    try:
        float(cell)
    except (TypeError, ValueError):
        return False
    return True


def _run_files(
    root: Path, env: str, variants: dict[str, str], name: str
) -> Iterator[tuple[str, str, int, Path]]:
    """(variant, method, seed, path) of every ``root/{variant}/{env}/s{seed}/{name}``."""
    for variant, method in variants.items():
        for seed_dir in sorted((root / variant / env).glob("s*")):
            match = re.fullmatch(r"s(\d+)", seed_dir.name)
            if match and (seed_dir / name).is_file():
                yield variant, method, int(match.group(1)), seed_dir / name


def load_runs(root: Path, env: str = ENV, variants: dict[str, str] | None = None) -> pd.DataFrame:
    """Our runs as one tidy table: ``variant, method, env, seed, env_step, eval_return_mean``.

    Reads ``root/{variant}/{env}/s{seed}/returns.csv``; a variant without runs is skipped, no
    run at all (or a missing ``root``) is a UserError.
    """
    root = Path(root)
    variants = VARIANT_METHODS if variants is None else variants
    if not root.is_dir():
        raise UserError(f"runs folder {root} does not exist (give --runs DIR holding "
                        f"{{variant}}/{env}/s{{seed}}/returns.csv)")  # fmt: skip
    frames = []
    for variant, method, seed, path in _run_files(root, env, variants, "returns.csv"):
        table = _numeric(_read_csv(path, RUN_COLUMNS), path, RUN_COLUMNS)
        if table.empty:
            raise UserError(f"{path} has no evaluations")
        frames.append(table[list(RUN_COLUMNS)].assign(
            variant=variant, method=method, env=env, seed=seed))  # fmt: skip
    if not frames:
        wanted = ", ".join(f"{root}/{v}/{env}/s*/returns.csv" for v in variants)
        raise UserError(f"no runs found: none of {wanted} exists")
    runs = pd.concat(frames, ignore_index=True)
    return runs[["variant", "method", "env", "seed", "env_step", "eval_return_mean"]]


def load_reference(path: Path, env: str = ENV) -> pd.DataFrame:
    """Published curves for ``env``: every ``curves_hopper_*.csv`` in the folder ``path`` (or
    the one CSV ``path``), concatenated; none found, or a bad file, is a UserError."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob(CURVE_GLOB))
        if not files:
            raise UserError(f"reference folder {path} holds no {CURVE_GLOB} (published curves)")
    elif path.is_file():
        files = [path]
    else:
        raise UserError(f"reference {path} does not exist (give --reference reference/)")
    frames = []
    for file in files:
        table = _numeric(_read_csv(file, CURVE_COLUMNS), file, ("seed", "env_step", "return"))
        frames.append(table[list(CURVE_COLUMNS)])
    curves = pd.concat(frames, ignore_index=True)
    curves = curves[curves.env == env]
    if curves.empty:
        raise UserError(f"no published curve for env {env} in {', '.join(map(str, files))}")
    return curves.assign(seed=curves.seed.astype(int)).reset_index(drop=True)


def load_timings(
    root: Path, env: str = ENV, variants: dict[str, str] | None = None
) -> pd.DataFrame:
    """Our runs' ``timings.csv`` as one table: ``variant, method, seed, env_step, name, value,
    resumed_at`` (empty when no run has one: the cost tables are then left out).
    ``resumed_at`` is the run's ``meta.json`` ``resumed_at_steps`` as a tuple (empty when the
    run never resumed or is unfinished)."""
    root = Path(root)
    variants = VARIANT_METHODS if variants is None else variants
    frames = []
    for variant, method, seed, path in _run_files(root, env, variants, "timings.csv"):
        table = _numeric(_read_csv(path, TIMING_COLUMNS), path, ("env_step", "value"))
        resumed = tuple(_meta(path.parent / "meta.json").get("resumed_at_steps", ()))
        frames.append(table[list(TIMING_COLUMNS)].assign(
            variant=variant, method=method, seed=seed,
            resumed_at=[resumed] * len(table)))  # fmt: skip
    columns = ["variant", "method", "seed", *TIMING_COLUMNS, "resumed_at"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(
        columns=columns)  # fmt: skip


def load_diagnostics(
    root: Path, reference: Path, env: str = ENV, variants: dict[str, str] | None = None
) -> pd.DataFrame:
    """Our runs' ``metrics.csv`` and the published run's scalars (``PUBLISHED_FILE`` in the
    folder ``reference`` or beside the CSV ``reference``; left out when absent; non-finite
    values dropped) as one tidy table: ``source, method, seed, env_step, quantity,
    value`` (``analysis.replication_diagnostics`` says what each quantity is)."""
    variants = VARIANT_METHODS if variants is None else variants
    frames = []
    for variant, method, seed, path in _run_files(Path(root), env, variants, "metrics.csv"):
        metrics = _numeric(_read_csv(path, TIMING_COLUMNS), path, ("env_step",))
        metrics = _numeric(metrics, path, ("value",), finite=False)  # a diverged run's NaN
        frames.append(run_diagnostics(metrics).assign(
            source=f"ours ({variant})", method=method, seed=seed))  # fmt: skip
    reference = Path(reference)
    published = (reference if reference.is_dir() else reference.parent) / PUBLISHED_FILE
    if published.is_file():
        log = _numeric(_read_csv(published, PUBLISHED_LOG_COLUMNS), published, ("step", "value"))
        frames.append(published_diagnostics(log).assign(source=PUBLISHED_SOURCE, method="MBPO",
                                                         seed=0))  # fmt: skip
    columns = ["source", "method", "seed", "env_step", "quantity", "value"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(
        columns=columns)  # fmt: skip


def _meta(path: Path) -> dict:
    """A run's meta.json ({} when it has none yet); unreadable is a UserError."""
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read {path} ({type(exc).__name__})") from None
    if not isinstance(meta, dict):
        raise UserError(f"{path} is not a JSON object")
    return meta


def _intervals(run: pd.DataFrame, resumed_at: Sequence[int] = ()) -> pd.DataFrame:
    """One run's evaluation intervals: ``env_step`` (the interval's end), ``steps``, ``wall``,
    one column of seconds per phase in ``PHASES`` (0 where the run logs none) and ``resumed``:
    the run resumed from a checkpoint inside the interval (previous end < step <= end)."""
    wide = run.pivot_table(index="env_step", columns="name", values="value", aggfunc="last")
    if WALL not in wide:
        return pd.DataFrame()
    wide = wide[wide[WALL].notna()].sort_index()
    out = pd.DataFrame({"env_step": wide.index.to_numpy(dtype=float)})
    out["steps"] = np.diff(out.env_step.to_numpy(), prepend=0.0)
    out["wall"] = np.diff(wide[WALL].to_numpy(), prepend=0.0)
    for name, phase in PHASES.items():
        out[phase] = wide[name].fillna(0.0).to_numpy() if name in wide else 0.0
    out[OTHER_PHASE] = out.wall - out[list(PHASES.values())].sum(axis=1)
    starts = out.env_step - out.steps
    out["resumed"] = [any(a < r <= b for r in resumed_at) for a, b in zip(starts, out.env_step,
                                                                          strict=True)]  # fmt: skip
    return out


def cost_table(timings: pd.DataFrame, bin_steps: int = COST_BIN) -> pd.DataFrame:
    """What the runs cost, per variant and bin of ``bin_steps`` env steps (``steps_to``, the
    bin's end; an ``all`` row per variant): seeds in the bin, env steps per second of training
    wall time and seconds per 1000 env steps in each phase (model training, rollouts, SAC
    updates, the rest), each the mean over the seeds of that seed's ratio over the bin.

    Intervals in which a run resumed from a checkpoint are left out (``left_out``: how many):
    their wall time is not comparable (a checkpoint written before training.py banked the
    time since the last evaluation lost it; any resumed run redoes the steps after it)."""
    phases = [*PHASES.values(), OTHER_PHASE]
    per_seed = []
    for (variant, method, seed), run in timings.groupby(["variant", "method", "seed"]):
        intervals = _intervals(run, run.resumed_at.iloc[0] if "resumed_at" in run else ())
        if intervals.empty:
            continue
        intervals["bin"] = bin_end(intervals.env_step, bin_steps)
        for steps_to, part in [*intervals.groupby("bin"), ("all", intervals)]:
            kept = part[~part.resumed]
            steps = kept.steps.sum()
            if steps == 0:
                continue
            per_seed.append({"variant": variant, "method": method, "seed": seed,
                             "steps_to": steps_to, "left_out": int(part.resumed.sum()),
                             "steps_per_s": steps / kept.wall.sum(),
                             **{p: 1000 * kept[p].sum() / steps for p in phases}})  # fmt: skip
    if not per_seed:
        return pd.DataFrame()
    per_seed = pd.DataFrame(per_seed)
    per_seed["order"] = per_seed.steps_to.map(lambda v: np.inf if v == "all" else v)
    table = per_seed.groupby(["variant", "method", "order", "steps_to"], sort=True).agg(
        n_seeds=("seed", "nunique"), left_out=("left_out", "sum"),
        steps_per_s=("steps_per_s", "mean"),
        **{p: (p, "mean") for p in phases})  # fmt: skip
    table = table.reset_index().drop(columns="order")
    table["total_s_per_1000"] = table[phases].sum(axis=1)
    return table


# ---------------------------------------------------------------- statistics


def _curves(runs: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Ours and the published curves in one long table: ``KEY + seed, env_step, return``.
    ``runs`` without a ``method`` column get it from ``VARIANT_METHODS``."""
    if "method" not in runs:
        runs = runs.assign(method=runs.variant.map(VARIANT_METHODS).fillna(runs.variant))
    ours = pd.DataFrame({"group": OURS, "source": "ours (" + runs.variant.astype(str) + ")",
                         "method": runs.method, "env_version": ENV_VERSION, "seed": runs.seed,
                         "env_step": runs.env_step, "return": runs.eval_return_mean})  # fmt: skip
    published = reference.assign(group=PUBLISHED)[KEY + ["seed", "env_step", "return"]]
    both = pd.concat([ours, published], ignore_index=True)
    rank = {method: i for i, method in enumerate(METHOD_STYLE)}
    order = pd.DataFrame({"g": both.group != OURS, "m": both.method.map(rank).fillna(len(rank)),
                          "s": both.source})  # fmt: skip
    return both.loc[order.sort_values(["g", "m", "s"], kind="stable").index].reset_index(drop=True)


def label(curve: pd.Series | dict) -> str:
    """A curve's name in tables and legends."""
    if curve["group"] == OURS:
        return f"{curve['method']}, {curve['source']}, {curve['env_version']}"
    return f"{curve['method']}, {curve['source']} ({curve['env_version']})"


def seed_table(
    runs: pd.DataFrame,
    reference: pd.DataFrame,
    window: tuple[float, float] = WINDOW,
    threshold: float = THRESHOLD,
) -> pd.DataFrame:
    """One row per curve and seed: last step, evaluations in the window, the window mean (NaN
    when unfinished), ``finished``, ``status`` and ``reaches_threshold``; for our finished
    seeds also ``percentile_vs_published``: the percentile (scipy ``kind="mean"``) of the
    window mean among the finished published seeds of the same method, pooled over sources."""
    low, high = window
    rows = []
    for key, group in _curves(runs, reference).groupby(KEY + ["seed"], sort=False):
        last = float(group.env_step.max())
        inside = group[(group.env_step >= low) & (group.env_step <= high)]
        finished = last >= high and len(inside) > 0
        if finished:
            status = "finished"
        elif last < high:
            status = f"unfinished (last evaluation at {last:,.0f} steps)"
        else:
            status = "no evaluation inside the window"
        mean = float(inside["return"].mean()) if finished else float("nan")
        reaches = finished and mean >= threshold
        rows.append(dict(zip(KEY + ["seed"], key, strict=True), last_step=last,
                         n_window_evals=len(inside), window_mean=mean, finished=finished,
                         status=status, reaches_threshold=reaches))  # fmt: skip
    seeds = pd.DataFrame(rows)
    seeds["curve"] = seeds.apply(label, axis=1)
    pub = seeds[(seeds.group == PUBLISHED) & seeds.finished]
    seeds["percentile_vs_published"] = [
        _percentile(pub[pub.method == row.method].window_mean, row.window_mean)
        if row.group == OURS and row.finished else float("nan")
        for row in seeds.itertuples()
    ]  # fmt: skip
    return seeds


def _percentile(published: pd.Series, value: float) -> float:
    return float(sps.percentileofscore(published, value, kind="mean")) if len(published) \
        else float("nan")  # fmt: skip


def positions(seeds: pd.DataFrame) -> pd.DataFrame:
    """Each of our finished seeds against each published curve of a method in ``PEERS`` of its
    own: the curve's seed count, min, median and max window mean and the percentile of our
    seed's window mean among them."""
    ours = seeds[(seeds.group == OURS) & seeds.finished]
    rows = []
    for _, pub in seeds[(seeds.group == PUBLISHED) & seeds.finished].groupby("curve", sort=False):
        values = pub.window_mean
        for row in ours.itertuples():
            if pub.method.iloc[0] not in PEERS.get(row.method, (row.method,)):
                continue
            rows.append({"ours": row.curve, "seed": row.seed, "window_mean": row.window_mean,
                         "published": pub.curve.iloc[0], "published_seeds": len(values),
                         "published_min": values.min(), "published_median": values.median(),
                         "published_max": values.max(),
                         "percentile": _percentile(values, row.window_mean)})  # fmt: skip
    return pd.DataFrame(rows)


def summary(
    runs: pd.DataFrame,
    reference: pd.DataFrame,
    window: tuple[float, float] = WINDOW,
    threshold: float = THRESHOLD,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per method and source: seeds, finished seeds, the per-seed window means, their
    mean with a 95% bootstrap CI (``mean_ci``; NaN below 2 seeds), how many reach
    ``threshold``; on our MBPO row P(MBPO > SAC) over the window means with its CI
    (``probability_of_improvement_ci``); on our rows the mean percentile of our seeds among
    the same method's published seeds (``seed_table``). Unfinished seeds are listed, not used."""
    seeds = seed_table(runs, reference, window, threshold)
    done = seeds[seeds.finished]

    def means(method: str) -> np.ndarray:
        return done[(done.group == OURS) & (done.method == method)].window_mean.to_numpy()

    mbpo, sac = means("MBPO"), means("SAC")
    poi = (probability_of_improvement_ci(mbpo, sac, reps=reps, seed=seed)
           if len(mbpo) and len(sac) else (np.nan, np.nan, np.nan))  # fmt: skip
    rows = []
    for key, group in seeds.groupby(KEY, sort=False):
        fin = group[group.finished]
        values = fin.window_mean.to_numpy()
        if len(values) >= 2:
            mean, low, high = mean_ci(values, seed=seed)
        else:
            mean, low, high = (float(values[0]) if len(values) else np.nan), np.nan, np.nan
        ours = key[0] == OURS
        is_mbpo = ours and key[2] == "MBPO"
        rows.append({
            **dict(zip(KEY, key, strict=True)), "curve": group.curve.iloc[0],
            "n_seeds": len(group), "n_finished": len(fin),
            "unfinished": "; ".join(f"s{r.seed}: {r.status}" for r in group.itertuples()
                                    if not r.finished),
            "window_means": "; ".join(f"s{r.seed} {r.window_mean:.0f}" for r in fin.itertuples()),
            "mean": mean, "ci_low": low, "ci_high": high,
            "n_reach_threshold": int(fin.reaches_threshold.sum()),
            "p_mbpo_gt_sac": poi[0] if is_mbpo else np.nan,
            "p_ci_low": poi[1] if is_mbpo else np.nan,
            "p_ci_high": poi[2] if is_mbpo else np.nan,
            "percentile_vs_published": fin.percentile_vs_published.mean() if ours and len(fin)
            else np.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- figure


def _band(group: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Per env step: mean over the seeds evaluated there, its 95% bootstrap CI, seed count."""
    rows = []
    for step, at in group.groupby("env_step"):
        mean, low, high = mean_ci(at["return"].to_numpy(), seed=seed)
        rows.append((step, mean, low, high, len(at)))
    return pd.DataFrame(rows, columns=["env_step", "mean", "low", "high", "n"])


def replication_figure(
    runs: pd.DataFrame,
    reference: pd.DataFrame,
    window: tuple[float, float] = WINDOW,
    threshold: float = THRESHOLD,
    seed: int = 0,
) -> plt.Figure:
    """Eval return vs env steps: ours as mean over seeds with a 95% bootstrap CI band (solid);
    each published curve as its mean with the min-max band of its seeds, or as a thin line when
    it has one seed (dotted MBPO, dashed SAC, dash-dot others); the window shaded; the
    threshold as a dotted line; the legend outside the axes."""
    curves = _curves(runs, reference)
    seeds = seed_table(runs, reference, window, threshold)
    ours_max = float(curves[curves.group == OURS].env_step.max())
    x_max = max(window[1], ours_max) * 1.05
    with plt.rc_context({"font.size": 12, "axes.titlesize": 13, "legend.fontsize": 10.5}):
        fig, ax = plt.subplots(figsize=(10, 7.4))
        ax.axvspan(*window, color="0.9", zorder=0, label=f"window {window[0] / 1000:g}k-"
                   f"{window[1] / 1000:g}k steps (the summary's numbers)")  # fmt: skip
        ax.axhline(threshold, color="0.35", lw=1, ls=(0, (1, 3)), label=f"return {threshold:g}")
        for key, group in curves.groupby(KEY, sort=False):
            curve = dict(zip(KEY, key, strict=True))
            info = seeds[seeds.curve == label(curve)]
            n, n_done = len(info), int(info.finished.sum())
            if curve["group"] == OURS:
                colour = FAMILY_COLOURS.get(curve["method"].lower(), "#777777")
                band = _band(group, seed)
                unfinished = f", {n - n_done} unfinished" if n_done < n else ""
                ax.plot(band.env_step, band["mean"], color=colour, lw=2.4,
                        label=f"{curve['method']} here ({curve['source'][6:-1]}, "
                        f"{curve['env_version']}): mean, 95% CI; {n} seed"
                        f"{'s' if n > 1 else ''}{unfinished}")  # fmt: skip
                ax.fill_between(band.env_step, band.low, band.high, color=colour, alpha=0.25,
                                lw=0)  # fmt: skip
                continue
            colour, style = METHOD_STYLE.get(curve["method"], OTHER_STYLE)
            wide = group.pivot_table(index="env_step", columns="seed", values="return")
            name = label(curve)
            if wide.shape[1] == 1:
                ax.plot(wide.index, wide.iloc[:, 0], color=colour, lw=1.4, ls=style,
                        label=f"{name}: 1 seed")  # fmt: skip
            else:
                ax.plot(wide.index, wide.mean(axis=1), color=colour, lw=2, ls=style,
                        marker="o", ms=4, label=f"{name}: mean, min-max of {n} seeds")  # fmt: skip
                ax.fill_between(wide.index, wide.min(axis=1), wide.max(axis=1), color=colour,
                                alpha=0.08, lw=0)  # fmt: skip
        ax.set_xlim(0, x_max)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
        ax.set(xlabel="env steps", ylabel="evaluation return",
               title="Hopper: MBPO and SAC here vs published curves")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), frameon=False,
                  title="published: Hopper-v2 (mujoco-py) or Hopper-v4; here: Hopper-v5 "
                  "(same task, other bindings)", title_fontsize=10, alignment="left")  # fmt: skip
        fig.tight_layout()
    return fig


def hopper_replication(
    runs: pd.DataFrame, reference: pd.DataFrame, out_png: str | Path, out_pdf: str | Path
) -> None:
    """Draw ``replication_figure`` and write it to ``out_png`` and ``out_pdf`` (atomically)."""
    save(replication_figure(runs, reference), [str(out_png), str(out_pdf)])


# ---------------------------------------------------------------- report


def _markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table; floats rounded to ``digits`` significant digits after the point."""

    def cell(value: object) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:.{digits}g}" if abs(value) < 1 \
                else f"{value:,.0f}"  # fmt: skip
        return str(value).replace("|", "/")

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)


def _cost_markdown(cost: pd.DataFrame) -> str:
    """The cost table with steps/s to 2 decimals and seconds to whole numbers."""
    shown = cost.copy()
    shown["steps_per_s"] = shown.steps_per_s.map(lambda v: f"{v:.2f}")
    for column in [*PHASES.values(), OTHER_PHASE, "total_s_per_1000"]:
        shown[column] = shown[column].map(lambda v: f"{v:.0f}")
    return _markdown(shown)


def report(
    summary_table: pd.DataFrame,
    seeds: pd.DataFrame,
    window: tuple = WINDOW,
    cost: pd.DataFrame | None = None,
    diagnostics: pd.DataFrame | None = None,
) -> str:
    """The summary, the per-seed positions and (given) the cost and diagnostics tables as
    markdown."""
    lo, hi = window[0] / 1000, window[1] / 1000
    cols = ["curve", "n_seeds", "n_finished", "window_means", "mean", "ci_low", "ci_high",
            "n_reach_threshold", "p_mbpo_gt_sac", "p_ci_low", "p_ci_high",
            "percentile_vs_published", "unfinished"]  # fmt: skip
    pos = positions(seeds)
    parts = [f"# Hopper replication: window {lo:g}k-{hi:g}k env steps",
             "", "Per method: the mean over each seed's evaluations in the window, their mean "
             "with a 95% bootstrap CI, seeds at or above the threshold, P(MBPO > SAC) on "
             "the window means (our runs) and our seeds' mean percentile among the same "
             "method's published seeds. Unfinished seeds are listed and left out.", "",
             _markdown(summary_table[cols])]  # fmt: skip
    if not pos.empty:
        parts += [
            "",
            "## Our seeds among each published curve's seeds",
            "",
            "Each method "
            "among the published seeds of the same method; MBPO also among REDQ's "
            "(model-free at the same 20 updates per env step).",
            "",
            _markdown(pos),
        ]
    if cost is not None and not cost.empty:
        parts += ["", "## What the runs cost", "", "Training wall time (evaluations "
                  "excluded) per 10k env steps: env steps per second and seconds per 1000 env "
                  "steps in each phase, the mean over the seeds that reached the bin; `all`: "
                  "the whole run. One thread per run. `left_out`: evaluation intervals (of "
                  "1000 steps) in which a run resumed from a checkpoint, not counted.", "",
                  _cost_markdown(cost)]  # fmt: skip
    if diagnostics is not None and not diagnostics.empty:
        parts += ["", "## Learning diagnostics", "", "Per seed and 10k env steps: the mean "
                  "evaluation return, SAC's temperature alpha (median, max), the soft value "
                  "-actor loss = E[min Q - alpha log pi] (median), one Q head's TD loss "
                  "(median, max) and the model's elite holdout MSE (median), beside the same "
                  f"quantities in {PUBLISHED_SOURCE}'s published MBPO log (one update's values "
                  "every 250 steps; ours: means over each 1000 steps' updates). Hopper pays "
                  "about 1-4 a step: at gamma 0.99 a soft value far above a few hundred is an "
                  "overestimating critic.", "", _markdown(diagnostics)]  # fmt: skip
    return "\n".join(parts) + "\n"


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are the suite's one ``error:`` line."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see python -m analysis.replication --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analysis.replication", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", required=True, type=Path,
                        help="folder of {variant}/{env}/s{seed}/returns.csv")  # fmt: skip
    parser.add_argument("--reference", required=True, type=Path,
                        help=f"folder with {CURVE_GLOB} (or one such CSV)")  # fmt: skip
    outputs = (
        "PREFIX.png .pdf .md _summary.csv _seeds.csv (and _cost.csv, _diagnostics.csv .png .pdf)"
    )
    parser.add_argument("--out", required=True, help=f"output prefix: writes {outputs}")
    parser.add_argument("--env", default=ENV, help=f"env id (default {ENV})")
    parser.add_argument("--reps", type=int, default=DEFAULT_REPS,
                        help="bootstrap replicates of P(MBPO > SAC)")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
        if args.reps < 1:
            raise UserError(f"--reps must be positive, got {args.reps}")
        runs = load_runs(args.runs, args.env)
        reference = load_reference(args.reference, args.env)
        table = summary(runs, reference, reps=args.reps)
        seeds = seed_table(runs, reference)
        cost = cost_table(load_timings(args.runs, args.env))
        tidy = load_diagnostics(args.runs, args.reference, args.env)
        diagnostics = diagnostics_table(tidy, _curves(runs, reference))
        out = Path(args.out)
        hopper_replication(runs, reference, f"{out}.png", f"{out}.pdf")
        atomic_write_text(Path(f"{out}_summary.csv"), table.to_csv(index=False))
        atomic_write_text(Path(f"{out}_seeds.csv"), seeds.to_csv(index=False))
        written = [f"{out}.png", f"{out}.pdf", f"{out}.md", f"{out}_summary.csv",
                   f"{out}_seeds.csv"]  # fmt: skip
        if not cost.empty:
            atomic_write_text(Path(f"{out}_cost.csv"), cost.to_csv(index=False))
            written.append(f"{out}_cost.csv")
        atomic_write_text(Path(f"{out}_diagnostics.csv"), diagnostics.to_csv(index=False))
        figures = [f"{out}_diagnostics.png", f"{out}_diagnostics.pdf"]
        save(diagnostics_figure(tidy, FAMILY_COLOURS), figures)  # empty panels without metrics
        written += [f"{out}_diagnostics.csv", *figures]
        atomic_write_text(Path(f"{out}.md"), report(table, seeds, cost=cost,
                                                    diagnostics=diagnostics))  # fmt: skip
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
