"""One row per run: what produced it and what it cost.

    python -m analysis.provenance --out results/tables/provenance.csv RUN_DIR [RUN_DIR ...]

From each run's ``meta.json`` (commit, host, device, packages, wall seconds of the work the
run kept: a resumed run's earlier attempts count up to their last checkpoint, so the time an
attempt spent after it and before a kill is not in it; the CPU seconds of the same work, where
every attempt measured them) and Snakemake's ``benchmark.tsv``
beside it (peak resident memory, wall and CPU seconds of the last attempt; absent for a run
trained outside the DAG). A CSV, so that it reads on a code host without tools.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from methods.common.errors import UserError
from methods.common.run_io import atomic_write_text

PACKAGES = ("torch", "numpy", "gymnasium", "mujoco", "dm_control", "snakemake")
COLUMNS = ["variant", "env", "seed", "git_commit", "git_dirty", "host", "device",
           "device_name", "threads", "python", *PACKAGES, "attempts", "hosts", "git_commits",
           "resumed_at_steps", "regenerated_at_steps", "wall_s", "cpu_s", "last_attempt_s",
           "last_attempt_cpu_s", "max_rss_mb", "start_time", "end_time"]  # fmt: skip


def _unique(values: list) -> str:
    """The distinct values in first-seen order, joined by ';'."""
    return ";".join(dict.fromkeys(str(v) for v in values if v is not None))


def provenance_row(run_dir: Path) -> dict:
    """The provenance and cost of one finished run (see the module docstring)."""
    run_dir = Path(run_dir)
    seed = run_dir.name.removeprefix("s")
    if not seed.isdigit():
        raise UserError(f"{run_dir}: expected a run directory .../VARIANT/ENV/s<seed>")
    try:
        meta = json.loads((run_dir / "meta.json").read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"run {run_dir}: meta.json is missing or corrupted ({exc})") from None
    attempts = [*meta.get("earlier_attempts", []), meta]
    packages = meta.get("packages", {})
    row = {"variant": run_dir.parent.parent.name, "env": run_dir.parent.name, "seed": int(seed),
           **{k: meta.get(k) for k in ("git_commit", "git_dirty", "host", "device",
                                       "device_name", "threads", "python")},
           **{k: packages.get(k) for k in PACKAGES},
           "attempts": len(attempts),
           "hosts": _unique([a.get("host") for a in attempts]),
           "git_commits": _unique([a.get("git_commit") for a in attempts]),
           "resumed_at_steps": _unique(meta.get("resumed_at_steps", [])),
           "regenerated_at_steps": _unique(meta.get("regenerated_at_steps", [])),
           "wall_s": meta.get("wall_seconds"), "cpu_s": meta.get("cpu_seconds"),
           "start_time": meta.get("start_time"), "end_time": meta.get("end_time")}  # fmt: skip
    row["last_attempt_s"] = row["last_attempt_cpu_s"] = row["max_rss_mb"] = None
    bench = run_dir / "benchmark.tsv"
    if bench.exists():
        cost = read_benchmark(bench)
        row["last_attempt_s"], row["last_attempt_cpu_s"] = cost.wall_s, cost.cpu_s
        row["max_rss_mb"] = cost.max_rss_mb
    return row


class Benchmark(NamedTuple):
    """What Snakemake's ``benchmark:`` file measured of one job."""

    wall_s: float
    max_rss_mb: float
    cpu_s: float | None  # user + system CPU seconds; None where the file has no cpu_time


def read_benchmark(path: Path) -> Benchmark:
    """The wall seconds, peak resident MB and CPU seconds of a ``benchmark:`` file."""
    try:
        cost = pd.read_csv(path, sep="\t").iloc[0]
        cpu = cost.get("cpu_time")
        return Benchmark(float(cost["s"]), float(cost["max_rss"]),
                         None if pd.isna(cpu) else float(cpu))  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, KeyError, IndexError,
            ValueError) as exc:  # fmt: skip
        raise UserError(f"{path} is corrupted ({exc})") from None


def provenance_table(run_dirs: list[Path]) -> pd.DataFrame:
    """Rows of ``provenance_row``, sorted by variant, env and seed."""
    rows = [provenance_row(d) for d in run_dirs]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["variant", "env", "seed"], kind="stable").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, help="the CSV to write")
    parser.add_argument("runs", nargs="+", help="run directories or files inside them")
    args = parser.parse_args(argv)
    try:
        dirs = sorted({Path(p) if Path(p).is_dir() else Path(p).parent for p in args.runs})
        table = provenance_table(dirs)
        atomic_write_text(Path(args.out), table.to_csv(index=False))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"provenance of {len(table)} runs: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
