"""Dyna with long rollouts: the model as a simulator from the start-state distribution.

Identical to MBPO (same model, training schedule and SAC) except where rollouts start
(real reset states instead of replay states) and how long they are (H = 50, 200 or the
full episode). The synthetic budget per rollout round is held at ``rollout_transitions``,
so longer rollouts start fewer trajectories. SAC trains on model data only by default
(``real_ratio`` 0): any gap between the model's predicted return and the real one is
exploited model error.
"""

from __future__ import annotations

from dataclasses import dataclass

from methods.mbpo import Config as MBPOConfig
from methods.mbpo import train  # noqa: F401  (the same loop and agent)


@dataclass
class Config(MBPOConfig):
    """Dyna settings: MBPO's, with long rollouts from reset states."""

    rollout_start: str = "reset"
    rollout_length: int = 200  # H
    rollout_transitions: int = 100_000  # synthetic transitions per rollout round
    real_ratio: float = 0.0
