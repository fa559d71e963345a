"""How far a tier is: every run of its config as done, running, stopped (resumable) or not
started, with the env steps done and an estimate of the time left.

    python -m methods status --config config/config.yaml

Reads only the run directories (config.yaml, returns.csv, timings.csv, meta.json,
checkpoint.pt), so it works beside a running ``snakemake`` and on a cluster's shared disk. A
run is running while its files are younger than ``--stale-minutes`` or twice the longest gap
between evaluations of its variant and env, whichever is longer (a planner on cartpole writes
every ~17 minutes).
The time left assumes the runs still to do go as fast as the finished and started runs of
the same variant and env, spread over as many parallel jobs as are running now (at least
one); runs of a variant and env with no started run are counted, not estimated.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

from methods.common.config import load_config_file
from methods.common.errors import UserError
from methods.common.resume import CHECKPOINT_NAME
from methods.common.run_io import clock
from methods.common.tiers import tier_paths, tier_seeds


@dataclass
class RunState:
    variant: str
    env: str
    seed: int
    state: str  # done, running, stopped, not started
    step: int
    budget: int
    seconds: float  # wall seconds so far (done: the run's total)


def _last_step_and_seconds(run_dir: Path) -> tuple[int, float]:
    """Env steps done and training wall seconds, from the run's CSVs, or from its checkpoint
    when the CSVs are gone (Snakemake deletes a job's outputs when it restarts the job; the
    run rewrites them from its checkpoint at its next evaluation)."""
    step, seconds = 0, 0.0
    returns = run_dir / "returns.csv"
    if not returns.exists() and (run_dir / CHECKPOINT_NAME).exists():
        return _checkpoint_step_and_seconds(run_dir / CHECKPOINT_NAME)
    if returns.exists():
        rows = list(csv.DictReader(returns.open()))
        step = int(float(rows[-1]["env_step"])) if rows else 0
    timings = run_dir / "timings.csv"
    if timings.exists():
        for row in csv.DictReader(timings.open()):
            if row["name"] == "time/train_wall_s":
                seconds = float(row["value"])
    return step, seconds


def _checkpoint_step_and_seconds(path: Path) -> tuple[int, float]:
    """(env steps, training wall seconds) a checkpoint was written at; (0, 0) if unreadable
    (a checkpoint being replaced, or of another version: the run itself says what is wrong)."""
    try:
        loop = torch.load(path, map_location="cpu", weights_only=False, mmap=True)["loop"]
        return int(loop.step), float(loop.train_seconds)
    except Exception:  # noqa: BLE001 - any unreadable checkpoint counts as no progress
        return 0, 0.0


def run_states(config: dict, config_file: str, stale_minutes: float = 10.0) -> list[RunState]:
    """One RunState per (variant, env, seed) of the tier, in the config's order."""
    seeds = tier_seeds(config)
    runs = Path(tier_paths(config, config_file).runs)
    states = []
    for variant, settings in config["variants"].items():
        only = (settings or {}).get("envs")
        for env in config["envs"]:
            if only is not None and env not in only:
                continue
            dirs = {seed: runs / variant / env / f"s{seed}" for seed in seeds}
            # a run writes at each evaluation: its pair's longest gap between evaluations
            # (twice, with a floor of stale_minutes) is how long it may be silent and running
            gap = max((_longest_write_gap(d) for d in dirs.values()), default=0.0)
            stale_s = max(60 * stale_minutes, 2 * gap)
            for seed, run_dir in dirs.items():
                states.append(_state(run_dir, variant, env, seed, stale_s))
    return states


def _longest_write_gap(run_dir: Path) -> float:
    """Longest training wall-clock gap (s) between a run's evaluations, from its start."""
    timings = run_dir / "timings.csv"
    if not timings.exists():
        return 0.0
    walls = [0.0] + [float(row["value"]) for row in csv.DictReader(timings.open())
                     if row["name"] == "time/train_wall_s"]  # fmt: skip
    return max(b - a for a, b in zip(walls[:-1], walls[1:], strict=True)) if len(walls) > 1 else 0.0


def _state(run_dir: Path, variant: str, env: str, seed: int, stale_s: float) -> RunState:
    budget = 0
    if (run_dir / "config.yaml").exists():
        budget = int(yaml.safe_load((run_dir / "config.yaml").read_text())["params"]["env_steps"])
    if (run_dir / "meta.json").exists():
        meta = json.loads((run_dir / "meta.json").read_text())
        step, _ = _last_step_and_seconds(run_dir)
        return RunState(variant, env, seed, "done", step, budget or step,
                        float(meta.get("wall_seconds", 0.0)))  # fmt: skip
    if not (run_dir / "config.yaml").exists():
        return RunState(variant, env, seed, "not started", 0, 0, 0.0)
    step, seconds = _last_step_and_seconds(run_dir)
    newest = max(p.stat().st_mtime for p in run_dir.iterdir() if p.is_file())
    running = time.time() - newest < stale_s
    state = "running" if running else "stopped"
    return RunState(variant, env, seed, state, step, budget, seconds)


def time_left(states: list[RunState]) -> tuple[float, int]:
    """Seconds left for the runs that can be estimated (see the module docstring), and how
    many unfinished runs cannot be: no run of their variant and env has started yet."""
    core_seconds, unknown = _core_seconds_left(states)
    return core_seconds / _parallel_jobs(states), unknown


def _parallel_jobs(states: list[RunState]) -> int:
    """The jobs running now (at least one): what the time left is spread over."""
    return max(1, sum(s.state == "running" for s in states))


def _core_seconds_left(states: list[RunState]) -> tuple[float, int]:
    """One-core seconds left over the estimable unfinished runs, and the count of the rest."""
    rate_of = {}  # (variant, env) -> seconds per env step, from finished and started runs
    for s in states:
        if s.step > 0 and (s.state == "done" or s.state != "not started" and s.seconds > 0):
            rate_of.setdefault((s.variant, s.env), []).append(s.seconds / s.step)
    total, unknown = 0.0, 0
    for s in states:
        if s.state == "done":
            continue
        rates = rate_of.get((s.variant, s.env))
        budget = s.budget or _known_budget(states, s)
        if not rates or budget is None:
            unknown += 1
            continue
        total += sum(rates) / len(rates) * (budget - s.step)
    return total, unknown


def _known_budget(states: list[RunState], target: RunState) -> int | None:
    for s in states:
        if (s.variant, s.env) == (target.variant, target.env) and s.budget:
            return s.budget
    return None


def print_status(config_file: str, stale_minutes: float = 10.0) -> None:
    config = load_config_file(config_file)
    if not config.get("variants") or not config.get("envs") or "seeds" not in config:
        raise UserError(f"{config_file} is not a tier config (needs envs, seeds, variants)")
    states = run_states(config, config_file, stale_minutes)
    paths = tier_paths(config, config_file)
    width = max(len(f"{s.variant} {s.env} s{s.seed}") for s in states)
    for s in states:
        where = f"{s.step}/{s.budget}" if s.budget else ""
        print(f"{f'{s.variant} {s.env} s{s.seed}':{width}}  {s.state:11s}  {where}")
    counts = {k: sum(s.state == k for s in states) for k in
              ("done", "running", "stopped", "not started")}  # fmt: skip
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    core_seconds, unknown = _core_seconds_left(states)
    estimated = sum(s.state != "done" for s in states) - unknown
    line = f"tier '{paths.name}' ({paths.runs}): {len(states)} runs: {summary}"
    if estimated:
        seconds, core_hours = core_seconds / _parallel_jobs(states), core_seconds / 3600
        line += (f"; about {clock(seconds)} left for {estimated} run{'s' * (estimated > 1)} "
                 f"({core_hours:.2f} core-hours)")  # fmt: skip
    if unknown:
        line += (f"; {unknown} run{'s' * (unknown > 1)} not estimated (no run of their "
                 "variant and env has started)")  # fmt: skip
    print(line)
    if counts["stopped"]:
        print("stopped runs resume from their checkpoint when the same snakemake command runs "
              "again")  # fmt: skip
