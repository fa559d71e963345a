"""A diverging run stops at the step where NaN appears, names it, and keeps its partial logs."""

import warnings
from pathlib import Path

from methods.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_nan_stops_the_run_with_a_named_message(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--variant", "sac", "--env", "gym-Pendulum-v1", "--seed", "0", "--config",
            str(ROOT / "config/config.yaml"), "--out", str(out), "--threads", "1"]  # fmt: skip
    for item in ("env_steps=300", "random_steps=100", "eval_every=150", "eval_episodes=1",
                 "hidden=16", "lr_critic=1e30", "lr_actor=1e30"):  # fmt: skip
        args += ["--set", item]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(args) == 2
    err = capsys.readouterr().err
    assert "non-finite sac/critic_loss" in err and "variant=sac" in err and "seed=0" in err
    assert "env_step=150" in err
    assert (out / "returns.csv").exists() and (out / "metrics.csv").exists()
    assert not (out / "meta.json").exists()  # not marked finished
