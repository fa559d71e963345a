"""SAC: the model-free end of the spectrum (k = 0).

Soft actor-critic (Haarnoja et al. 2018) with twin critics, target networks and automatic
temperature, ``updates_per_step`` gradient steps after every real environment step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from methods.common.buffer import ReplayBuffer
from methods.common.envs import EnvSpec
from methods.common.errors import UserError, require_positive
from methods.common.sac_agent import SACAgent, SACParams
from methods.common.training import RunContext, RunSettings, run_loop


@dataclass
class Config(RunSettings, SACParams):
    """SAC settings: run budget (RunSettings) + learner (SACParams) + these."""

    batch_size: int = 256  # transitions per gradient step
    updates_per_step: int = 1  # gradient steps per env step (update-to-data ratio)

    def validate(self, spec: EnvSpec) -> None:
        RunSettings.validate(self, spec)
        require_positive(self, "batch_size", "updates_per_step", "hidden", "layers")
        if self.sac_precision not in ("fp32", "bf16"):
            raise UserError(f"'sac_precision' must be fp32 or bf16, got {self.sac_precision!r}")


class PolicyAgent:
    """Acts with a SAC actor; subclasses add what they train besides the learner."""

    def __init__(self, ctx: RunContext, cfg: Config, obs_dim: int, act_dim: int):
        self.ctx, self.cfg = ctx, cfg
        self.device = ctx.device
        self.sac = SACAgent(obs_dim, act_dim, cfg, ctx.device, ctx.seeds.torch_gen["policy"])
        self.timings: dict[str, float] = {}

    def _tensor(self, obs: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(obs, dtype=torch.float32, device=self.device).unsqueeze(0)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.sac.act(self._tensor(obs))[0].cpu().numpy()

    def eval_act(self, obs: np.ndarray) -> np.ndarray:
        return self.sac.act(self._tensor(obs), deterministic=True)[0].cpu().numpy()

    def on_reset(self, obs: np.ndarray) -> None:
        pass

    def timed(self, phase: str, start: float) -> None:
        key = f"time/{phase}_s"
        self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - start

    def update_policy(self, buffer: ReplayBuffer, n_updates: int) -> None:
        start = time.perf_counter()
        batches = buffer.sample(n_updates, self.cfg.batch_size)
        for i in range(n_updates):
            self.sac.update(type(batches)(*(x[i] for x in batches)))
        self.timed("policy_update", start)

    def after_step(self, step: int, buffer: ReplayBuffer) -> None:
        if step >= max(self.cfg.random_steps, 1):
            self.update_policy(buffer, self.cfg.updates_per_step)

    def pop_metrics(self) -> tuple[dict[str, float], dict[str, float]]:
        timings, self.timings = self.timings, {}
        return self.sac.pop_stats(), timings

    def checkpoints(self) -> dict[str, object]:
        return {"policy.pt": self.sac.state_dict()}

    def predicted_return(self, start_obs: np.ndarray) -> float | None:
        return None


def train(cfg: Config, ctx: RunContext) -> None:
    """Train SAC for ``cfg.env_steps`` real steps."""
    run_loop(ctx, cfg, PolicyAgent(ctx, cfg, ctx.obs_dim, ctx.act_dim))
