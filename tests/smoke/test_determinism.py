"""Same variant, env, seed and threads on CPU -> byte-identical returns.csv and metrics.csv,
for every method family; another seed -> different outputs."""

from pathlib import Path

import pytest

from methods.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
RUN = ["env_steps=160", "random_steps=60", "eval_every=80", "eval_episodes=1"]
MODEL = ["model_hidden=16", "model_layers=2", "ensemble_size=3", "num_elites=2",
         "model_max_epochs=3", "model_train_freq=50"]  # fmt: skip
LEARNER = ["hidden=16", "batch_size=16", "updates_per_step=2"]
ROLLOUTS = ["rollout_batch_size=40", "rollout_transitions=0", "rollout_freq=25"]
TINY = {
    "sac": RUN + LEARNER,
    "mbpo-k5": RUN + LEARNER + MODEL + ROLLOUTS,
    "dyna-h50": RUN + LEARNER + MODEL + ROLLOUTS,
    "mpc-cem": RUN
    + MODEL
    + ["population=10", "cem_elites=3", "particles=2", "iterations=2", "horizon=4"],  # fmt: skip
    "bptt-h5": RUN + LEARNER + MODEL + ["diagnostics_every=20"],
}


def train(variant: str, out: Path, seed: int) -> None:
    args = ["train", "--variant", variant, "--env", "gym-Pendulum-v1", "--seed", str(seed),
            "--config", str(ROOT / "config/paper.yaml"), "--out", str(out), "--threads", "1",
            "--device", "cpu"]  # fmt: skip
    for item in TINY[variant]:
        args += ["--set", item]
    assert main(args) == 0


@pytest.mark.parametrize("variant", list(TINY))
def test_rerun_is_byte_identical(tmp_path, variant):
    for run, seed in (("a", 0), ("b", 0), ("c", 1)):
        train(variant, tmp_path / run, seed)
    for name in ("returns.csv", "metrics.csv"):
        a, b, c = ((tmp_path / run / name).read_bytes() for run in "abc")
        assert a == b, f"{variant}: {name} differs between identical runs"
        assert a != c, f"{variant}: {name} does not depend on the seed"
