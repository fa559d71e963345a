"""A finished run's model and actor load back; held-out, model-error and chaos use them."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.model_error import main as model_error_main
from methods.__main__ import main
from methods.common.checkpoints import load_run_actor, load_run_model
from methods.common.envs import get_sim_state, make_env, set_sim_state
from methods.common.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mbpo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "run"
    args = [
        "train",
        "--variant",
        "mbpo-k5",
        "--env",
        "gym-Pendulum-v1",
        "--seed",
        "0",
        "--config",
        str(ROOT / "config/paper.yaml"),
        "--out",
        str(out),
        "--threads",
        "1",
    ]
    for item in (
        "env_steps=200",
        "random_steps=100",
        "eval_every=200",
        "eval_episodes=1",
        "hidden=16",
        "model_hidden=16",
        "model_layers=2",
        "ensemble_size=3",
        "num_elites=2",
        "model_max_epochs=3",
        "model_train_freq=100",
        "rollout_batch_size=50",
        "rollout_transitions=0",
        "updates_per_step=1",
    ):
        args += ["--set", item]
    assert main(args) == 0
    return out


def test_model_and_actor_load_and_act(mbpo_run, tmp_path):
    model = load_run_model(mbpo_run, 3, 1)
    assert model.members == 3 and model.num_elites == 2
    actor = load_run_actor(mbpo_run, 3, 1)
    assert actor.deterministic(torch.zeros(1, 3)).shape == (1, 1)
    (tmp_path / "model.pt").write_bytes((mbpo_run / "model.pt").read_bytes()[:100])
    (tmp_path / "config.yaml").write_text((mbpo_run / "config.yaml").read_text())
    with pytest.raises(UserError, match="cannot load model.pt"):
        load_run_model(tmp_path, 3, 1)


def test_heldout_model_error_and_chaos_from_a_run(mbpo_run, tmp_path):
    npz = tmp_path / "held.npz"
    assert (
        main(
            [
                "heldout",
                "--env",
                "gym-Pendulum-v1",
                "--seed",
                "0",
                "--out",
                str(npz),
                "--episodes",
                "2",
                "--max-steps",
                "20",
                "--policy-run",
                str(mbpo_run),
            ]
        )
        == 0
    )
    random_npz = tmp_path / "random.npz"
    assert main(["heldout", "--env", "gym-Pendulum-v1", "--seed", "1", "--out", str(random_npz),
                 "--episodes", "2", "--max-steps", "20"]) == 0  # fmt: skip
    out = tmp_path / "err.csv"
    assert (
        model_error_main(
            [
                "--run",
                str(mbpo_run),
                "--heldout",
                str(npz),
                "--heldout",
                str(random_npz),
                "--out",
                str(out),
                "--horizon",
                "5",
                "--stride",
                "5",
            ]
        )
        == 0
    )
    errors = pd.read_csv(out)
    assert set(errors["mode"]) == {"mean", "random-member", "TSinf"}
    assert set(errors["data"]) == {"held", "random"}  # one curve set per held-out file
    assert errors.groupby("data").size().nunique() == 1
    assert (
        main(
            [
                "chaos",
                "--env",
                "gym-Pendulum-v1",
                "--seed",
                "0",
                "--out",
                str(tmp_path / "chaos"),
                "--run",
                str(mbpo_run),
                "--starts",
                "2",
                "--steps",
                "10",
                "--horizons",
                "1,2,5",
            ]
        )
        == 0
    )
    grads = pd.read_csv(tmp_path / "chaos/gradient_norm.csv")
    assert grads.horizon.tolist() == [1, 2, 5]


@pytest.mark.parametrize("env_id", ["gym-Pendulum-v1", "gym-Hopper-v5", "dmc-cartpole-swingup"])
def test_sim_state_round_trip(env_id):
    env = make_env(env_id)
    env.reset(seed=0)
    state = get_sim_state(env)
    first = env.step(np.zeros(env.action_space.shape, np.float32))[0]
    set_sim_state(env, state)
    again = env.step(np.zeros(env.action_space.shape, np.float32))[0]
    np.testing.assert_allclose(first, again)
