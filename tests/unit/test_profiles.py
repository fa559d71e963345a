"""The SLURM profile's default resources reach the jobs (the automatic workflow profile,
profiles/default, is applied after --profile and would replace any keys it also sets)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = shutil.which("snakemake") or str(Path(sys.executable).parent / "snakemake")


def test_slurm_profile_resources_survive_the_default_profile():
    proc = subprocess.run(
        [SNAKEMAKE, "-n", "--profile", "profiles/slurm", "--configfile=config/smoke.yaml",
         "results/smoke/heldout/gym-Pendulum-v1/random.npz"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    resources = [line for line in proc.stdout.splitlines() if "resources:" in line]
    assert resources, proc.stdout[-2000:]
    for expected in ("slurm_partition=main", "slurm_account=default", "mem_mb=4000"):
        assert expected in resources[0], resources[0]
