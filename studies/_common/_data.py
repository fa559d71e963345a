"""Real transitions for studies that fit or plan with a model outside a run (imported as
``from _data import ...`` with ``studies/_common`` on ``sys.path``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from methods.common.buffer import ReplayBuffer
from methods.common.envs import make_env

Actor = Callable[[np.ndarray, object, np.random.Generator], np.ndarray]
"""(obs, env, rng) -> action in [-1, 1]^act_dim."""


def collect(env_id: str, buf: ReplayBuffer, steps: int, act: Actor, rng, seed: int) -> list[int]:
    """Add ``steps`` transitions of ``act`` in ``env_id`` (first reset seeded with ``seed``)
    to ``buf``; returns the lengths of the episodes that ended."""
    env = make_env(env_id)
    obs, _ = env.reset(seed=seed)
    lengths, length = [], 0
    for _ in range(steps):
        action = act(obs, env, rng)
        nxt, reward, terminated, truncated, _ = env.step(action)
        buf.add(obs, action, reward, nxt, terminated)
        obs, length = nxt, length + 1
        if terminated or truncated:
            lengths.append(length)
            obs, _ = env.reset()
            length = 0
    return lengths


def random_buffer(env_id: str, n: int, seed: int, device: torch.device) -> ReplayBuffer:
    """``n`` transitions of uniformly random actions (numpy generator seeded with ``seed``)."""
    env = make_env(env_id)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    buf = ReplayBuffer(obs_dim, act_dim, n, device)

    def uniform(obs, env, rng):
        return rng.uniform(-1, 1, act_dim).astype(np.float32)

    collect(env_id, buf, n, uniform, np.random.default_rng(seed), seed)
    return buf
