"""MBPO and Dyna variants end to end on a tiny budget, writing the whole run contract."""

from pathlib import Path

import pandas as pd
import pytest

from methods.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["env_steps=300", "random_steps=100", "eval_every=150", "eval_episodes=1", "hidden=32",
        "model_hidden=32", "model_layers=2", "ensemble_size=3", "num_elites=2",
        "rollout_batch_size=200", "rollout_transitions=0", "updates_per_step=2",
        "model_train_freq=100", "rollout_freq=50", "model_max_epochs=5"]  # fmt: skip


def train(variant: str, out: Path, env: str = "gym-InvertedPendulum-v5", seed: int = 0) -> int:
    args = ["train", "--variant", variant, "--env", env, "--seed", str(seed), "--config",
            str(ROOT / "config/paper.yaml"), "--out", str(out), "--threads", "1",
            "--device", "cpu"]  # fmt: skip
    for item in TINY:
        args += ["--set", item]
    if variant.startswith("dyna"):
        args += ["--set", "rollout_batch_size=20"]
    return main(args)


@pytest.mark.parametrize(
    "variant",
    [
        "mbpo-k1",
        "mbpo-k5",
        "mbpo-k15",
        "mbpo-sched",
        "dyna-h50",
        "dyna-h200",
        "dyna-full",
    ],  # fmt: skip
)
def test_variant_writes_the_run_contract(tmp_path, variant):
    out = tmp_path / variant
    assert train(variant, out) == 0
    for name in ("config.yaml", "meta.json", "returns.csv", "metrics.csv", "timings.csv",
                 "policy.pt", "model.pt"):  # fmt: skip
        assert (out / name).is_file(), name
    metrics = pd.read_csv(out / "metrics.csv")
    names = set(metrics.name)
    for required in ("model/holdout_mse", "model/holdout_nll", "model/predicted_return",
                     "model/return_gap", "rollout/disagreement_step0001", "sac/alpha",
                     "sac/critic_loss"):  # fmt: skip
        assert required in names, required
    timings = set(pd.read_csv(out / "timings.csv").name)
    assert {"time/model_train_s", "time/rollout_s", "time/policy_update_s"} <= timings


def test_mbpo_on_dm_control(tmp_path):
    assert train("mbpo-k5", tmp_path / "dmc", env="dmc-cartpole-swingup") == 0


def test_mbpo_is_deterministic(tmp_path):
    for run in ("a", "b"):
        assert train("mbpo-k5", tmp_path / run, env="gym-Hopper-v5") == 0
    for name in ("returns.csv", "metrics.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
