"""Kill a Snakemake job at a random moment, rerun it, and check that nothing was lost.

    python studies/main_job_resilience/kill_and_resume.py --workdir . --seed 0 \
        --kill-after 300 600 --out studies/main_job_resilience/results/default \
        -- --cores 2 all

Issue 40's check of the main job: start ``snakemake ARGS`` in WORKDIR, SIGKILL it and all
its jobs at a moment drawn uniformly from ``--kill-after`` (seconds, seeded), unlock, and
start the same command again, detached (its output in ``--out``/snakemake.log: it goes on
with the whole job after this script exits). Once the runs the kill interrupted have
finished, per interrupted run: did it resume from its checkpoint (``resumed_at_steps`` in meta.json)
rather than from step 0, and are its ``returns.csv`` and ``metrics.csv`` byte-identical to
the same run trained uninterrupted (``python -m methods train`` with the run's own variant,
env, seed, config, device and threads, into a temporary folder)? The tables and the claims
are functions of these files (tests/workflow: the analysis half regenerates them byte for
byte), so equal files mean equal tables. Writes ``kill_and_resume.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from methods.status import progress  # the last evaluated step

BIN = Path(sys.executable).parent


def in_progress(runs_root: Path, since: float) -> list[Path]:
    """Run folders without a meta.json (unfinished) where a file changed after ``since``."""
    return sorted(p.parent for p in runs_root.glob("*/*/s*/config.yaml")
                  if not (p.parent / "meta.json").exists()
                  and max(f.stat().st_mtime for f in p.parent.iterdir()) > since)  # fmt: skip


def retrain(run: Path, workdir: Path, config_file: str, out: Path) -> None:
    """Train the run again, uninterrupted, with its own settings, into ``out``."""
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    cmd = [sys.executable, "-m", "methods", "train", "--variant", resolved["variant"],
           "--env", resolved["env"], "--seed", str(resolved["seed"]), "--config", config_file,
           "--out", str(out), "--device", resolved["device"],
           "--threads", str(resolved["threads"])]  # fmt: skip
    subprocess.run(cmd, cwd=workdir, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("."))
    parser.add_argument("--runs-root", default="results/runs",
                        help="the tier's runs folder, relative to workdir")  # fmt: skip
    parser.add_argument("--config-file", default="config/config.yaml")
    parser.add_argument("--seed", type=int, default=0, help="draws the kill moment")
    parser.add_argument("--kill-after", type=float, nargs=2, default=(300.0, 600.0))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("snakemake_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    sm_args = [a for a in args.snakemake_args if a != "--"]
    workdir, runs_root = args.workdir.resolve(), args.workdir.resolve() / args.runs_root
    kill_at = random.Random(args.seed).uniform(*args.kill_after)
    args.out.mkdir(parents=True, exist_ok=True)
    snakemake = [str(BIN / "snakemake"), *sm_args]

    started = time.time()
    proc = subprocess.Popen(snakemake, cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    while time.time() - started < kill_at:
        if proc.poll() is not None:
            sys.exit(f"error: snakemake ended (exit {proc.returncode}) before the kill at "
                     f"{kill_at:.0f} s")  # fmt: skip
        time.sleep(1)
    interrupted = in_progress(runs_root, started)
    now = time.time()
    state = {str(r.relative_to(workdir)): {
        "step_at_kill": progress(r)[0],
        "had_checkpoint": (r / "checkpoint.pt").exists(),
        "config_written_s_before_kill": round(now - (r / "config.yaml").stat().st_mtime, 1),
    } for r in interrupted}  # fmt: skip
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_after = time.time() - started

    configfile = [a for a in sm_args if a.startswith("--configfile")]
    subprocess.run([str(BIN / "snakemake"), "--unlock", *configfile], cwd=workdir, check=True,
                   capture_output=True)  # fmt: skip
    with open(args.out / "snakemake.log", "w") as log:  # the job goes on after this script
        subprocess.Popen(snakemake, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)  # fmt: skip
    while not all((r / "meta.json").exists() for r in interrupted):
        time.sleep(10)

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in interrupted:
            key = str(run.relative_to(workdir))
            meta = json.loads((run / "meta.json").read_text())
            twin = Path(tmp) / key
            retrain(run, workdir, args.config_file, twin)
            same = {name: (run / name).read_bytes() == (twin / name).read_bytes()
                    for name in ("returns.csv", "metrics.csv")}  # fmt: skip
            results[key] = {**state[key], "resumed_at_steps": meta.get("resumed_at_steps", []),
                            "byte_identical": same}  # fmt: skip
    report = {"snakemake_args": sm_args, "seed": args.seed, "kill_at_s": round(kill_at, 1),
              "killed_after_s": round(killed_after, 1), "runs": results,
              "restarted_from_zero": [k for k, v in results.items()
                                      if v["had_checkpoint"] and not v["resumed_at_steps"]],
              "all_byte_identical": all(all(v["byte_identical"].values())
                                        for v in results.values())}  # fmt: skip
    (args.out / "kill_and_resume.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
