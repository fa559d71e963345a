"""All runs' CSVs -> tidy tables ``returns.parquet`` and ``metrics.parquet``.

    python -m analysis.aggregate --out-dir results/tables RUN_DIR/meta.json ...

Each row carries variant, method, env, seed (from the run's config.yaml). A missing or
corrupted run file stops with one message naming the run directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import yaml

from methods.common.errors import UserError
from methods.common.run_io import METRICS_COLUMNS, RETURNS_COLUMNS, atomic_write_bytes

ID_COLUMNS = ["variant", "method", "env", "seed"]


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise UserError(f"run {path.parent}: {path.name} is missing") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"run {path.parent}: {path.name} is corrupted ({exc})") from None
    if list(frame.columns) != list(columns):
        raise UserError(
            f"run {path.parent}: {path.name} has columns {list(frame.columns)}, "
            f"expected {list(columns)}"
        )
    if "value" in frame:
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


def read_run(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(returns, metrics) of one finished run, with identity columns added."""
    run_dir = Path(run_dir)
    try:
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
        json.loads((run_dir / "meta.json").read_text())
    except FileNotFoundError as exc:
        raise UserError(f"run {run_dir}: {Path(exc.filename).name} is missing") from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise UserError(f"run {run_dir}: config.yaml or meta.json is corrupted ({exc})") from None
    if not isinstance(config, dict) or not all(k in config for k in ID_COLUMNS):
        raise UserError(f"run {run_dir}: config.yaml lacks {ID_COLUMNS}")
    ids = {k: config[k] for k in ID_COLUMNS}
    returns = _read_csv(run_dir / "returns.csv", RETURNS_COLUMNS).assign(**ids)
    metrics = _read_csv(run_dir / "metrics.csv", METRICS_COLUMNS).assign(**ids)
    return returns, metrics


def aggregate(run_dirs: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    parts = [read_run(d) for d in sorted(run_dirs)]
    if not parts:
        raise UserError("no runs to aggregate")
    returns = pd.concat([p[0] for p in parts], ignore_index=True)
    metrics = pd.concat([p[1] for p in parts], ignore_index=True)
    order = ID_COLUMNS + ["env_step"]
    returns = returns[order + [c for c in RETURNS_COLUMNS if c != "env_step"]]
    metrics = metrics[order + ["name", "value"]]
    return returns.sort_values(order, kind="stable"), metrics.sort_values(
        order + ["name"], kind="stable"
    )


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    atomic_write_bytes(path, frame.reset_index(drop=True).to_parquet(index=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("runs", nargs="+", help="run directories or files inside them")
    args = parser.parse_args(argv)
    dirs = [Path(p) if Path(p).is_dir() else Path(p).parent for p in args.runs]
    try:
        returns, metrics = aggregate(sorted(set(dirs)))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_parquet(returns, Path(args.out_dir) / "returns.parquet")
    write_parquet(metrics, Path(args.out_dir) / "metrics.parquet")
    print(f"aggregated {len(dirs)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
