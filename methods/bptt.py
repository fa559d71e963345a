"""BPTT: policy gradients back-propagated through the learned model over a horizon H.

Each update samples start states from the real buffer and unrolls the deterministic policy H
steps through the ensemble (reparameterised Gaussian transitions, one elite per trajectory,
TSinf). The loss is the negative discounted sum of learned rewards, plus, with
``use_value``, gamma^H * Q(s_H, pi(s_H)) from twin critics trained by TD on real data (the
MAAC / SVG(H) idea). Diagnostics per update: policy-gradient norm, the gradient's
signal-to-noise ratio across start-state groups, and log of the largest singular value of
the product of closed-loop model Jacobians ds_{t+1}/ds_t over the horizon.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from methods.common.buffer import Batch, ReplayBuffer
from methods.common.dynamics import ModelSettings, ModelTrainer, build_model
from methods.common.envs import EnvSpec
from methods.common.errors import UserError, require_positive
from methods.common.model_env import ModelEnv
from methods.common.optim import adam
from methods.common.sac_agent import TwinCritic
from methods.common.training import RunContext, RunSettings, check_finite, run_loop


@dataclass
class Config(RunSettings, ModelSettings):
    """BPTT settings: run budget + model + the analytic policy gradient below."""

    horizon: int = 5  # H
    use_value: bool = True  # bootstrap with gamma^H * Q(s_H, pi(s_H))
    gamma: float = 0.99
    hidden: int = 256
    layers: int = 2
    lr_actor: float = 3e-4
    lr_critic: float = 3e-4
    tau: float = 0.005
    batch_size: int = 256  # start states per policy update (and critic batch)
    updates_per_step: int = 1
    exploration_std: float = 0.2  # Gaussian action noise in the real env
    grad_clip: float | None = None  # max policy-gradient norm; None = off (diagnostics)
    diagnostics_every: int = 25  # updates between SNR / Jacobian diagnostics
    snr_groups: int = 8  # start-state groups for the gradient signal-to-noise ratio
    jacobian_states: int = 4  # start states for the Jacobian-product diagnostic

    def validate(self, spec: EnvSpec) -> None:
        RunSettings.validate(self, spec)
        self.validate_model()
        if not 1 <= self.horizon <= spec.episode_length:
            raise UserError(
                f"'horizon' must be in [1, episode length {spec.episode_length}], "
                f"got {self.horizon}"
            )
        require_positive(self, "batch_size", "updates_per_step", "diagnostics_every", "snr_groups")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise UserError(f"'grad_clip' must be positive or null, got {self.grad_clip}")


class DeterministicPolicy(nn.Module):
    """obs (B, obs_dim) -> tanh action (B, act_dim)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int, layers: int):
        super().__init__()
        dims = [obs_dim] + [hidden] * layers
        mods: list[nn.Module] = []
        for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
            mods += [nn.Linear(d_in, d_out), nn.ELU()]
        self.net = nn.Sequential(*mods, nn.Linear(hidden, act_dim))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(obs))


def model_return(
    model_env: ModelEnv,
    policy: nn.Module,
    starts: torch.Tensor,
    horizon: int,
    gamma: float,
    critic: TwinCritic | None = None,
) -> torch.Tensor:
    """Differentiable H-step return per start state (B,): discounted learned rewards (masked
    after termination) plus gamma^H * min-Q at the last state when a critic is given."""
    ro = model_env.rollout(starts, horizon, policy=policy, mode="TSinf", sample=True)
    discounts = gamma ** torch.arange(horizon, device=starts.device, dtype=starts.dtype)
    value = (ro.reward * ro.valid * discounts[:, None]).sum(0)
    if critic is not None:
        last = ro.next_obs[-1]
        alive = ro.valid[-1] & ~ro.done[-1]
        value = value + gamma**horizon * alive * critic(last, policy(last)).min(0).values
    return value


