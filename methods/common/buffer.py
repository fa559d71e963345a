"""Replay buffer in preallocated device tensors with seeded sampling."""

from __future__ import annotations

from typing import NamedTuple

import torch


class Batch(NamedTuple):
    """Transitions; leading dims ``(..., B)`` shared by all fields."""

    obs: torch.Tensor  # (..., B, obs_dim)
    act: torch.Tensor  # (..., B, act_dim)
    reward: torch.Tensor  # (..., B)
    next_obs: torch.Tensor  # (..., B, obs_dim)
    terminated: torch.Tensor  # (..., B) float, 1.0 = true terminal (no bootstrap)


class ReplayBuffer:
    """A ring buffer of transitions; the oldest are overwritten once ``capacity`` is reached."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        capacity: int,
        device: torch.device | str = "cpu",
        generator: torch.Generator | None = None,
    ):
        self.capacity = int(capacity)
        self.device = torch.device(device)
        self.generator = generator
        self.obs = torch.zeros(self.capacity, obs_dim, device=self.device)
        self.act = torch.zeros(self.capacity, act_dim, device=self.device)
        self.reward = torch.zeros(self.capacity, device=self.device)
        self.next_obs = torch.zeros(self.capacity, obs_dim, device=self.device)
        self.terminated = torch.zeros(self.capacity, device=self.device)
        self.ptr = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs, act, reward, next_obs, terminated) -> None:
        """Add one transition (array-likes of shape ``(obs_dim,)`` etc.)."""
        self.add_batch(
            torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1),
            torch.as_tensor(act, dtype=torch.float32).reshape(1, -1),
            torch.as_tensor([float(reward)]),
            torch.as_tensor(next_obs, dtype=torch.float32).reshape(1, -1),
            torch.as_tensor([float(terminated)]),
        )

    def add_batch(self, obs, act, reward, next_obs, terminated) -> None:
        """Add N transitions ``(N, obs_dim)``, ``(N, act_dim)``, ``(N,)``, ... with wraparound."""
        n = obs.shape[0]
        if n == 0:
            return
        if n > self.capacity:  # only the newest `capacity` survive anyway
            obs, act, reward, next_obs, terminated = (
                x[-self.capacity :] for x in (obs, act, reward, next_obs, terminated)
            )
            n = self.capacity
        idx = (self.ptr + torch.arange(n, device=self.device)) % self.capacity
        for store, value in (
            (self.obs, obs),
            (self.act, act),
            (self.reward, reward),
            (self.next_obs, next_obs),
            (self.terminated, terminated),
        ):
            store[idx] = value.to(self.device, torch.float32)
        self.ptr = (self.ptr + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample_indices(self, *shape: int) -> torch.Tensor:
        """Uniform indices of the given shape (with replacement)."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        return torch.randint(0, self.size, shape, device=self.device, generator=self.generator)

    def gather(self, idx: torch.Tensor) -> Batch:
        return Batch(
            self.obs[idx], self.act[idx], self.reward[idx], self.next_obs[idx],
            self.terminated[idx],
        )  # fmt: skip

    def sample(self, *shape: int) -> Batch:
        """A batch with leading dims ``shape``, e.g. ``sample(G, B)`` for G updates at once."""
        return self.gather(self.sample_indices(*shape))

    def all(self) -> Batch:
        """Every stored transition, oldest first once the ring has wrapped."""
        if self.size < self.capacity:
            idx = torch.arange(self.size, device=self.device)
        else:
            idx = (self.ptr + torch.arange(self.capacity, device=self.device)) % self.capacity
        return self.gather(idx)

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("obs", "act", "reward", "next_obs", "terminated",
                                              "ptr", "size")}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value.to(self.device) if torch.is_tensor(value) else value)
