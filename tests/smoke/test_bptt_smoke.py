"""BPTT variants end to end on a tiny budget, with their diagnostics."""

from pathlib import Path

import pandas as pd
import pytest

from methods.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["env_steps=120", "random_steps=60", "eval_every=120", "eval_episodes=1", "hidden=16",
        "model_hidden=16", "model_layers=2", "ensemble_size=3", "num_elites=2",
        "model_max_epochs=3", "batch_size=16", "diagnostics_every=20",
        "model_train_freq=60"]  # fmt: skip


@pytest.mark.parametrize("variant", ["bptt-h1", "bptt-h5", "bptt-h50-novalue"])
def test_bptt_variant_logs_gradient_diagnostics(tmp_path, variant):
    out = tmp_path / variant
    args = ["train", "--variant", variant, "--env", "gym-Pendulum-v1", "--seed", "0",
            "--config", str(ROOT / "config/paper.yaml"), "--out", str(out), "--threads", "1",
            "--device", "cpu"]  # fmt: skip
    for item in TINY:
        args += ["--set", item]
    assert main(args) == 0
    names = set(pd.read_csv(out / "metrics.csv").name)
    for required in ("bptt/grad_norm", "bptt/grad_snr", "bptt/log_jacobian_sigma_max",
                     "bptt/loss", "bptt/critic_loss", "model/holdout_mse"):  # fmt: skip
        assert required in names, required
    assert (out / "policy.pt").is_file() and (out / "model.pt").is_file()
