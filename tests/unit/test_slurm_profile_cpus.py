"""What a SLURM job asks for is what it uses: profiles/slurm leaves the train rule's CPUs to
the tier's `threads` (the rule's `threads:`, passed to `--threads`), and the SLURM plugin
turns a job's threads into `--cpus-per-task` when the profile sets no `cpus_per_task`."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake_executor_plugin_slurm_jobstep import get_cpu_setting

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = shutil.which("snakemake") or str(Path(sys.executable).parent / "snakemake")


class Resources(dict):
    """The part of a Snakemake job's resources the plugin reads (``.get`` and attributes)."""

    __getattr__ = dict.__getitem__


def dry_run_job(tier: str, target: str) -> tuple[int, dict, str]:
    """(threads, resources, shell command) of the job making ``target``, as a SLURM run of
    ``tier`` sees it (``--cores`` as large as a cluster's: a dry run otherwise caps threads
    at 1)."""
    proc = subprocess.run(
        [SNAKEMAKE, "-n", "-p", "--profile", "profiles/slurm", f"--configfile={tier}",
         "--cores", "1024", target],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    threads = re.search(r"^\s+threads: (\d+)$", proc.stdout, re.M)
    resources_line = re.search(r"^\s+resources: (.*)$", proc.stdout, re.M).group(1)
    resources = Resources()
    for item in resources_line.split(", "):
        key, _, value = item.partition("=")
        resources[key] = int(value) if value.isdigit() else value
    shell = re.search(r"^Shell command: (.*)$", proc.stdout, re.M).group(1)
    return int(threads.group(1)) if threads else 1, resources, shell


@pytest.mark.parametrize("tier", ["config/smoke.yaml", "config/paper.yaml"])
def test_train_job_asks_slurm_for_the_cpus_and_time_it_is_given(tier):
    config = yaml.safe_load((ROOT / tier).read_text())
    env = config["envs"][0]
    name = Path(tier).stem  # each tier's outputs live in results/<tier>/
    threads, resources, shell = dry_run_job(tier, f"results/{name}/runs/sac/{env}/s0/meta.json")
    assert threads == config.get("threads", 1), "the tier's threads are the job's threads"
    assert f"--threads {threads} " in shell, shell
    assert get_cpu_setting(_job(threads, resources), gpu=False) == f"--cpus-per-task={threads}"
    assert resources["runtime"] == config.get("runtime_minutes", 600), resources


def test_other_jobs_ask_for_their_own_threads():
    target = "results/smoke/heldout/gym-Pendulum-v1/random.npz"
    threads, resources, _ = dry_run_job("config/smoke.yaml", target)
    assert get_cpu_setting(_job(threads, resources), gpu=False) == f"--cpus-per-task={threads}"


def test_profile_sets_no_cpus_per_task_of_its_own():
    """A fixed cpus_per_task (default or per rule) would outlive a change of threads."""
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    assert "cpus_per_task" not in (profile.get("default-resources") or {})
    for rule, resources in (profile.get("set-resources") or {}).items():
        assert "cpus_per_task" not in resources, rule
    assert not profile.get("set-threads"), "threads come from the tier's config"


def _job(threads: int, resources: Resources):
    return type("Job", (), {"threads": threads, "resources": resources})()
