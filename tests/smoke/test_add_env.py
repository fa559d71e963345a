"""Adding an env the way methods/README.md says, in a temporary copy of the repository.

The path: a termination function and one ``EnvSpec`` entry in ``methods/common/envs.py``'s
``_SPECS`` (the one place an env is registered: the config schema takes any string and the
suite checks it against the registry). Before the entry, training on the env is refused
with one line; after it, ``python -m methods list`` shows it, its termination function
agrees with the simulator, and SAC trains on it through ``python -m methods train``. The
code added is the README's, verbatim.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import fresh_copy

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "methods/README.md"
COPY = ("config", "workflow", "methods", "pyproject.toml")  # what `python -m methods` reads
ENV = "gym-MountainCarContinuous-v0"
ANCHOR = "\n_SPECS = [\n"  # the list of EnvSpec entries in methods/common/envs.py

# The README's code, inserted above and as the first entry of ``_SPECS``.
TERMINATION_FN = '''
def mountain_car_terminates(next_obs: torch.Tensor) -> torch.Tensor:
    """MountainCarContinuous's goal: position (obs[0]) >= 0.45 at velocity (obs[1]) >= 0."""
    at_goal = (next_obs[..., 0] >= 0.45) & (next_obs[..., 1] >= 0.0)
    return at_goal | _non_finite(next_obs)

'''
SPEC_ENTRY = """\
    EnvSpec("gym-MountainCarContinuous-v0", _gym("MountainCarContinuous-v0"), 999,
            mountain_car_terminates, env_steps=20_000, paper_env_steps=20_000,
            eval_every=1000, rollout_schedule=(1, 15, 1, 1), mbpo_random_steps=1000,
            notes="not in the MBPO paper: paper_env_steps is our budget"),
"""

# Run in the copy: the registry's invariants (tests/unit/test_envs.py checks them for every
# entry of the repository's registry), then the termination function against the simulator.
CHECK_TERMINATION = f"""
import numpy as np, torch
from methods.common.envs import get_spec, make_env
spec, env = get_spec("{ENV}"), make_env("{ENV}")
obs, _ = env.reset(seed=0)
assert obs.dtype == np.float32 and (env.action_space.low == -1).all()
assert (env.action_space.high == 1).all()
for step in range(300):  # random actions: the car stays in the valley
    obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
    assert bool(spec.termination_fn(torch.as_tensor(obs)[None])[0]) == terminated
env.unwrapped.state = np.array([0.44, 0.06])  # about to cross the goal
obs, _, terminated, _, _ = env.step(np.ones(1, dtype=np.float32))
assert terminated and bool(spec.termination_fn(torch.as_tensor(obs)[None])[0])
print("termination ok")
"""

TIER = f"""\
envs: [{ENV}]
seeds: 1
defaults: {{env_steps: 300, random_steps: 100, eval_every: 150, eval_episodes: 1, hidden: 32,
           batch_size: 32, updates_per_step: 2}}
variants:
  sac: {{method: sac}}
"""


def run(workdir: Path, *cmd: str) -> subprocess.CompletedProcess:
    """A command in the copy (its `methods` package comes first on sys.path)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MUJOCO_GL": "disable"}
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600,
                          env=env)  # fmt: skip


def test_readme_shows_the_tested_env_entry():
    readme = README.read_text()
    assert TERMINATION_FN.strip() in readme
    assert SPEC_ENTRY in readme
    assert "python -m methods list" in readme


@pytest.mark.slow
def test_new_env_is_listed_checked_and_trains(tmp_path):
    repo = fresh_copy(tmp_path / "repo", COPY)
    (repo / "config/tiny-env.yaml").write_text(TIER)
    out = f"runs/sac/{ENV}/s0"
    train = ["python", "-m", "methods", "train", "--variant", "sac", "--env", ENV, "--seed",
             "0", "--config", "config/tiny-env.yaml", "--out", out, "--threads", "1",
             "--device", "cpu"]  # fmt: skip
    refused = run(repo, *train)  # not yet registered: one line naming the env
    assert refused.returncode == 2, refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert refused.stderr.startswith(f"error: unknown env '{ENV}'; known envs: "), refused.stderr
    # and so is the tier that lists it, by every command that reads the config
    unlisted = run(repo, "python", "-m", "methods", "list", "--config", "config/tiny-env.yaml")
    assert unlisted.returncode == 2 and f"error: unknown env '{ENV}'" in unlisted.stderr, (
        unlisted.stderr
    )

    envs_py = repo / "methods/common/envs.py"
    text = envs_py.read_text()
    assert text.count(ANCHOR) == 1, "envs.py has no `_SPECS = [`: update methods/README.md"
    envs_py.write_text(text.replace(ANCHOR, f"{TERMINATION_FN}{ANCHOR}{SPEC_ENTRY}"))

    listed = run(repo, "python", "-m", "methods", "list")
    assert listed.returncode == 0, listed.stderr
    assert any(line.split()[:3] == [ENV, "episode", "999"] for line in listed.stdout.splitlines())
    checked = run(repo, "python", "-c", CHECK_TERMINATION)
    assert checked.returncode == 0 and "termination ok" in checked.stdout, checked.stderr

    trained = run(repo, *train)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert pd.read_csv(repo / out / "returns.csv").env_step.tolist() == [150, 300]
    config = yaml.safe_load((repo / out / "config.yaml").read_text())
    assert config["env"] == ENV and config["params"]["env_steps"] == 300
    verified = run(repo, "python", "-m", "methods", "verify", "runs")
    assert verified.returncode == 0, verified.stdout + verified.stderr
