"""Return gap J_model(H) - J_real(H) where the truth is known: exact and biased toy models."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

from methods.common.ensemble import GaussianEnsemble
from methods.common.envs import get_sim_obs, make_env, never_terminates, set_sim_state
from methods.common.errors import UserError
from methods.common.model_env import ModelEnv
from methods.return_gap import (
    COLUMNS,
    SUMMARY_COLUMNS,
    StartStates,
    collect_starts,
    gap_by_horizon,
    gap_growth_exponent,
    mean_step,
    model_segments,
    numpy_policy,
    parse_horizons,
    return_gaps,
)

A = np.array([[1.03, 0.0], [0.0, 0.9]], dtype=np.float32)
B = np.array([0.0, 0.5], dtype=np.float32)
LIMIT = 3.0
HORIZONS = (1, 5, 15, 50, 60)


class ToyEnv(gym.Env):
    """s' = A s + B a in float32, reward -|s'|^2, terminated once |s'_0| > LIMIT: s_0 grows
    by 3% a step, so some starts terminate within the horizons and some do not."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = self.np_random.uniform(-1.0, 1.0, 2)
        return self._get_obs(), {}

    def _get_obs(self) -> np.ndarray:
        return np.asarray(self.state, dtype=np.float32)

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=np.float32), -1, 1)[0]
        self.state = A @ self._get_obs() + B * a
        obs = self._get_obs()
        return obs, float(-(obs**2).sum()), bool(abs(obs[0]) > LIMIT), False, {}


def toy_step(bias: float = 0.0):
    """The toy env's dynamics as a model (B, 2), (B, 1) -> (B, 2), (B,), reward + bias."""
    a_t, b_t = torch.as_tensor(A), torch.as_tensor(B)

    def step(obs, act):
        next_obs = obs @ a_t.T + b_t * act.clamp(-1, 1)
        return next_obs, -(next_obs**2).sum(-1) + bias

    return step


def toy_terminates(next_obs):
    return next_obs[..., 0].abs() > LIMIT


def toy_policy(obs):
    return torch.tanh(0.5 * obs[:, 1:2] - 0.2 * obs[:, 0:1])


def toy_starts(n=12, seed=0):
    env = ToyEnv()
    return collect_starts(env, numpy_policy(toy_policy), n, 3, seed, 2, 20)


def test_an_exact_model_has_no_gap_at_any_horizon():
    table = return_gaps(toy_step(), toy_policy, toy_terminates, ToyEnv, toy_starts(), HORIZONS)
    assert list(table.columns) == list(COLUMNS)
    assert sorted(table.H.unique()) == list(HORIZONS)
    assert len(table) == 12 * len(HORIZONS)
    scale = 1 + table.j_real.abs()
    assert (table.abs_gap / scale).max() < 1e-4
    assert (table.real_alive_steps == table.model_alive_steps).all()
    # the toy is unstable: some starts terminate before 50 steps, some later
    alive_50 = table[table.H == 50].real_alive_steps
    assert (alive_50 < 50).any() and (alive_50 == 50).any()
    assert (table.real_alive_steps <= table.H).all()


@pytest.mark.parametrize("bias", [0.25, -1.0])
def test_a_reward_bias_gives_bias_times_the_alive_steps(bias):
    table = return_gaps(toy_step(bias), toy_policy, toy_terminates, ToyEnv, toy_starts(), HORIZONS)
    expected = bias * table.model_alive_steps
    assert np.allclose(table.gap, expected, rtol=1e-4, atol=1e-3 * (1 + table.j_real.abs()))
    assert np.allclose(table.abs_gap, table.gap.abs())
    summary = gap_by_horizon(table)
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    at_1 = summary.set_index("H").loc[1]
    assert at_1.mean_gap == pytest.approx(bias, rel=1e-3) and at_1.n == 12


def test_the_model_ends_at_its_own_termination_fn():
    table = return_gaps(toy_step(), toy_policy, never_terminates, ToyEnv, toy_starts(), HORIZONS)
    assert (table.model_alive_steps == table.H).all()
    assert (table.real_alive_steps < table.H).any()


def test_start_states_are_policy_states_every_stride_and_seeded():
    env = ToyEnv()
    act = numpy_policy(toy_policy)
    a = collect_starts(env, act, 8, 3, seed=1, episodes=2, max_steps=20)
    b = collect_starts(env, act, 8, 3, seed=1, episodes=2, max_steps=20)
    c = collect_starts(env, act, 8, 3, seed=2, episodes=2, max_steps=20)
    assert a.obs.shape == (8, 2) and a.sim_states.shape == (8, 2) and a.reset_seeds.shape == (8,)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a.obs, c.obs)
    for state, obs in zip(a.sim_states, a.obs, strict=True):  # the state gives back its obs
        set_sim_state(env, state)
        assert np.array_equal(get_sim_obs(env), obs)


