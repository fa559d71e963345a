"""The oracle planner's true-simulator scorers agree with the envs they copy."""

import numpy as np
import pytest
import torch

from methods.common.envs import make_env
from methods.common.oracle import ROLLOUT_TASKS, MujocoRollouts, SimulatorCopy


def _env_after_steps(env_id: str, steps: int, seed: int, scale: float = 0.3):
    env = make_env(env_id)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        env.step(rng.uniform(-scale, scale, env.action_space.shape).astype(np.float32))
    return env


def test_dm_control_copy_scores_identical_candidates_identically():
    """dm_control's own step starts a new episode (a random state) after its time limit:
    40 candidates x 30 steps x 4 repeats run past it, yet all score the same, and the score is
    what the real env earns with that sequence from that state."""
    env_id = "dmc-cartpole-swingup"
    copy = SimulatorCopy(env_id)
    copy.sync(_env_after_steps(env_id, 7, seed=1))
    sequence = torch.rand(1, 30, 1, generator=torch.Generator().manual_seed(0)) * 2 - 1
    scores = copy.returns(sequence.repeat(40, 1, 1))
    assert torch.all(scores == scores[0])
    real = _env_after_steps(env_id, 7, seed=1)
    earned = sum(real.step(a)[1] for a in sequence[0].numpy())
    assert scores[0].item() == pytest.approx(earned, rel=1e-5)


@pytest.mark.parametrize("env_id", sorted(ROLLOUT_TASKS))
def test_batched_rollouts_return_what_the_copy_returns(env_id):
    """MuJoCo's C rollout with the reward computed from the states gives the copy's returns
    (full pushes one way, nearly still, random)."""
    gen = torch.Generator().manual_seed(3)
    batched, copy = MujocoRollouts(env_id), SimulatorCopy(env_id)
    horizon = 10
    for start in range(3):
        real = _env_after_steps(env_id, 1 + 2 * start, seed=start, scale=0.05)
        batched.sync(real)
        copy.sync(real)
        act_dim = real.action_space.shape[0]
        candidates = torch.rand(24, horizon, act_dim, generator=gen) * 2 - 1
        candidates[:8] = torch.sign(candidates[:8, :1])  # full pushes one way
        candidates[8:16] *= 0.02  # nearly still
        expected = copy.returns(candidates)
        got = batched.returns(candidates)
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
