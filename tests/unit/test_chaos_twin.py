"""The chaos diagnostic's perturbed twin acts on its own observation (closed loop).

BPTT differentiates the closed loop, the policy acting on the state it produced, so the
true-simulator twins must be driven the same way. On the scalar linear system
x' = a x + b u with the linear policy u = -k x the gap between twins is exact:
closed loop it scales by |a - b k| per step, open loop (twin fed the unperturbed twin's
action) by |a|.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import methods.chaos as chaos
from methods.chaos import growth_rate, true_divergence
from methods.common.envs import get_sim_obs

A, B, K = 1.1, 1.0, 0.5  # open loop |a| = 1.1 grows, closed loop |a - b k| = 0.6 shrinks
LENGTH = 12  # steps before the linear env truncates


class LinearEnv(gym.Env):
    """x' = a x + b u on a scalar state; observation = state (1,) float64; truncates after
    ``LENGTH`` steps. Its ``state`` attribute is what get/set_sim_state copy (as Pendulum)."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float64)
    action_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float64)

    def __init__(self) -> None:
        self.state = np.zeros(1)
        self.t = 0

    def _get_obs(self) -> np.ndarray:
        return self.state.copy()

    def reset(self, *, seed: int | None = None, options=None):
        super().reset(seed=seed)
        self.state, self.t = np.array([1.0 + (seed or 0)]), 0
        return self._get_obs(), {}

    def step(self, action):
        self.state = A * self.state + B * np.asarray(action, dtype=np.float64)
        self.t += 1
        return self._get_obs(), 0.0, False, self.t >= LENGTH, {}


def linear_policy(obs: np.ndarray, *_: object) -> np.ndarray:
    """u = -k x, (1,) -> (1,); ignores an rng (the pre-fix code passed one)."""
    return -K * obs


def test_twins_act_on_their_own_observation():
    env_a, env_b = LinearEnv(), LinearEnv()
    obs_a, _ = env_a.reset(seed=0)
    env_b.reset(seed=0)
    env_b.state = env_b.state + 1e-6
    logs = chaos.twin_log_distances(env_a, env_b, obs_a, env_b._get_obs(), linear_policy, 20)
    t = np.arange(1, LENGTH + 1)
    np.testing.assert_allclose(logs[:LENGTH], math.log(1e-6) + t * math.log(abs(A - B * K)),
                               atol=1e-6)  # fmt: skip
    assert np.isnan(logs[LENGTH:]).all()  # nothing after the episode ends


def test_true_divergence_is_closed_loop(monkeypatch):
    """Regression (issue 35, defect 5): the twin used to be stepped with the action computed
    from the unperturbed state, which gives growth log|a| = +0.095 here, not log 0.6."""
    monkeypatch.setattr(chaos, "make_env", lambda env_id: LinearEnv())
    logs = true_divergence("linear", linear_policy, n_starts=3, steps=LENGTH, seed=0)
    t = np.arange(1, LENGTH + 1)
    closed = math.log(1e-6) + t * math.log(abs(A - B * K))
    np.testing.assert_allclose(logs, np.broadcast_to(closed, logs.shape), atol=1e-6)
    assert growth_rate(np.nanmedian(logs, 0)) == pytest.approx(math.log(abs(A - B * K)))


@pytest.mark.parametrize("env_id", ["gym-Pendulum-v1", "gym-Hopper-v5", "dmc-cartpole-swingup"])
def test_sim_obs_matches_the_env_observation(env_id):
    """The observation of a state set by set_sim_state is the one the env itself returns."""
    env = chaos.make_env(env_id)
    obs, _ = env.reset(seed=0)
    chaos.set_sim_state(env, chaos.get_sim_state(env))
    np.testing.assert_array_equal(get_sim_obs(env), obs)
    obs = env.step(np.full(env.action_space.shape, 0.3, np.float32))[0]
    np.testing.assert_array_equal(get_sim_obs(env), obs)
    assert get_sim_obs(env).dtype == obs.dtype