def flat_grad(loss: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    grads = torch.autograd.grad(loss, params, retain_graph=False, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                      for g, p in zip(grads, params, strict=True)])  # fmt: skip


def log_max_singular_value_of_jacobian_product(
    model_env: ModelEnv, policy: nn.Module, start: torch.Tensor, horizon: int
) -> float:
    """log sigma_max of prod_t d s_{t+1} / d s_t along the mean-model closed loop from
    ``start`` (obs_dim,). Accumulated with QR re-normalisation so it cannot overflow."""

    def step(s: torch.Tensor) -> torch.Tensor:
        res = model_env.step(s.unsqueeze(0), policy(s.unsqueeze(0)), mode="mean", sample=False)
        return res.next_obs[0]

    state = start.detach()
    q_basis = torch.eye(start.shape[0], dtype=torch.float64, device=start.device)
    log_scale = 0.0
    product = q_basis
    for _ in range(horizon):
        jac = torch.autograd.functional.jacobian(step, state).double()
        product = jac @ product
        norm = torch.linalg.matrix_norm(product, ord=2)
        if not torch.isfinite(norm) or norm == 0:
            return float("nan") if not torch.isfinite(norm) else float("-inf")
        log_scale += math.log(float(norm))
        product = product / norm
        with torch.no_grad():
            state = step(state)
    return log_scale


