"""Return vs env steps from the training episodes that ``episode_ends.py`` logged: the
learning curve PETS plots (one point per trial), beside the runs' evaluations.

    python studies/mpc_learning/episode_curve.py RUN_DIR [RUN_DIR ...] [--every 2500]
        [--plot curve.png [--reference 848 --reference-label "true-simulator planner"]]

Each RUN_DIR holds ``episodes.jsonl`` (``episode_ends.py``'s log) and may hold
``returns.csv`` (the run's evaluations, finished or not). For a planner that acts without
exploration noise (MPC), a training episode is as much a measurement of the current
controller as an evaluation episode. Prints one JSON line per run (mean training return per
``--every`` steps, by the step where the episode ended; evaluations by step), then a
markdown table of both; ``--plot`` also draws them (one line per run, evaluations as
crosses, the mean over runs where every run has the window). A run still in progress
shows only the columns it has completed (the last one would otherwise average a few
episodes of a window).

A run resumed from a checkpoint replays the episodes after it, so an episode finished
between the last checkpoint and a kill is logged twice, identically: identical lines
(same role, return and final observation) are counted once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd


def train_episodes(log: Path) -> pd.DataFrame:
    """(end_step, return) of each distinct training episode in ``log``, in order."""
    seen, rows, step = set(), [], 0
    for line in log.read_text().splitlines():
        row = json.loads(line)
        key = (row["role"], row["return"], tuple(row["final_obs"]))
        if row["role"] != "train" or key in seen:
            continue
        seen.add(key)
        step += row["length"]
        rows.append((step, row["return"]))
    return pd.DataFrame(rows, columns=["end_step", "return"])


def curve(run_dir: Path, every: int) -> dict:
    """Mean training return per ``every`` steps and the evaluations of one run."""
    episodes = train_episodes(run_dir / "episodes.jsonl")
    bins = (np.ceil(episodes.end_step / every) * every).astype(int)
    train = episodes.groupby(bins)["return"].mean().round(1)
    steps_done, finished = int(episodes.end_step.max()), (run_dir / "meta.json").exists()
    if not finished:  # a window the run has not completed yet
        train = train[train.index <= steps_done]
    evals = {}
    if (run_dir / "returns.csv").exists():
        returns = pd.read_csv(run_dir / "returns.csv")
        evals = dict(zip(returns.env_step.astype(int), returns.eval_return_mean.round(1),
                         strict=True))  # fmt: skip
    return {"run": str(run_dir), "steps_done": steps_done,
            "finished": finished,
            "train_return": {int(k): float(v) for k, v in train.items()},
            "eval_return": {int(k): float(v) for k, v in evals.items()}}  # fmt: skip


def table(curves: list[dict], every: int) -> str:
    """Markdown: one row per run, training means per bin (evaluations in brackets)."""
    last = max(c["steps_done"] for c in curves)
    marks = list(range(every, int(np.ceil(last / every)) * every + 1, every))
    lines = ["| run | " + " | ".join(f"{m // 1000 if m % 1000 == 0 else m / 1000}k"
                                        for m in marks) + " |",  # fmt: skip
             "|---|" + "---|" * len(marks)]  # fmt: skip
    for c in curves:
        cells = []
        for m in marks:
            cell = f"{c['train_return'][m]:.0f}" if m in c["train_return"] else ""
            if m in c["eval_return"]:
                cell += f" [{c['eval_return'][m]:.0f}]"
            cells.append(cell)
        lines.append(f"| {Path(c['run']).name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(curves: list[dict], title: str, reference: float | None = None,
         reference_label: str = "reference"):  # fmt: skip
    """A figure of the training means per window (one line per run), the evaluations
    (crosses) and the mean over the runs at the windows all of them have completed."""
    from analysis.plots import plt

    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    colours = plt.get_cmap("tab10").colors
    for i, c in enumerate(curves):
        colour = colours[i % len(colours)]
        ax.plot(list(c["train_return"]), list(c["train_return"].values()), color=colour,
                lw=1, alpha=0.6, label=Path(c["run"]).name)  # fmt: skip
        ax.plot(list(c["eval_return"]), list(c["eval_return"].values()), "x", color=colour,
                label="evaluations" if i == 0 else None)  # fmt: skip
    common = sorted(set.intersection(*(set(c["train_return"]) for c in curves)))
    if len(curves) > 1 and common:
        mean = [np.mean([c["train_return"][s] for c in curves]) for s in common]
        ax.plot(common, mean, color="black", lw=2, label=f"mean of {len(curves)}")
    if reference is not None:
        ax.axhline(reference, color="grey", ls="--", lw=1, label=reference_label)
    ax.set(xlabel="env steps", ylabel="mean return per window", title=title)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--every", type=int, default=2500, help="env steps per table column")
    parser.add_argument("--plot", type=Path, help="also write the curves to this PNG/PDF/SVG")
    parser.add_argument("--title", default="", help="the plot's title")
    parser.add_argument("--reference", type=float, help="a return to draw as a dashed line")
    parser.add_argument("--reference-label", default="reference")
    args = parser.parse_args()
    curves = [curve(run, args.every) for run in args.runs]
    for c in curves:
        print(json.dumps(c))
    print(table(curves, args.every))
    if args.plot:
        from analysis.plots import save

        save(plot(curves, args.title, args.reference, args.reference_label), [str(args.plot)])


if __name__ == "__main__":
    main()