def test_start_collection_runs_more_episodes_until_it_has_enough():
    starts = collect_starts(ToyEnv(), numpy_policy(toy_policy), 40, 5, 0, 1, 20)
    assert len(starts.obs) == 40 and len(set(starts.reset_seeds.tolist())) >= 10


def test_mean_step_is_model_envs_mean_mode_without_guards():
    torch.manual_seed(0)
    model = GaussianEnsemble(3, 1, members=4, elites=3, hidden=16, layers=2).eval()
    model.elites.copy_(torch.tensor([3, 0, 2]))
    start = torch.randn(6, 3)
    policy = lambda obs: torch.tanh(obs[:, :1])  # noqa: E731
    ours = model_segments(mean_step(model), policy, never_terminates, start, 10)
    with torch.no_grad():
        theirs = ModelEnv(model, never_terminates).rollout(start, 10, policy, mode="mean")
    assert np.allclose(ours.reward, theirs.reward.numpy(), atol=1e-6)
    assert ours.valid.all()


def test_no_guard_cuts_a_diverging_model():
    def doubling(obs, act):
        return 2 * obs, obs.sum(-1)

    def explodes(obs, act):
        return torch.where(obs.abs() > 4, torch.full_like(obs, float("inf")), 2 * obs), obs[:, 0]

    start = torch.ones(3, 1)
    seg = model_segments(doubling, toy_policy, never_terminates, start, 40)
    assert seg.valid.all() and seg.reward[-1, 0] == 2.0**39  # far out of range, not cut
    seg = model_segments(explodes, toy_policy, never_terminates, start, 6)
    assert seg.valid.all() and not np.isfinite(seg.reward[-1]).any()


def test_a_non_finite_model_return_is_kept_and_counted():
    table = pd.DataFrame({
        "start": [0, 1, 0, 1], "H": [1, 1, 5, 5], "j_model": [1.0, 2.0, np.nan, 6.0],
        "j_real": [0.0, 0.0, 1.0, 1.0], "gap": [1.0, 2.0, np.nan, 5.0],
        "abs_gap": [1.0, 2.0, np.nan, 5.0], "real_alive_steps": [1, 1, 5, 2],
        "model_alive_steps": [1, 1, 5, 5],
    })  # fmt: skip
    summary = gap_by_horizon(table).set_index("H")
    assert summary.loc[5].n == 1 and summary.loc[5].n_nonfinite == 1
    assert summary.loc[5].mean_gap == 5.0
    assert summary.loc[5].real_alive_fraction == pytest.approx(0.7)
    assert summary.loc[1].mean_abs_gap == 1.5 and summary.loc[1].median_gap == 1.5


def test_gap_growth_exponent():
    h = np.array([1, 5, 15, 50])
    summary = pd.DataFrame({"H": h, "mean_abs_gap": 0.3 * h**2.0})
    assert gap_growth_exponent(summary) == pytest.approx(2.0)
    summary = pd.DataFrame({"H": h, "mean_abs_gap": [0.0, 0.0, 0.0, 1.0]})
    assert np.isnan(gap_growth_exponent(summary))


def test_parse_horizons():
    assert parse_horizons("50,1,episode,5,15", 200) == (1, 5, 15, 50, 200)
    assert parse_horizons("5,5", 200) == (5,)
    for bad in ("0", "abc", "1,,5", "201"):
        with pytest.raises(UserError, match="--horizons"):
            parse_horizons(bad, 200)


PENDULUM_DT, PENDULUM_G = 0.05, 10.0


def pendulum_step(obs, act):
    """Gymnasium's Pendulum-v1 on observations, as a model (actions rescaled to [-2, 2])."""
    obs = obs.double()
    th, thdot = torch.atan2(obs[:, 1], obs[:, 0]), obs[:, 2]
    u = 2.0 * act[:, 0].double().clamp(-1, 1)
    cost = ((th + torch.pi) % (2 * torch.pi) - torch.pi) ** 2 + 0.1 * thdot**2 + 0.001 * u**2
    thdot = (thdot + (1.5 * PENDULUM_G * torch.sin(th) + 3.0 * u) * PENDULUM_DT).clamp(-8, 8)
    th = th + thdot * PENDULUM_DT
    return torch.stack([th.cos(), th.sin(), thdot], -1).float(), (-cost).float()


def test_pendulum_oracle_model_matches_the_real_env_through_sim_states():
    """The real path: make_env, reset seeds, get/set_sim_state on a gymnasium env."""
    torch.manual_seed(0)
    policy = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Tanh())
    env = make_env("gym-Pendulum-v1")
    with torch.no_grad():
        starts = collect_starts(env, numpy_policy(policy), 10, 10, 0, 2, 200)
        table = return_gaps(pendulum_step, policy, never_terminates,
                            lambda: make_env("gym-Pendulum-v1"), starts, (1, 15, 200))  # fmt: skip
    assert (table.abs_gap <= 1e-5 * (1 + table.j_real.abs())).all()  # ~1e-8 measured
    assert isinstance(starts, StartStates)
