"""SAC end to end on a tiny budget: the run-output contract and CPU determinism."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from methods.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["env_steps=300", "random_steps=100", "eval_every=150", "eval_episodes=1", "hidden=32"]


def train(out: Path, seed: int = 0, env: str = "gym-Pendulum-v1", extra=()) -> int:
    args = ["train", "--variant", "sac", "--env", env, "--seed", str(seed),
            "--config", str(ROOT / "config/config.yaml"), "--out", str(out), "--threads", "1",
            "--device", "cpu"]  # fmt: skip
    for item in [*TINY, *extra]:
        args += ["--set", item]
    return main(args)


def test_sac_writes_the_run_contract(tmp_path):
    out = tmp_path / "run"
    assert train(out) == 0
    for name in ("config.yaml", "meta.json", "returns.csv", "metrics.csv", "timings.csv",
                 "policy.pt"):  # fmt: skip
        assert (out / name).is_file(), name
    returns = pd.read_csv(out / "returns.csv")
    assert list(returns.columns) == ["env_step", "eval_return_mean", "eval_return_std",
                                     "n_episodes"]  # fmt: skip
    assert returns.env_step.tolist() == [150, 300]
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics.columns) == ["env_step", "name", "value"]
    assert {"sac/critic_loss", "sac/alpha", "sac/actor_loss"} <= set(metrics.name)
    timings = pd.read_csv(out / "timings.csv")
    train_wall = timings[timings.name == "time/train_wall_s"]  # evaluations left out
    assert train_wall.env_step.tolist() == [150, 300]
    assert 0 < train_wall.value.iloc[0] < train_wall.value.iloc[1]
    meta = json.loads((out / "meta.json").read_text())
    for key in ("git_commit", "git_dirty", "packages", "device", "threads", "start_time",
                "end_time", "wall_seconds", "host", "seed"):  # fmt: skip
        assert key in meta, key
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["params"]["env_steps"] == 300 and config["variant"] == "sac"
    assert not list(out.glob("*.tmp"))


def test_dmc_env_runs(tmp_path):
    assert train(tmp_path / "dmc", env="dmc-cartpole-swingup", extra=["eval_every=300"]) == 0
    assert pd.read_csv(tmp_path / "dmc/returns.csv").env_step.tolist() == [300]


@pytest.mark.parametrize("name", ["returns.csv", "metrics.csv"])
def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path, name):
    for run, seed in (("a", 0), ("b", 0), ("c", 1)):
        assert train(tmp_path / run, seed) == 0
    a, b, c = ((tmp_path / run / name).read_bytes() for run in "abc")
    assert a == b
    assert a != c


def test_refuses_to_overwrite_a_finished_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out) == 0
    before = (out / "returns.csv").read_bytes()
    assert train(out) == 2
    assert "already holds a finished run" in capsys.readouterr().err
    assert (out / "returns.csv").read_bytes() == before
