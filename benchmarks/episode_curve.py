"""Return vs env steps from the training episodes that ``episode_ends.py`` logged: the
learning curve PETS plots (one point per trial), beside the runs' evaluations.

    python benchmarks/episode_curve.py RUN_DIR [RUN_DIR ...] [--every 2500]

Each RUN_DIR holds ``episodes.jsonl`` (``episode_ends.py``'s log) and may hold
``returns.csv`` (the run's evaluations, finished or not). For a planner that acts without
exploration noise (MPC), a training episode is as much a measurement of the current
controller as an evaluation episode. Prints one JSON line per run (mean training return per
``--every`` steps, by the step where the episode ended; evaluations by step), then a
markdown table of both. A run still in progress shows only the columns it has completed
(the last one would otherwise average a few episodes of a window).

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--every", type=int, default=2500, help="env steps per table column")
    args = parser.parse_args()
    curves = [curve(run, args.every) for run in args.runs]
    for c in curves:
        print(json.dumps(c))
    print(table(curves, args.every))


if __name__ == "__main__":
    main()
