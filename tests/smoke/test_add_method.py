"""Adding a method the way methods/README.md says, in a temporary copy of the repository.

The path: the method's file in ``methods/``, one line in ``methods/registry.py``'s
``METHOD_MODULES`` (the one place a method is registered: the config schema takes any
string and the suite checks it against the registry), variants in a tier config. Then
``python -m methods train`` writes the run-output contract and the smoke DAG's aggregate
and learning-curve rules take the new variants in. The methods added are the README's two
examples, kept in tests/fixtures/new_method/ (the README must show them verbatim, so that
what it shows is what is tested).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import fresh_copy

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures/new_method"
README = ROOT / "methods/README.md"
BIN = Path(sys.executable).parent
NEW_METHODS = ("uniform", "burst")  # tests/fixtures/new_method/<name>.py -> methods/<name>.py
ENV = "gym-Pendulum-v1"


def run(workdir: Path, *cmd: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """A command in the copy: `python -m methods` imports the copy's `methods` package (the
    working directory comes before the editable install on sys.path)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MUJOCO_GL": "disable"}
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout,
                          env=env)  # fmt: skip


def register(workdir: Path, name: str) -> None:
    """The README's registration: one line at the end of ``METHOD_MODULES``."""
    registry = workdir / "methods/registry.py"
    line = f'    "{name}": "methods.{name}",\n'
    text, n = re.subn(r"(METHOD_MODULES = \{\n(?:    .+\n)*)\}", lambda m: m[1] + line + "}",
                      registry.read_text(), count=1)  # fmt: skip
    assert n == 1, "methods/registry.py has no `METHOD_MODULES = {...}`: update methods/README.md"
    registry.write_text(text)


def test_readme_shows_the_tested_examples():
    """Every example method and the tier config the tests use appear verbatim in the README."""
    readme = README.read_text()
    for name in NEW_METHODS:
        assert (FIXTURES / f"{name}.py").read_text() in readme, f"{name}.py differs"
    variants = (FIXTURES / "tiny.yaml").read_text().split("variants:\n")[1]
    assert variants in readme, "the README's tier config differs from tiny.yaml's variants"
    for step in ("METHOD_MODULES", "python -m methods train", "results/tiny/tables"):
        assert step in readme, step


@pytest.mark.slow
def test_new_method_trains_and_reaches_the_returns_table_and_learning_curves(tmp_path):
    repo = fresh_copy(tmp_path / "repo")
    for name in NEW_METHODS:
        shutil.copy(FIXTURES / f"{name}.py", repo / "methods" / f"{name}.py")
    shutil.copy(FIXTURES / "tiny.yaml", repo / "config/tiny.yaml")
    out = "runs-cli/uniform/gym-Pendulum-v1/s0"
    train = ["python", "-m", "methods", "train", "--variant", "uniform", "--env", ENV,
             "--seed", "0", "--config", "config/tiny.yaml", "--out", out, "--threads", "1",
             "--device", "cpu"]  # fmt: skip

    # copied but not yet registered: the config is refused with one line naming the method
    refused = run(repo, *train)
    assert refused.returncode == 2, refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert re.match(r"error: variant '[\w-]+': unknown method '(uniform|burst)'; known methods: ",
                    refused.stderr), refused.stderr  # fmt: skip
    for name in NEW_METHODS:
        register(repo, name)

    listed = run(repo, "python", "-m", "methods", "list", "--config", "config/tiny.yaml")
    assert listed.returncode == 0, listed.stderr
    assert "method=uniform {'action_scale': 0.5}" in listed.stdout
    assert "method=burst {'update_every': 100}" in listed.stdout

    trained = run(repo, *train)
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_dir = repo / out
    assert pd.read_csv(run_dir / "returns.csv").env_step.tolist() == [150, 300]
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert "uniform/mean_abs_action" in set(metrics.name)
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["method"] == "uniform" and config["params"]["action_scale"] == 1.0
    assert config["params"]["env_steps"] == 300  # the tier's defaults reach the new Config
    verified = run(repo, "python", "-m", "methods", "verify", "runs-cli")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    targets = ["results/tiny/tables/returns.parquet", "results/tiny/figures/learning_curves.png"]
    dag = run(repo, str(BIN / "snakemake"), "--cores", "2", "--configfile=config/tiny.yaml",
              *targets, timeout=900)  # fmt: skip
    assert dag.returncode == 0, dag.stdout[-3000:] + dag.stderr[-3000:]
    returns = pd.read_parquet(repo / targets[0])
    runs = returns.groupby("variant").method.first().to_dict()
    assert runs == {"sac": "sac", "uniform": "uniform", "uniform-half": "uniform",
                    "burst-u100": "burst"}  # fmt: skip
    assert (returns.groupby("variant").env_step.max() == 300).all()
    assert (repo / targets[1]).stat().st_size > 1000
    assert (repo / targets[1]).with_suffix(".pdf").stat().st_size > 1000
    # the DAG's train job is `python -m methods train`: the same seed gives the same run
    dag_run = repo / "results/tiny/runs/uniform/gym-Pendulum-v1/s0"
    for name in ("returns.csv", "metrics.csv"):
        assert (dag_run / name).read_bytes() == (run_dir / name).read_bytes(), name
