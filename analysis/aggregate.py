"""All runs' CSVs -> tidy tables ``returns.parquet``, ``metrics.parquet``, ``timings.parquet``.

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
    except OSError as exc:  # a directory in its place, no permission, an I/O error
        raise UserError(f"run {path.parent}: cannot read {path.name} ({exc.strerror})") from None
    if list(frame.columns) != list(columns):
        raise UserError(
            f"run {path.parent}: {path.name} has columns {list(frame.columns)}, "
            f"expected {list(columns)}"
        )
    if "value" in frame:
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


def read_run(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(returns, metrics, timings) of one finished run, with identity columns added."""
    run_dir = Path(run_dir)
    try:
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
        json.loads((run_dir / "meta.json").read_text())
    except FileNotFoundError as exc:
        raise UserError(f"run {run_dir}: {Path(exc.filename).name} is missing") from None
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"run {run_dir}: config.yaml or meta.json is corrupted ({exc})") from None
    except OSError as exc:  # a directory in its place, no permission, an I/O error
        name = Path(exc.filename).name if exc.filename else "config.yaml or meta.json"
        raise UserError(f"run {run_dir}: cannot read {name} ({exc.strerror})") from None
    if not isinstance(config, dict) or not all(k in config for k in ID_COLUMNS):
        raise UserError(f"run {run_dir}: config.yaml lacks {ID_COLUMNS}")
    if not isinstance(config.get("params"), dict):
        raise UserError(f"run {run_dir}: config.yaml has no resolved params")
    ids = {k: config[k] for k in ID_COLUMNS}
    returns = _read_csv(run_dir / "returns.csv", RETURNS_COLUMNS).assign(**ids)
    metrics = _read_csv(run_dir / "metrics.csv", METRICS_COLUMNS).assign(**ids)
    timings = _read_csv(run_dir / "timings.csv", METRICS_COLUMNS).assign(**ids)
    return returns, metrics, timings


def run_params(run_dir: Path) -> dict:
    """Identity columns plus every scalar of the run's resolved params (lists as text)."""
    config = yaml.safe_load((Path(run_dir) / "config.yaml").read_text())
    params = {k: (str(v) if isinstance(v, list | tuple | dict) else v)
              for k, v in config["params"].items()}  # fmt: skip
    return {**{k: config[k] for k in ID_COLUMNS}, **params}


def aggregate(run_dirs: list[Path]) -> dict[str, pd.DataFrame]:
    """{"returns", "metrics", "timings", "runs"} over every run, sorted by run and step."""
    parts = [read_run(d) for d in sorted(run_dirs)]
    if not parts:
        raise UserError("no runs to aggregate")
    order = ID_COLUMNS + ["env_step"]
    tables = {}
    for i, name in enumerate(("returns", "metrics", "timings")):
        frame = pd.concat([p[i] for p in parts], ignore_index=True)
        value_columns = [c for c in RETURNS_COLUMNS if c != "env_step"] if i == 0 else [
            "name", "value"]  # fmt: skip
        tables[name] = frame[order + value_columns].sort_values(
            order + ([] if i == 0 else ["name"]), kind="stable"
        )
    runs = pd.DataFrame([run_params(d) for d in sorted(run_dirs)])
    tables["runs"] = runs.astype({c: str for c in runs.columns if runs[c].dtype == object})
    return tables


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    atomic_write_bytes(path, frame.reset_index(drop=True).to_parquet(index=False))


def per_run_csvs(paths: list[Path]) -> pd.DataFrame:
    """Concatenate CSVs laid out as .../{variant}/{env}/s{seed}.csv with those id columns."""
    frames = []
    for path in sorted(Path(p) for p in paths):
        try:
            frame = pd.read_csv(path)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise UserError(f"{path} is missing or corrupted ({exc})") from None
        seed = path.stem.removeprefix("s")
        if not seed.isdigit():
            raise UserError(f"{path}: expected a file named s<seed>.csv")
        frames.append(frame.assign(variant=path.parts[-3], env=path.parts[-2], seed=int(seed)))
    if not frames:  # a tier without such runs: an empty table, not an error
        return pd.DataFrame(columns=["variant", "env", "seed"])
    return pd.concat(frames, ignore_index=True)


def per_env_csvs(paths: list[str]) -> pd.DataFrame:
    """Concatenate CSVs laid out as .../{env}/NAME.csv with an ``env`` column, or as
    .../{env}/s{seed}/NAME.csv with ``env`` and ``seed`` columns."""
    frames = []
    for path in sorted(Path(p) for p in paths):
        folder = path.parent.name
        per_seed = folder.startswith("s") and folder[1:].isdigit()
        ids = {"env": path.parent.parent.name, "seed": int(folder[1:])} if per_seed else {
            "env": folder}  # fmt: skip
        try:
            frames.append(pd.read_csv(path).assign(**ids))
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise UserError(f"{path} is missing or corrupted ({exc})") from None
    if not frames:  # a tier without such diagnostics: an empty table, not an error
        return pd.DataFrame(columns=["env", "seed"])
    return pd.concat(frames, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", help="write returns/metrics/timings parquet here")
    parser.add_argument("--model-error", "--per-run", dest="model_error",
                        help="concatenate .../{variant}/{env}/s{seed}.csv files (model error, "
                        "return gap) into this parquet")  # fmt: skip
    parser.add_argument("--per-env", help="concatenate .../{env}[/s{seed}]/NAME.csv files into "
                        "a parquet")  # fmt: skip
    parser.add_argument("runs", nargs="*", help="run directories or files inside them (with "
                        "--per-run or --per-env: none gives an empty table)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        if args.per_env or args.model_error:  # one concatenated table
            concatenate = per_env_csvs if args.per_env else per_run_csvs
            write_parquet(concatenate(args.runs), Path(args.per_env or args.model_error))
            return 0
        if not args.runs:
            raise UserError("no run directories given")
        missing = [p for p in args.runs if not Path(p).exists()]
        if missing:
            raise UserError(f"{missing[0]} does not exist (give run directories or files "
                            "inside them)")  # fmt: skip
        dirs = sorted({Path(p) if Path(p).is_dir() else Path(p).parent for p in args.runs})
        tables = aggregate(dirs)
        for name, table in tables.items():
            write_parquet(table, Path(args.out_dir) / f"{name}.parquet")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"aggregated {len(dirs)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
