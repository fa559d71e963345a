"""Helpers for the learning studies: run the CLI for (variant, env, seed), read the curves.

Study scripts import it as ``from _runs import ...`` after putting ``studies/_common`` on
``sys.path`` (they are run as ``python studies/STUDY/SCRIPT.py`` from the repo root)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]  # the repo root


def add_set_option(parser: argparse.ArgumentParser, example: str) -> None:
    """``--set KEY=VALUE`` (repeatable): config overrides for every run of the study."""
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help=f"config override for every run (e.g. {example})")  # fmt: skip


def run_overrides(budget: int, eval_every: int, sets: list[str]) -> list[str]:
    """The learning studies' overrides: budget, eval cadence, checkpoints every 10 minutes
    (a killed run continues when the command is rerun), then the user's ``--set`` items."""
    return [f"env_steps={budget}", f"eval_every={eval_every}", "checkpoint_minutes=10", *sets]


def run_once(
    variant: str, env: str, seed: int, out_root: Path, config: str, threads: int,
    overrides: list[str], device: str = "cpu",
) -> Path:  # fmt: skip
    """Train one run through the CLI unless ``out_root/variant/env/s{seed}`` is finished."""
    out = out_root / variant / env / f"s{seed}"
    if not (out / "meta.json").exists():
        cmd = [sys.executable, "-m", "methods", "train", "--variant", variant, "--env", env,
               "--seed", str(seed), "--config", config, "--out", str(out), "--device", device,
               "--threads", str(threads)]  # fmt: skip
        for item in overrides:
            cmd += ["--set", item]
        subprocess.run(cmd, cwd=ROOT, check=True)
    return out


def summarize(run_dir: Path, threshold: float, within: int) -> dict:
    """First env step whose eval return >= threshold, and returns at the budget marks."""
    returns = pd.read_csv(run_dir / "returns.csv")
    meta = json.loads((run_dir / "meta.json").read_text())
    hit = returns[returns.eval_return_mean >= threshold]
    first = int(hit.env_step.iloc[0]) if len(hit) else None
    in_budget = returns[returns.env_step <= within]
    return {
        "first_step_reaching": first,
        "reached_within_budget": first is not None and first <= within,
        "best_return_within_budget": float(in_budget.eval_return_mean.max()),
        "final_return": float(returns.eval_return_mean.iloc[-1]),
        "curve": {
            int(s): round(float(r), 1)
            for s, r in zip(returns.env_step, returns.eval_return_mean, strict=True)
        },  # fmt: skip
        "wall_seconds": meta["wall_seconds"],
        "git_commit": meta["git_commit"],
    }


def success_count(rows: list[dict]) -> int:
    return int(np.sum([r["reached_within_budget"] for r in rows]))


def run_seeds(
    variant: str, env: str, seeds: Iterable[int], out_root: Path, config: str, threads: int,
    jobs: int, overrides: list[str], threshold: float, budget: int,
    extra: Callable[[Path], dict] | None = None, device: str = "cpu",
) -> list[dict]:  # fmt: skip
    """Train (or reuse, or resume) one run per seed, ``jobs`` at a time; print and return
    one summary row per run (``extra(run_dir)`` adds fields)."""
    seeds = list(seeds)

    def one(seed: int) -> Path:
        return run_once(variant, env, seed, out_root, config, threads, overrides, device)

    rows = []
    with ThreadPoolExecutor(jobs) as pool:
        for seed, run_dir in zip(seeds, pool.map(one, seeds), strict=True):
            row = {"variant": variant, "env": env, "seed": seed, "threshold": threshold}
            row.update(budget=budget, **summarize(run_dir, threshold, budget))
            if extra is not None:
                row.update(extra(run_dir))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows
