"""How far a tier is: every run of its config as done, running, stopped (resumable) or not
started, with the env steps done and an estimate of the time left.

    python -m methods status --config config/config.yaml

Reads only the run directories (config.yaml, returns.csv, timings.csv, meta.json,
checkpoint.pt, .running.json), so it works beside a running ``snakemake`` and on a cluster's
shared disk. A run is running while the process named in its ``.running.json`` marker runs
(see ``methods.common.liveness``); a run without a marker is not. Where the marker was written
on another host, a run is running while its files are younger than ``--stale-minutes`` or
twice the longest gap between evaluations of its variant and env, whichever is longer (a
planner on cartpole writes every ~17 minutes). File times alone cannot tell: after a clone
(``handoff restore-mtimes``) a stopped run's files carry its last commit's time.
The time left follows the cost *profile* of the finished and started runs of the same variant
and env (cumulative seconds at each evaluation: training seconds for a started run, scaled for
a finished one so that they add up to its whole wall time, evaluations included): a stretch
of env steps that some of them have done costs what it cost them on average there; a stretch
beyond all of them costs what the furthest run's last ``RECENT_FRACTION`` of its steps cost
per step (so a run whose steps get dearer, like MBPO as its data and rollout length grow, is
not priced at its cheap early average; it is still a lower bound where the cost keeps
growing). The total is spread over as many parallel jobs as are running now (at least one);
runs of a variant and env with no started run are counted, not estimated.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml

from methods.common.config import load_config_file
from methods.common.errors import UserError
from methods.common.liveness import marker_alive
from methods.common.resume import CHECKPOINT_NAME
from methods.common.run_io import clock
from methods.common.tiers import tier_paths, tier_seeds

WALL = "time/train_wall_s"  # cumulative training wall seconds, logged at each evaluation
RECENT_FRACTION = 0.2  # beyond every run: priced at the furthest run's last 20 % of steps
Profile = tuple[tuple[int, float], ...]  # (env step, cumulative seconds) per evaluation


@dataclass
class RunState:
    variant: str
    env: str
    seed: int
    state: str  # done, running, stopped, not started
    step: int
    budget: int
    seconds: float  # wall seconds so far (done: the run's total)
    profile: Profile = ()  # cumulative seconds at each evaluation, ending at (step, seconds)


def progress(run_dir: Path) -> tuple[int, float, Profile]:
    """Env steps done, training wall seconds and the cost profile, from the run's CSVs, or
    from its checkpoint when the CSVs are gone (Snakemake deletes a job's outputs when it
    restarts the job; the run rewrites them from its checkpoint at its next evaluation)."""
    returns = run_dir / "returns.csv"
    if not returns.exists() and (run_dir / CHECKPOINT_NAME).exists():
        return _checkpoint_progress(run_dir / CHECKPOINT_NAME)
    step = 0
    if returns.exists():
        rows = list(csv.DictReader(returns.open()))
        step = int(float(rows[-1]["env_step"])) if rows else 0
    timings = run_dir / "timings.csv"
    rows = list(csv.DictReader(timings.open())) if timings.exists() else []
    profile = [(int(float(r["env_step"])), float(r["value"])) for r in rows if r["name"] == WALL]
    return _with_end(step, profile[-1][1] if profile else 0.0, profile)


def _checkpoint_progress(path: Path) -> tuple[int, float, Profile]:
    """(env steps, training wall seconds, profile) a checkpoint was written at; (0, 0, ()) if
    unreadable (a checkpoint being replaced, or of another version: the run says what is
    wrong)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
        loop = checkpoint["loop"]
        timings = (checkpoint.get("log") or {}).get("timings", [])
        profile = [(int(step), float(value)) for step, name, value in timings if name == WALL]
        return _with_end(int(loop.step), float(loop.train_seconds), profile)
    except Exception:  # noqa: BLE001 - any unreadable checkpoint counts as no progress
        return 0, 0.0, ()


def _with_end(step: int, seconds: float, profile: list[tuple[int, float]]) -> tuple:
    """(step, seconds, profile) with the profile cut at ``step`` and ending at (step,
    seconds)."""
    kept = [(s, w) for s, w in profile if s < step]
    return step, seconds, (*kept, (step, seconds)) if step > 0 else ()


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
        step, train_seconds, profile = progress(run_dir)
        seconds = float(meta.get("wall_seconds", 0.0))  # evaluations included: scale to it
        scale = seconds / train_seconds if train_seconds > 0 else 0.0
        profile = tuple((s, w * scale) for s, w in profile) if scale else _with_end(
            step, seconds, [])[2]  # fmt: skip
        return RunState(variant, env, seed, "done", step, budget or step, seconds, profile)
    if not (run_dir / "config.yaml").exists():
        return RunState(variant, env, seed, "not started", 0, 0, 0.0)
    step, seconds, profile = progress(run_dir)
    running = marker_alive(run_dir)
    if running is None:  # marked on another host: judge by how recently it wrote
        newest = max(p.stat().st_mtime for p in run_dir.iterdir() if p.is_file())
        running = time.time() - newest < stale_s
    state = "running" if running else "stopped"
    return RunState(variant, env, seed, state, step, budget, seconds, profile)


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
    profiles = {}  # (variant, env) -> profiles of its finished and started runs
    for s in states:
        if s.step > 0 and s.profile and s.profile[-1][1] > 0:
            profiles.setdefault((s.variant, s.env), []).append(s.profile)
    total, unknown = 0.0, 0
    for s in states:
        if s.state == "done":
            continue
        known = profiles.get((s.variant, s.env))
        budget = s.budget or _known_budget(states, s)
        if not known or budget is None:
            unknown += 1
            continue
        total += cost_between(known, s.step, budget)
    return total, unknown


def cost_between(profiles: list[Profile], start: int, end: int) -> float:
    """Seconds that env steps ``start``..``end`` cost, priced by ``profiles`` (see the module
    docstring): each stretch at the mean per-step cost of the profiles that cover it, the
    stretch beyond all of them at the furthest profile's recent per-step cost."""
    if end <= start:
        return 0.0
    edges = sorted({start, end, *(s for p in profiles for s, _ in p if start < s < end)})
    furthest = max(profiles, key=lambda p: p[-1][0])
    recent = _recent_rate(furthest)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        rates = [_rate(p, low, high) for p in profiles if p[-1][0] >= high]
        total += (high - low) * (float(np.mean(rates)) if rates else recent)
    return total


def _rate(profile: Profile, low: int, high: int) -> float:
    """Seconds per env step of ``profile`` between ``low`` and ``high`` (linear between
    evaluations, so within one evaluation interval it is that interval's rate)."""
    steps, seconds = zip(*((0, 0.0), *profile), strict=True)
    return float(np.interp(high, steps, seconds) - np.interp(low, steps, seconds)) / (high - low)


def _recent_rate(profile: Profile) -> float:
    """Seconds per env step over the last ``RECENT_FRACTION`` of the profile's steps (at least
    its last evaluation interval)."""
    last = profile[-1][0]
    before = [s for s, _ in profile[:-1]]
    low = min(int(last * (1 - RECENT_FRACTION)), before[-1] if before else 0)
    return _rate(profile, low, last)


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
