"""What a tier cost: core-hours per rule (and per env for training), and the wall time the
same jobs take on N cores.

    python -m analysis.cost results/ [--cores 8] [--by-env]

Reads ``tables/provenance.csv`` (training: the wall seconds of the work each run kept,
earlier attempts of a resumed run included up to their last checkpoint) and Snakemake's
benchmark files under ``benchmarks/`` (every other rule). A job's cost is its CPU seconds,
so that a job slowed by others on an oversubscribed machine costs what it used: a
benchmark file's ``cpu_time``; for training, the CPU seconds of the work the run kept
(``cpu_s``, from its meta.json) or, for a run with an attempt from before those were
recorded, its kept wall seconds times its last attempt's CPU share (``cpu_time`` over wall
seconds in its benchmark file). Where no CPU time was measured (a run trained outside the
DAG, an old file) the wall seconds count. Every job of the tiers uses
one thread, so a job's CPU seconds are also its duration on a core of its own. The wall
time on N cores is a list schedule of the measured jobs: training runs longest first on N
cores, then each diagnostic once what it reads is done (its run; the held-out sets of its
env for model error; all runs of the env and seed for chaos and the trained policy's
held-out set, a pessimistic stand-in for the one run they read), then the analysis
(tables, figures, claims) in sequence. Snakemake orders jobs its own way, so that figure
is an estimate, bounded below by core-hours / N.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from pathlib import Path

import pandas as pd

from analysis.provenance import read_benchmark
from methods.common.errors import UserError

PER_RUN = ("model_error", "return_gap")  # benchmarks/<rule>/<variant>/<env>/s<seed>.tsv
PER_ENV_SEED = ("chaos",)  # benchmarks/chaos/<env>/s<seed>.tsv: after that seed's runs


def read_jobs(results: Path) -> pd.DataFrame:
    """One row per job: rule, variant, env, seed, seconds (NaN ids where a rule has none)."""
    results = Path(results)
    provenance = results / "tables" / "provenance.csv"
    if not provenance.exists():
        raise UserError(f"{provenance} is missing: run the tier (or its provenance rule) first")
    runs = pd.read_csv(provenance)
    missing = {"variant", "env", "seed", "wall_s"} - set(runs.columns)
    if missing or runs.wall_s.isna().any():
        raise UserError(f"{provenance}: no {', '.join(sorted(missing)) or 'wall_s'} for "
                        "every run; rerun its provenance rule")  # fmt: skip
    share = pd.Series(1.0, index=runs.index)
    if {"last_attempt_s", "last_attempt_cpu_s"} <= set(runs.columns):
        measured = runs.last_attempt_cpu_s.notna() & runs.last_attempt_s.gt(0)
        share[measured] = runs.last_attempt_cpu_s[measured] / runs.last_attempt_s[measured]
    seconds = runs.wall_s * share
    if "cpu_s" in runs.columns:  # measured over every attempt: exact where present
        seconds = runs.cpu_s.where(runs.cpu_s.notna(), seconds)
    rows = [{"rule": "train", "variant": r.variant, "env": r.env, "seed": int(r.seed),
             "seconds": float(seconds[i])} for i, r in runs.iterrows()]  # fmt: skip
    bench = results / "benchmarks"
    for path in sorted(bench.rglob("*.tsv")):
        parts = path.relative_to(bench).with_suffix("").parts
        row = {"rule": parts[0], "variant": None, "env": None, "seed": None}
        seed = parts[-1].removeprefix("s")
        if parts[0] in (*PER_RUN, *PER_ENV_SEED) and not seed.isdigit():
            raise UserError(f"{path}: expected a file named s<seed>.tsv")
        if parts[0] in PER_RUN and len(parts) == 4:
            row.update(variant=parts[1], env=parts[2], seed=int(seed))
        elif parts[0] in PER_ENV_SEED and len(parts) == 3:
            row.update(env=parts[1], seed=int(seed))
        elif parts[0] == "heldout" and len(parts) == 2:  # the policy set needs its run
            row.update(rule="heldout_policy" if parts[1].endswith("_policy") else "heldout",
                       env=parts[1].removesuffix("_policy"))  # fmt: skip
        cost = read_benchmark(path)
        row["seconds"] = cost.wall_s if cost.cpu_s is None else cost.cpu_s
        rows.append(row)
    return pd.DataFrame(rows)


def per_rule(jobs: pd.DataFrame, by_env: bool = False) -> pd.DataFrame:
    """jobs, core-hours and the longest job per rule (training also per env with by_env)."""
    keys = ["rule", "env"] if by_env else ["rule"]
    frame = jobs.assign(env=jobs.env.fillna("")) if by_env else jobs
    table = frame.groupby(keys, sort=False).seconds.agg(["count", "sum", "max"]).reset_index()
    table = table.rename(columns={"count": "jobs", "sum": "core_h", "max": "longest_h"})
    table[["core_h", "longest_h"]] = table[["core_h", "longest_h"]] / 3600
    return table.sort_values("core_h", ascending=False, kind="stable").reset_index(drop=True)


def wall_hours(jobs: pd.DataFrame, cores: int) -> float:
    """The list schedule of the module docstring on ``cores`` cores, in hours."""
    if cores < 1:
        raise UserError("--cores must be at least 1")
    free = [0.0] * cores  # the time each core becomes free (a heap)
    done: dict[tuple, float] = {}  # (variant, env, seed) -> end of its training
    train = jobs[jobs.rule == "train"].sort_values("seconds", ascending=False, kind="stable")
    for job in train.itertuples():
        start = heapq.heappop(free)
        done[(job.variant, job.env, job.seed)] = start + job.seconds
        heapq.heappush(free, start + job.seconds)
    end = max(done.values(), default=0.0)

    def schedule(ready: list[tuple[float, float, str]]) -> dict[str, float]:
        """Start each (after, seconds, env) job on the first free core; env -> last end."""
        nonlocal end
        ends: dict[str, float] = {}
        for after, seconds, env in sorted(ready):
            start = max(heapq.heappop(free), after)
            heapq.heappush(free, start + seconds)
            end, ends[env] = max(end, start + seconds), max(ends.get(env, 0.0), start + seconds)
        return ends

    def env_runs_done(env: str, seed=None) -> float:
        return max((t for (v, e, s), t in done.items() if e == env and seed in (None, s)),
                   default=0.0)  # fmt: skip

    heldout = jobs[jobs.rule.isin(["heldout", "heldout_policy"])]
    heldout_ends = schedule([(env_runs_done(j.env) if j.rule == "heldout_policy" else 0.0,
                              j.seconds, j.env) for j in heldout.itertuples()])  # fmt: skip
    later = jobs[jobs.rule.isin([*PER_RUN, *PER_ENV_SEED])]
    schedule([(max(done.get((j.variant, j.env, j.seed), 0.0),
                   heldout_ends.get(j.env, 0.0) if j.rule == "model_error" else 0.0)
               if j.rule in PER_RUN else env_runs_done(j.env, j.seed), j.seconds, j.env)
              for j in later.itertuples()])  # fmt: skip
    diagnostics = {*PER_RUN, *PER_ENV_SEED, "heldout", "heldout_policy"}
    analysis = jobs[~jobs.rule.isin(["train", *diagnostics])].seconds.sum()
    return (end + analysis) / 3600


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", help="the tier's results folder (results/ for the default)")
    parser.add_argument("--cores", type=int, default=8)
    parser.add_argument("--by-env", action="store_true", help="split each rule by env")
    args = parser.parse_args(argv)
    try:
        jobs = read_jobs(Path(args.results))
        table = per_rule(jobs, args.by_env)
        wall = wall_hours(jobs, args.cores)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table.to_markdown(index=False, floatfmt=".2f"))
    total = jobs.seconds.sum() / 3600
    print(
        f"\n{len(jobs)} jobs, {total:.2f} core-hours; on {args.cores} cores about "
        f"{wall:.2f} h (at least {total / args.cores:.2f} h)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
