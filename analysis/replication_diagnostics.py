"""Learning diagnostics of the Hopper replication (issue 38): the SAC temperature, the soft
value, the critic's TD error and the model's holdout error of our runs, per 10k env steps,
beside the same quantities in the published MBPO run (x35f/model_based_rl's TensorBoard log).

Used by ``analysis.replication``, which reads the files. Quantities (one name each, the same
formula in both codes):

- ``alpha``: SAC's entropy temperature.
- ``soft_value``: minus the actor loss, E[min(Q1, Q2)(s, a) - alpha log pi(a|s)], a ~ pi(s):
  what the critic believes the policy is worth. Hopper pays about 1-4 a step, so with
  gamma = 0.99 a soft value far above a few hundred is the critic overestimating.
- ``critic_loss``: the TD regression loss of one Q head (ours logs the sum of both heads'
  mean squared errors; x35f logs each head's).
- ``model_holdout_mse``: the elite members' holdout MSE after each model fit (ours only: the
  x35f log indexes its model loss by a model-training counter, not by env steps).

Our values are means over all the updates between two evaluations (20 000 updates per 1000
env steps for MBPO); x35f's are one update's values every 250 env steps. Each table cell is
therefore a median (or max) over a bin of env steps, not a single logged value.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from methods.common.errors import UserError  # noqa: E402

PUBLISHED_FILE = "diagnostics_hopper_x35f_mbpo.csv"  # in reference/: tag, step, value
PUBLISHED_SOURCE = "x35f/model_based_rl"  # the `source` of its curve in curves_hopper_*.csv
DIAGNOSTIC_BIN = 10_000  # env steps per row
STATISTICS = (("alpha", "median"), ("alpha", "max"), ("soft_value", "median"),
              ("critic_loss", "median"), ("critic_loss", "max"),
              ("model_holdout_mse", "median"))  # fmt: skip
TABLE_COLUMNS = ["source", "method", "seed", "steps_to", "eval_return",
                 *(f"{quantity}_{how}" for quantity, how in STATISTICS)]  # fmt: skip


def run_diagnostics(metrics: pd.DataFrame) -> pd.DataFrame:
    """Our metrics.csv rows (``env_step, name, value``) as ``env_step, quantity, value``."""
    wide = metrics.pivot_table(index="env_step", columns="name", values="value", aggfunc="last")
    recipes = {
        "alpha": lambda w: w["sac/alpha"],
        "soft_value": lambda w: -w["sac/actor_loss"],
        "critic_loss": lambda w: w["sac/critic_loss"] / 2,  # logged: the sum over two heads
        "model_holdout_mse": lambda w: w["model/holdout_mse"],
    }
    return _long(wide, recipes)


def published_diagnostics(log: pd.DataFrame) -> pd.DataFrame:
    """x35f's scalars (``tag, step, value``) as ``env_step, quantity, value``."""
    wide = log.pivot_table(index="step", columns="tag", values="value", aggfunc="last")
    recipes = {
        "alpha": lambda w: w["misc/entropy_alpha"],
        "soft_value": lambda w: -w["loss/policy"],
        "critic_loss": lambda w: (w["loss/q1"] + w["loss/q2"]) / 2,
    }
    return _long(wide.rename_axis("env_step"), recipes)


def _long(wide: pd.DataFrame, recipes: dict) -> pd.DataFrame:
    """Each recipe whose inputs ``wide`` has, as ``env_step, quantity, value`` (finite only)."""
    frames = []
    for quantity, recipe in recipes.items():
        try:
            values = recipe(wide)
        except KeyError:
            continue  # e.g. SAC has no model
        values = values[np.isfinite(values)]
        frames.append(pd.DataFrame({"env_step": values.index.to_numpy(dtype=float),
                                    "quantity": quantity, "value": values.to_numpy()}))  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["env_step", "quantity", "value"])  # fmt: skip


def diagnostics_table(
    diagnostics: pd.DataFrame, returns: pd.DataFrame, bin_steps: int = DIAGNOSTIC_BIN
) -> pd.DataFrame:
    """One row per source, seed and bin of ``bin_steps`` env steps (``steps_to``, the bin's end):
    the mean evaluation return in the bin (``returns``: ``source, seed, env_step, return``),
    the median and max of alpha, the median soft value, the median and max critic loss and the
    median model holdout MSE (NaN where a run logs none)."""
    if diagnostics.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    binned = diagnostics.assign(steps_to=bin_end(diagnostics.env_step, bin_steps))
    stats = binned.groupby(["source", "method", "seed", "steps_to", "quantity"]).value.agg(
        ["median", "max"]).unstack("quantity")  # fmt: skip
    table = pd.DataFrame(index=stats.index)
    for quantity, how in STATISTICS:
        column = (how, quantity)
        table[f"{quantity}_{how}"] = stats[column] if column in stats else np.nan
    evals = returns.assign(steps_to=bin_end(returns.env_step, bin_steps)).groupby(
        ["source", "seed", "steps_to"])["return"].mean().rename("eval_return")  # fmt: skip
    table = table.reset_index().join(evals, on=["source", "seed", "steps_to"])
    return table[TABLE_COLUMNS]


def bin_end(steps: pd.Series, bin_steps: int) -> pd.Series:
    """The end of each step's bin: (0, b] -> b, (b, 2b] -> 2b, ..."""
    if bin_steps <= 0:
        raise UserError(f"the diagnostics bin must be positive, got {bin_steps}")
    return (np.ceil(steps.astype(float) / bin_steps) * bin_steps).astype(int)


PANELS = (  # quantity, axis label, log scale, lower y limit (None: matplotlib's)
    ("alpha", "SAC temperature alpha", True, None),
    ("soft_value", "soft value  -actor loss", True, 10.0),  # not the first steps' ~0
    ("critic_loss", "TD loss of one Q head", True, None),
    ("model_holdout_mse", "model holdout MSE (elites)", False, 0.0),
)
SEED_STYLES = ("-", "--", "-.", ":", (0, (5, 1)))


def diagnostics_figure(diagnostics: pd.DataFrame, colours: dict[str, str]) -> plt.Figure:
    """One panel per quantity against env steps: a line per our seed (colour by method from
    ``colours``, style by seed) and the published run in grey (its values smoothed by a
    running median over 4 logs = 1000 env steps, as it logs one update every 250 steps)."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True)
    for ax, (quantity, title, log, bottom) in zip(axes.flat, PANELS, strict=True):
        part = diagnostics[diagnostics.quantity == quantity]
        for (source, method, seed), line in part.groupby(["source", "method", "seed"]):
            line = line.sort_values("env_step")
            if source == PUBLISHED_SOURCE:
                values = line.value.rolling(4, min_periods=1).median()
                ax.plot(line.env_step, values, color="0.55", lw=1.2,
                        label=f"{method}, {source} (published, 1 run)")  # fmt: skip
                continue
            ax.plot(line.env_step, line.value, lw=1.3,
                    color=colours.get(method.lower(), "#777777"),
                    ls=SEED_STYLES[int(seed) % len(SEED_STYLES)],
                    label=f"{method}, {source}, seed {seed}")  # fmt: skip
        if log and (part.value > 0).any():
            ax.set_yscale("log")
        if bottom is not None and not part.empty:
            ax.set_ylim(bottom=bottom)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("env steps")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, -0.02))  # fmt: skip
    fig.suptitle("Hopper: what the critic and the model did (ours: mean over each 1000 "
                 "steps' updates)")  # fmt: skip
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
