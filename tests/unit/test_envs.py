import numpy as np
import pytest
import torch

from methods.common import envs
from methods.common.errors import UserError


def test_unknown_env_lists_known_ids():
    with pytest.raises(UserError) as err:
        envs.get_spec("gym-Hoper-v5")
    assert "gym-Hoper-v5" in str(err.value) and "gym-Hopper-v5" in str(err.value)


@pytest.mark.parametrize("env_id", envs.known_env_ids())
def test_every_env_builds_with_unit_actions(env_id):
    env = envs.make_env(env_id)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == env.observation_space.shape
    assert (env.action_space.low == -1).all() and (env.action_space.high == 1).all()
    obs2, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    assert np.isfinite(reward) and obs2.shape == obs.shape
    spec = envs.get_spec(env_id)
    assert not spec.termination_fn(torch.as_tensor(obs)[None]).any()  # start states are healthy
    env.close()


def test_same_reset_seed_same_start_state():
    for env_id in ("gym-Hopper-v5", "dmc-cartpole-swingup"):
        a = envs.make_env(env_id).reset(seed=3)[0]
        b = envs.make_env(env_id).reset(seed=3)[0]
        c = envs.make_env(env_id).reset(seed=4)[0]
        assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_health_checks():
    hopper = torch.tensor([[1.25, 0.0] + [0.0] * 9, [0.5, 0.0] + [0.0] * 9,
                           [1.25, 0.3] + [0.0] * 9, [1.25, 0.0] + [float("nan")] * 9])  # fmt: skip
    assert envs.hopper_terminates(hopper).tolist() == [False, True, True, True]
    walker = torch.tensor([[1.2, 0.0] + [0.0] * 15, [2.1, 0.0] + [0.0] * 15,
                           [1.2, -1.1] + [0.0] * 15])  # fmt: skip
    assert envs.walker2d_terminates(walker).tolist() == [False, True, True]
    ant = torch.tensor([[0.5] + [0.0] * 26, [1.1] + [0.0] * 26, [0.1] + [0.0] * 26])
    assert envs.ant_terminates(ant).tolist() == [False, True, True]
    pend = torch.tensor([[0.0, 0.1, 0.0, 0.0], [0.0, -0.25, 0.0, 0.0]])
    assert envs.inverted_pendulum_terminates(pend).tolist() == [False, True]
    assert not envs.never_terminates(torch.full((4, 3), 1e9)).any()


def test_mbpo_schedules_match_the_paper():
    schedules = {k: v.rollout_schedule for k, v in envs.REGISTRY.items()}
    assert schedules["gym-Hopper-v5"] == (20, 150, 1, 15)
    assert schedules["gym-HalfCheetah-v5"] == schedules["gym-Walker2d-v5"] == (20, 150, 1, 1)
    assert schedules["gym-Ant-v5"] == (20, 100, 1, 25)
    assert schedules["gym-InvertedPendulum-v5"] == (1, 15, 1, 1)