class BPTTAgent:
    """Deterministic policy trained by back-propagation through the learned model."""

    def __init__(self, ctx: RunContext, cfg: Config):
        self.ctx, self.cfg, self.device = ctx, cfg, ctx.device
        self.policy = DeterministicPolicy(ctx.obs_dim, ctx.act_dim, cfg.hidden, cfg.layers).to(
            ctx.device
        )
        self.policy_opt = adam(self.policy.parameters(), cfg.lr_actor)
        self.critic = TwinCritic(ctx.obs_dim, ctx.act_dim, cfg.hidden, cfg.layers).to(ctx.device)
        self.critic_target = TwinCritic(ctx.obs_dim, ctx.act_dim, cfg.hidden, cfg.layers).to(
            ctx.device
        )
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)
        self.critic_opt = adam(self.critic.parameters(), cfg.lr_critic)
        self.model = build_model(cfg, ctx.obs_dim, ctx.act_dim, ctx.device)
        self.trainer = ModelTrainer(self.model, cfg, ctx.seeds.torch_gen["model"])
        self.model_env = ModelEnv(self.model, ctx.spec.termination_fn,
                                  ctx.seeds.torch_gen["rollout"])  # fmt: skip
        self.model_trained = False
        self.n_updates = 0
        self.stats: dict[str, list[float]] = {}
        self.timings: dict[str, float] = {}

    def record(self, **values: float) -> None:
        for key, value in values.items():
            self.stats.setdefault(key, []).append(float(value))

    def timed(self, phase: str, start: float) -> None:
        key = f"time/{phase}_s"
        self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - start

    # ----- acting -----
    @torch.no_grad()
    def eval_act(self, obs: np.ndarray) -> np.ndarray:
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device).unsqueeze(0)
        return self.policy(obs_t)[0].cpu().numpy()

    def act(self, obs: np.ndarray) -> np.ndarray:
        noise = self.ctx.seeds.numpy_gen.normal(0.0, self.cfg.exploration_std, self.ctx.act_dim)
        return np.clip(self.eval_act(obs) + noise, -1.0, 1.0).astype(np.float32)

    def on_reset(self, obs: np.ndarray) -> None:
        pass

    # ----- learning -----
    def update_critic(self, batch: Batch) -> None:
        with torch.no_grad():
            next_q = self.critic_target(batch.next_obs, self.policy(batch.next_obs)).min(0).values
            target = batch.reward + self.cfg.gamma * (1 - batch.terminated) * next_q
        loss = ((self.critic(batch.obs, batch.act) - target) ** 2).mean(-1).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(list(self.critic_target.parameters()),
                                 list(self.critic.parameters()), self.cfg.tau)  # fmt: skip
        self.record(**{"bptt/critic_loss": loss.detach()})

    def policy_loss(self, starts: torch.Tensor) -> torch.Tensor:
        critic = self.critic if self.cfg.use_value else None
        return -model_return(self.model_env, self.policy, starts, self.cfg.horizon,
                             self.cfg.gamma, critic).mean()  # fmt: skip

    def update_policy(self, buffer: ReplayBuffer) -> None:
        cfg = self.cfg
        starts = buffer.obs[buffer.sample_indices(cfg.batch_size)]
        self.critic.requires_grad_(False)
        self.model.requires_grad_(False)
        loss = self.policy_loss(starts)
        self.policy_opt.zero_grad(set_to_none=True)
        loss.backward()
        params = list(self.policy.parameters())
        grad_norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        finite = bool(torch.isfinite(grad_norm))
        if finite:
            self.policy_opt.step()
        self.record(**{"bptt/loss": loss.detach(), "bptt/grad_norm": grad_norm,
                       "bptt/nonfinite_grad": float(not finite)})  # fmt: skip
        if self.n_updates % cfg.diagnostics_every == 0:
            self.diagnostics(starts)
        self.critic.requires_grad_(True)
        self.model.requires_grad_(True)
        self.n_updates += 1

    def diagnostics(self, starts: torch.Tensor) -> None:
        """Gradient SNR across start-state groups; log sigma_max of the Jacobian product."""
        params = list(self.policy.parameters())
        groups = starts.chunk(self.cfg.snr_groups)
        grads = torch.stack([flat_grad(self.policy_loss(g), params) for g in groups])
        mean = grads.mean(0)
        noise = ((grads - mean) ** 2).sum(1).mean()
        self.record(**{"bptt/grad_snr": float(mean.pow(2).sum() / noise.clamp_min(1e-30))})
        logs = [log_max_singular_value_of_jacobian_product(self.model_env, self.policy, s,
                                                           self.cfg.horizon)
                for s in starts[: self.cfg.jacobian_states]]  # fmt: skip
        self.record(**{"bptt/log_jacobian_sigma_max": float(np.mean(logs))})

    def after_step(self, step: int, buffer: ReplayBuffer) -> None:
        cfg = self.cfg
        if step < max(cfg.random_steps, 1):
            return
        if (step - cfg.random_steps) % cfg.model_train_freq == 0:
            stats, seconds = self.trainer.fit(buffer)
            self.ctx.writer.log_metrics(step, stats)  # one row set per retrain
            check_finite(self.ctx, step, stats)
            self.timings["time/model_train_s"] = self.timings.get("time/model_train_s", 0) + seconds
            self.model_trained = True
        start = time.perf_counter()
        batches = buffer.sample(cfg.updates_per_step, cfg.batch_size)
        for i in range(cfg.updates_per_step):
            self.update_critic(Batch(*(x[i] for x in batches)))
            self.update_policy(buffer)
        self.timed("policy_update", start)

    def pop_metrics(self) -> tuple[dict[str, float], dict[str, float]]:
        metrics = {k: float(np.mean([float(v) for v in vals])) for k, vals in self.stats.items()}
        timings, self.stats, self.timings = self.timings, {}, {}
        return metrics, timings

    def predicted_return(self, start_obs: np.ndarray) -> float | None:
        return None

    def checkpoints(self) -> dict[str, Any]:
        return {"policy.pt": self.policy.state_dict(), "model.pt": self.model.state_dict(),
                "critic.pt": self.critic.state_dict()}  # fmt: skip


def train(cfg: Config, ctx: RunContext) -> None:
    """Train BPTT for ``cfg.env_steps`` real steps."""
    run_loop(ctx, cfg, BPTTAgent(ctx, cfg))
