"""The Hopper replication target (issue 38) waits for finished runs: a run stopped mid-way has
its CSVs so far but no ``meta.json``, and must be resumed, not plotted as if finished."""

import subprocess
import sys
from pathlib import Path

from conftest import fresh_copy

SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
RUNS = "results/hopper/runs/{variant}/gym-Hopper-v5/s{seed}"


def test_a_run_without_meta_json_is_trained_before_the_figure(tmp_path):
    workdir = fresh_copy(tmp_path / "repo")
    for variant in ("mbpo-sched", "sac"):
        for seed in range(3):
            run = workdir / RUNS.format(variant=variant, seed=seed)
            run.mkdir(parents=True, exist_ok=True)
            for name in ("returns.csv", "metrics.csv", "timings.csv", "meta.json"):
                (run / name).write_text("x\n")
    stopped = workdir / RUNS.format(variant="mbpo-sched", seed=1)
    (stopped / "meta.json").unlink()  # stopped at a checkpoint: CSVs so far, no meta.json
    proc = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", "--configfile=config/hopper.yaml",
                           "hopper_replication"], cwd=workdir, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    trained = [line.strip() for line in out.splitlines() if "wildcards: variant=" in line]
    assert trained == ["wildcards: variant=mbpo-sched, env=gym-Hopper-v5, seed=1"], out[-3000:]
