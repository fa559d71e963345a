"""Re-check finished runs against the run-output contract.

    python -m methods verify results/      # every results/runs/{variant}/{env}/s{seed}

For each run directory: the contract's files are present; returns.csv / metrics.csv /
timings.csv parse with the contract's columns; config.yaml names the same variant, env and
seed as the directory; meta.json has every provenance field. Prints one line per problem
and a summary; exits 1 when any run has a problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from methods.common.run_io import METRICS_COLUMNS, RETURNS_COLUMNS

REQUIRED_FILES = ("config.yaml", "meta.json", "returns.csv", "metrics.csv", "timings.csv")
META_FIELDS = ("git_commit", "git_dirty", "packages", "device", "threads", "host", "seed",
               "start_time", "end_time", "wall_seconds")  # fmt: skip


def check_run(run_dir: Path) -> list[str]:
    """Problems of one run directory laid out as .../{variant}/{env}/s{seed}."""
    problems = [f"{name} is missing" for name in REQUIRED_FILES if not (run_dir / name).is_file()]
    for name, columns in (("returns.csv", RETURNS_COLUMNS), ("metrics.csv", METRICS_COLUMNS),
                          ("timings.csv", METRICS_COLUMNS)):  # fmt: skip
        if (run_dir / name).is_file():
            try:
                frame = pd.read_csv(run_dir / name)
                if tuple(frame.columns) != tuple(columns):
                    problems.append(f"{name} has columns {list(frame.columns)}")
                elif name == "returns.csv" and frame.empty:
                    problems.append("returns.csv has no evaluation")
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                problems.append(f"{name} does not parse ({str(exc).splitlines()[0]})")
    if (run_dir / "config.yaml").is_file():
        try:
            config = yaml.safe_load((run_dir / "config.yaml").read_text())
            expected = {"variant": run_dir.parts[-3], "env": run_dir.parts[-2],
                        "seed": run_dir.name.removeprefix("s")}  # fmt: skip
            for key, want in expected.items():
                if str(config.get(key)) != want:
                    problems.append(f"config.yaml says {key}={config.get(key)!r}, directory {want}")
            if not isinstance(config.get("params"), dict):
                problems.append("config.yaml has no resolved params")
        except (yaml.YAMLError, AttributeError) as exc:
            problems.append(f"config.yaml does not parse ({exc})")
    if (run_dir / "meta.json").is_file():
        try:
            meta = json.loads((run_dir / "meta.json").read_text())
            problems += [f"meta.json lacks '{k}'" for k in META_FIELDS if k not in meta]
        except json.JSONDecodeError as exc:
            problems.append(f"meta.json does not parse ({exc})")
    return problems


def verify(root: Path) -> tuple[int, list[str]]:
    """(number of runs checked, problem lines) for every run under ``root``."""
    runs_root = root / "runs" if (root / "runs").is_dir() else root
    run_dirs = sorted(p for p in runs_root.glob("*/*/s*") if p.is_dir())
    lines = [f"{d}: {problem}" for d in run_dirs for problem in check_run(d)]
    return len(run_dirs), lines
