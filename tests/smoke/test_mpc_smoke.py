"""MPC variants end to end on a tiny budget."""

from pathlib import Path

import pandas as pd
import pytest

from methods.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["env_steps=60", "random_steps=20", "eval_every=60", "eval_episodes=1", "population=20",
        "cem_elites=4", "particles=2", "horizon=5", "iterations=2", "model_hidden=16",
        "model_layers=2", "ensemble_size=3", "num_elites=2", "model_max_epochs=3"]  # fmt: skip


def train(variant: str, out: Path, env: str) -> int:
    args = ["train", "--variant", variant, "--env", env, "--seed", "0", "--config",
            str(ROOT / "config/paper.yaml"), "--out", str(out), "--threads", "1",
            "--device", "cpu"]  # fmt: skip
    for item in TINY:
        args += ["--set", item]
    return main(args)


@pytest.mark.parametrize(
    ("variant", "env"),
    [
        ("mpc-rs", "gym-InvertedPendulum-v5"),
        ("mpc-cem", "gym-Pendulum-v1"),
        ("mpc-oracle", "gym-InvertedPendulum-v5"),
        ("mpc-oracle", "gym-Pendulum-v1"),
        ("mpc-oracle", "dmc-cartpole-swingup"),
    ],  # fmt: skip
)
def test_mpc_variant_runs_and_times_its_plans(tmp_path, variant, env):
    out = tmp_path / "run"
    assert train(variant, out, env) == 0
    for name in ("config.yaml", "meta.json", "returns.csv", "metrics.csv", "timings.csv"):
        assert (out / name).is_file(), name
    assert (out / "model.pt").is_file() == (variant != "mpc-oracle")
    timings = pd.read_csv(out / "timings.csv")
    assert "time/plan_ms_per_action" in set(timings.name)
    metrics = pd.read_csv(out / "metrics.csv")
    assert "mpc/model_evals_per_action" in set(metrics.name)


def test_oracle_planner_swings_up_the_pendulum(tmp_path):
    """The perfect-model planner swings up from the first episode (random: about -1200)."""
    out = tmp_path / "oracle"
    args = ["train", "--variant", "mpc-oracle", "--env", "gym-Pendulum-v1", "--seed",
            "0", "--config", str(ROOT / "config/paper.yaml"), "--out", str(out),
            "--threads", "1", "--device", "cpu"]  # fmt: skip
    for item in ["env_steps=30", "random_steps=0", "eval_every=30", "eval_episodes=1",
                 "population=30", "horizon=15", "iterations=3", "cem_elites=5"]:  # fmt: skip
        args += ["--set", item]
    assert main(args) == 0
    assert pd.read_csv(out / "returns.csv").eval_return_mean.iloc[-1] > -400
