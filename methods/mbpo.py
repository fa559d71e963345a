"""MBPO (Janner et al. 2019): short model rollouts branched from real states train SAC.

Every ``model_train_freq`` env steps the ensemble is retrained on all real data; every
``rollout_freq`` steps ``rollout_batch_size`` rollouts of length k start from states of the
real replay buffer and follow the current policy through the model (a random elite per
sample and step). Their transitions fill a model buffer that keeps the last
``model_retain_epochs`` epochs; SAC takes ``updates_per_step`` gradient steps per env step on
batches mixing ``real_ratio`` real and the rest model data. k is fixed or follows the
schedule ``[min_epoch, max_epoch, min_k, max_k]`` (linear in the epoch in between).

Dyna (methods/dyna.py) reuses this machinery with other rollout starts and lengths.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.spatial import cKDTree

from methods.common.buffer import Batch, ReplayBuffer
from methods.common.dynamics import ModelSettings, ModelTrainer, build_model
from methods.common.envs import EnvSpec
from methods.common.errors import UserError, require_positive
from methods.common.model_env import PROPAGATION_MODES, ModelEnv
from methods.common.training import RunContext, RunSettings, check_finite, run_loop
from methods.sac import Config as SACConfig
from methods.sac import PolicyAgent

ROLLOUT_STARTS = ("replay", "reset")


@dataclass
class Config(SACConfig, ModelSettings):
    """MBPO settings: SAC + model + the branched rollouts below."""

    updates_per_step: int = 20  # G: SAC gradient steps per env step (per-env default)
    real_ratio: float = 0.05  # fraction of real transitions in each SAC batch
    rollout_length: int = 1  # k, used when no schedule is given
    rollout_schedule: tuple[int, ...] | None = None  # (min_epoch, max_epoch, min_k, max_k)
    paper_schedule: bool = False  # use the env's MBPO-paper schedule
    full_episode_rollouts: bool = False  # k = the env's episode length (Dyna)
    rollout_start: str = "replay"  # replay: real buffer states (MBPO); reset: start states
    rollout_batch_size: int = 100_000  # rollouts started every rollout_freq env steps
    rollout_transitions: int = 0  # if > 0: start rollout_transitions // k rollouts instead
    rollout_freq: int = 250  # env steps between rollout rounds
    rollout_mode: str = "random-member"  # propagation mode, see model_env.py
    rollout_chunk: int = 5_000  # rollouts stepped together (bounds peak memory: each holds
    # every elite's activations for the disagreement; 25k chunks cost Hopper ~240 MiB more)
    model_retain_epochs: int = 1  # model buffer keeps this many epochs of rollouts
    epoch_length: int = 1000  # env steps per MBPO epoch (per-env default)
    predicted_return_particles: int = 5  # model rollouts per eval start state
    rollout_state_margin: float = 1.0  # end rollouts leaving the real state range +- margin*span
    mismatch_samples: int = 200  # rollouts whose distance to real data is measured (0: off)

    @classmethod
    def env_defaults(cls, spec: EnvSpec) -> dict:
        return {
            **RunSettings.env_defaults(spec),
            "updates_per_step": spec.updates_per_step,
            "epoch_length": spec.epoch_length,
            "target_entropy": spec.mbpo_target_entropy,
            "random_steps": spec.mbpo_random_steps,
        }

    def validate(self, spec: EnvSpec) -> None:
        SACConfig.validate(self, spec)
        self.validate_model()
        if self.paper_schedule:
            self.rollout_schedule = tuple(spec.rollout_schedule)
        if self.full_episode_rollouts:
            self.rollout_length = spec.episode_length
        if not 0.0 <= self.real_ratio <= 1.0:
            raise UserError(f"'real_ratio' must be in [0, 1], got {self.real_ratio}")
        if self.rollout_schedule is not None:
            if len(self.rollout_schedule) != 4:
                raise UserError("'rollout_schedule' must be [min_epoch, max_epoch, min_k, max_k]")
            lo_epoch, hi_epoch, lo_k, hi_k = self.rollout_schedule
            if hi_epoch < lo_epoch or min(lo_k, hi_k) < 1:
                raise UserError(f"invalid 'rollout_schedule' {list(self.rollout_schedule)}")
            ks = (lo_k, hi_k)
        else:
            ks = (self.rollout_length,)
        if min(ks) < 1 or max(ks) > spec.episode_length:
            raise UserError(
                f"rollout length k must be in [1, episode length {spec.episode_length}], "
                f"got {max(ks) if max(ks) > 1 else min(ks)}"
            )
        if self.rollout_mode not in PROPAGATION_MODES:
            raise UserError(f"'rollout_mode' must be one of {PROPAGATION_MODES}")
        if self.rollout_start not in ROLLOUT_STARTS:
            raise UserError(f"'rollout_start' must be one of {ROLLOUT_STARTS}")
        require_positive(
            self,
            "rollout_batch_size",
            "rollout_freq",
            "rollout_chunk",
            "epoch_length",
            "model_retain_epochs",
        )


def scheduled_length(cfg: Config, env_step: int) -> int:
    """k at this env step: fixed, or linear in the epoch between the schedule's ends.

    Epochs count from the end of the ``random_steps`` exploration, as in jannerm/mbpo (its
    initial exploration runs before epoch 0): epoch = (env_step - random_steps) // length.
    """
    if cfg.rollout_schedule is None:
        return cfg.rollout_length
    lo_epoch, hi_epoch, lo_k, hi_k = cfg.rollout_schedule
    epoch = max(env_step - cfg.random_steps, 0) // cfg.epoch_length
    if hi_epoch == lo_epoch:
        return hi_k if epoch >= hi_epoch else lo_k
    frac = min(max((epoch - lo_epoch) / (hi_epoch - lo_epoch), 0.0), 1.0)
    return int(lo_k + frac * (hi_k - lo_k))


class MBPOAgent(PolicyAgent):
    """SAC trained on branched model rollouts; Dyna changes only starts and lengths."""

    def __init__(self, ctx: RunContext, cfg: Config):
        super().__init__(ctx, cfg, ctx.obs_dim, ctx.act_dim)
        self.cfg: Config = cfg
        self.model = build_model(cfg, ctx.obs_dim, ctx.act_dim, ctx.device)
        self.trainer = ModelTrainer(self.model, cfg, ctx.seeds.torch_gen["model"])
        self.model_env = ModelEnv(self.model, ctx.spec.termination_fn,
                                  ctx.seeds.torch_gen["rollout"])  # fmt: skip
        self.model_buffer: ReplayBuffer | None = None
        self.model_trained = False
        self.reset_states: list[np.ndarray] = []
        self.stats: dict[str, list[float]] = {}

    # ----- bookkeeping -----
    def record(self, **values: float) -> None:
        for key, value in values.items():
            self.stats.setdefault(key, []).append(float(value))

    def on_reset(self, obs: np.ndarray) -> None:
        self.reset_states.append(np.asarray(obs, dtype=np.float32))

    def n_starts(self, k: int) -> int:
        if self.cfg.rollout_transitions > 0:
            return max(1, self.cfg.rollout_transitions // k)
        return self.cfg.rollout_batch_size

    def model_capacity(self, k: int) -> int:
        rounds_per_epoch = max(1, self.cfg.epoch_length // self.cfg.rollout_freq)
        return self.cfg.model_retain_epochs * rounds_per_epoch * self.n_starts(k) * k

    def ensure_model_buffer(self, k: int) -> ReplayBuffer:
        """(Re)allocate the model buffer for k, keeping the newest transitions (as MBPO)."""
        capacity = self.model_capacity(k)
        old = self.model_buffer
        if old is None or old.capacity != capacity:
            new = ReplayBuffer(self.ctx.obs_dim, self.ctx.act_dim, capacity, self.device,
                               self.ctx.seeds.torch_gen["buffer"])  # fmt: skip
            if old is not None and len(old):
                new.add_batch(*old.all())
            self.model_buffer = new
        return self.model_buffer

    # ----- the three phases -----
    def train_model(self, buffer: ReplayBuffer, step: int) -> None:
        """Refit the ensemble on all real data; its holdout scores are logged at ``step``."""
        stats, seconds = self.trainer.fit(buffer)
        self.model_env.set_state_bounds(buffer.all().next_obs, self.cfg.rollout_state_margin)
        self.ctx.writer.log_metrics(step, stats)
        check_finite(self.ctx, step, stats)
        self.timings["time/model_train_s"] = self.timings.get("time/model_train_s", 0) + seconds
        self.model_trained = True

    def start_states(self, buffer: ReplayBuffer, n: int) -> torch.Tensor:
        """(n, obs_dim) rollout starts: real replay states (MBPO) or real reset states (Dyna)."""
        if self.cfg.rollout_start == "replay":
            return buffer.obs[buffer.sample_indices(n)]
        pool = torch.as_tensor(np.stack(self.reset_states), device=self.device)
        idx = torch.randint(0, len(pool), (n,), device=self.device,
                            generator=self.ctx.seeds.torch_gen["rollout"])  # fmt: skip
        return pool[idx]

    @torch.no_grad()
    def rollout(self, buffer: ReplayBuffer, env_step: int) -> None:
        start = time.perf_counter()
        k = scheduled_length(self.cfg, env_step)
        model_buffer = self.ensure_model_buffer(k)
        gen = self.ctx.seeds.torch_gen["rollout"]

        def policy(obs: torch.Tensor) -> torch.Tensor:
            return self.sac.actor.sample(obs, gen)[0]

        starts = self.start_states(buffer, self.n_starts(k))
        disagreement = torch.zeros(k, device=self.device)
        valid_count = torch.zeros(k, device=self.device)
        for i, chunk in enumerate(starts.split(self.cfg.rollout_chunk)):
            ro = self.model_env.rollout(chunk, k, policy=policy, mode=self.cfg.rollout_mode,
                                        with_disagreement=True)  # fmt: skip
            valid = ro.valid
            if i == 0 and self.cfg.mismatch_samples > 0:
                self.record_mismatch(buffer, ro.next_obs, valid)
            # a step cut by a numeric guard is no env termination (as terminal it would end
            # the return there: a penalty with positive rewards, a prize with negative): drop it
            keep = valid & (ro.terminal | ~ro.done)
            model_buffer.add_batch(ro.obs[keep], ro.act[keep], ro.reward[keep],
                                   ro.next_obs[keep], ro.terminal[keep].float())  # fmt: skip
            disagreement += (ro.disagreement * valid).sum(1)
            valid_count += valid.sum(1)
        per_step = (disagreement / valid_count.clamp_min(1)).tolist()
        self.record(**{f"rollout/disagreement_step{t + 1:04d}": v for t, v in enumerate(per_step)})
        self.record(**self.model_env.pop_guard_counts())
        self.record(**{"rollout/length": k, "rollout/mean_steps_alive":
                       float(valid_count.sum()) / starts.shape[0]})  # fmt: skip
        self.timed("rollout", start)

    def regenerate(self, buffer: ReplayBuffer, env_step: int) -> None:
        """Refill the model buffer that a slim checkpoint left out: as many rollout rounds
        as the buffer retains (or as have run so far), from the current model and policy.
        The rounds' statistics are not logged (they would double-count the next window)."""
        if not self.model_trained:
            return
        rounds_kept = self.cfg.model_retain_epochs * max(
            1, self.cfg.epoch_length // self.cfg.rollout_freq
        )
        rounds_done = (env_step - self.cfg.random_steps) // self.cfg.rollout_freq + 1
        stats = self.stats
        for _ in range(max(1, min(rounds_kept, rounds_done))):
            self.rollout(buffer, env_step)
        self.stats = stats

    def record_mismatch(self, buffer: ReplayBuffer, states: torch.Tensor, valid) -> None:
        """Mean z-scored distance from synthetic states (H, B, obs_dim) to their nearest real
        replay state, per rollout step, over ``mismatch_samples`` rollouts (a cKDTree)."""
        real = buffer.all().obs.cpu().numpy()
        mean, std = real.mean(0), real.std(0) + 1e-6
        tree = cKDTree((real - mean) / std)
        n = min(self.cfg.mismatch_samples, states.shape[1])
        synthetic = ((states[:, :n].cpu().numpy() - mean) / std).astype(np.float64)
        alive = valid[:, :n].cpu().numpy()
        per_step = {}
        for t in range(states.shape[0]):
            if alive[t].any():
                distance, _ = tree.query(synthetic[t][alive[t]], k=1)
                per_step[f"rollout/nn_distance_step{t + 1:04d}"] = float(distance.mean())
        if per_step:
            self.record(**per_step, **{"rollout/nn_distance_mean": float(np.mean(list(
                per_step.values())))})  # fmt: skip

    def sample_mixed(self, buffer: ReplayBuffer) -> Batch:
        """(G, B) batches with real_ratio real transitions, the rest from the model buffer."""
        g, b = self.cfg.updates_per_step, self.cfg.batch_size
        if self.model_buffer is None or len(self.model_buffer) == 0:
            return buffer.sample(g, b)
        n_real = int(round(self.cfg.real_ratio * b))
        real, model = buffer.sample(g, n_real), self.model_buffer.sample(g, b - n_real)
        return Batch(*(torch.cat([r, m], dim=1) for r, m in zip(real, model, strict=True)))

    def after_step(self, step: int, buffer: ReplayBuffer) -> None:
        cfg = self.cfg
        if step < max(cfg.random_steps, 1):
            return
        if (step - cfg.random_steps) % cfg.model_train_freq == 0:
            self.train_model(buffer, step)
        if self.model_trained and (step - cfg.random_steps) % cfg.rollout_freq == 0:
            self.rollout(buffer, step)
        start = time.perf_counter()
        batches = self.sample_mixed(buffer)
        for i in range(cfg.updates_per_step):
            self.sac.update(Batch(*(x[i] for x in batches)))
        self.timed("policy_update", start)

    # ----- evaluation extras -----
    @torch.no_grad()
    def predicted_return(self, start_obs: np.ndarray) -> float | None:
        """Mean undiscounted return the model predicts for the deterministic policy from the
        eval start states (episode-length rollouts, ``predicted_return_particles`` each)."""
        if not self.model_trained:
            return None
        starts = torch.as_tensor(start_obs, device=self.device)
        starts = starts.repeat_interleave(self.cfg.predicted_return_particles, dim=0)
        ro = self.model_env.rollout(starts, self.ctx.spec.episode_length,
                                    policy=self.sac.actor.deterministic,
                                    mode=self.cfg.rollout_mode)  # fmt: skip
        return float((ro.reward * ro.valid).sum(0).mean())

    def pop_metrics(self) -> tuple[dict[str, float], dict[str, float]]:
        metrics, timings = super().pop_metrics()
        metrics.update({k: float(np.mean(v)) for k, v in self.stats.items()})
        if self.model_buffer is not None:
            metrics["model_buffer/size"] = float(len(self.model_buffer))
        self.stats = {}
        return metrics, timings

    def checkpoints(self) -> dict[str, Any]:
        return {**super().checkpoints(), "model.pt": self.model.state_dict()}


def train(cfg: Config, ctx: RunContext) -> None:
    """Train MBPO (or Dyna, through its Config) for ``cfg.env_steps`` real steps."""
    run_loop(ctx, cfg, MBPOAgent(ctx, cfg))
