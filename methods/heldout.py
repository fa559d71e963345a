"""Held-out real trajectories for model-error curves.

    python -m methods heldout --env E --seed S --out results/heldout/E/random.npz \
        [--policy-run RUN_DIR] [--episodes 20] [--max-steps 200]

Episodes come from a uniformly random policy, or from a trained SAC-family policy
(deterministic actions) with ``--policy-run``. Seeds are disjoint from training runs (the
reset seeds start at 10**6 + seed * 1000). Output (npz): ``obs`` (N, T+1, obs_dim),
``act`` (N, T, act_dim), ``reward`` (N, T), ``valid`` (N, T) (False after the episode
ended), written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from methods.common.checkpoints import load_run_actor
from methods.common.envs import make_env
from methods.common.run_io import atomic_write_bytes

HELDOUT_SEED_OFFSET = 10**6


def load_policy(run_dir: Path, obs_dim: int, act_dim: int):
    """Deterministic actions of a finished SAC/MBPO/Dyna run's actor."""
    actor = load_run_actor(run_dir, obs_dim, act_dim)

    @torch.no_grad()
    def act(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return actor.deterministic(torch.as_tensor(obs).unsqueeze(0))[0].numpy()

    return act


def collect(env_id: str, seed: int, episodes: int, max_steps: int, policy=None) -> dict:
    env = make_env(env_id)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    rng = np.random.default_rng(HELDOUT_SEED_OFFSET + seed)
    if policy is None:

        def policy(obs, rng):  # noqa: E306
            return rng.uniform(-1.0, 1.0, act_dim).astype(np.float32)

    data = {
        "obs": np.zeros((episodes, max_steps + 1, obs_dim), np.float32),
        "act": np.zeros((episodes, max_steps, act_dim), np.float32),
        "reward": np.zeros((episodes, max_steps), np.float32),
        "valid": np.zeros((episodes, max_steps), bool),
    }
    for ep in range(episodes):
        obs, _ = env.reset(seed=HELDOUT_SEED_OFFSET + seed * 1000 + ep)
        data["obs"][ep, 0] = obs
        for t in range(max_steps):
            action = policy(obs, rng)
            obs, reward, terminated, truncated, _ = env.step(action)
            data["act"][ep, t], data["reward"][ep, t] = action, reward
            data["obs"][ep, t + 1], data["valid"][ep, t] = obs, True
            if terminated or truncated:
                break
    return data


def save_npz(path: Path, data: dict) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **data)
    atomic_write_bytes(Path(path), buffer.getvalue())
