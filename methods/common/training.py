"""The shared run loop: act in the real env, store, train, evaluate on a seeded eval env."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from methods.common.buffer import ReplayBuffer
from methods.common.envs import EnvSpec, get_reset_rng, get_spec, make_env, set_reset_rng
from methods.common.errors import UserError, require_positive
from methods.common.resume import Checkpointer, LoopState, restore
from methods.common.run_io import RunWriter
from methods.common.seeding import Seeds, derive_seeds


@dataclass
class RunSettings:
    """Budget and evaluation settings shared by every method (all counts in agent steps)."""

    env_steps: int = 10_000  # real environment steps of the run (default per env)
    eval_every: int = 1000  # evaluate after every this many env steps
    eval_episodes: int = 5  # deterministic-policy episodes per evaluation
    random_steps: int = 1000  # initial uniformly random actions
    buffer_size: int = 1_000_000  # real replay capacity
    checkpoint_minutes: float = 3.0  # checkpoint at the next episode end after this (0: off)
    checkpoint_every: int = 0  # also after this many env steps (0: off; used by the tests)
    # end the run at the first evaluation whose mean return reaches this (a time-to-threshold
    # run: meta.json's ``stopped_at_return`` says where; None: run all ``env_steps``)
    stop_at_return: float | None = None

    @classmethod
    def env_defaults(cls, spec: EnvSpec) -> dict:
        return {"env_steps": spec.env_steps, "eval_every": spec.eval_every}

    def validate(self, spec: EnvSpec) -> None:
        require_positive(self, "env_steps", "eval_every", "eval_episodes", "buffer_size")
        if self.random_steps < 0:
            raise UserError(f"'random_steps' must be >= 0, got {self.random_steps}")
        if self.random_steps >= self.env_steps:
            raise UserError(
                f"'random_steps' ({self.random_steps}) must be below 'env_steps' "
                f"({self.env_steps}): the run would only take random actions"
            )
        if self.checkpoint_minutes < 0 or self.checkpoint_every < 0:
            raise UserError("'checkpoint_minutes' and 'checkpoint_every' must be >= 0 (0: off)")
        if self.stop_at_return is not None and not np.isfinite(self.stop_at_return):
            raise UserError(f"'stop_at_return' must be a finite number, got {self.stop_at_return}")


@dataclass
class RunContext:
    """Everything a method needs to run once."""

    env_id: str
    spec: EnvSpec
    variant: str
    seed: int
    seeds: Seeds
    device: torch.device
    writer: RunWriter
    obs_dim: int
    act_dim: int
    restart_stale_checkpoint: bool = False  # a checkpoint of another config: start over


def offline_context(
    env_id: str,
    variant: str,
    obs_dim: int,
    act_dim: int,
    seed: int = 0,
    device: torch.device | None = None,
) -> RunContext:
    """A RunContext for an agent used outside a run (benchmarks, tests): no run writer,
    the run's seed streams (generators on ``device``, default CPU)."""
    device = torch.device("cpu") if device is None else device
    return RunContext(env_id, get_spec(env_id), variant, seed, derive_seeds(seed, device),
                      device, None, obs_dim, act_dim)  # fmt: skip


class Agent(Protocol):
    """What the shared loop needs from a method."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Exploration action for one observation."""

    def eval_act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic action for evaluation."""

    def after_step(self, step: int, buffer: ReplayBuffer) -> None:
        """Train after the step-th real transition was stored."""

    def on_reset(self, obs: np.ndarray) -> None:
        """A real episode started at ``obs``. (Optional: ``on_eval_reset(obs)``, called when
        an evaluation episode starts, for agents that carry state from action to action.)"""

    def pop_metrics(self) -> tuple[dict[str, float], dict[str, float]]:
        """(deterministic metrics, wall-clock timings) since the last call."""

    def checkpoints(self) -> dict[str, object]:
        """File name -> object to save at the end (policy.pt, model.pt)."""

    def predicted_return(self, start_obs: np.ndarray) -> float | None:
        """The model's predicted return of the eval policy from (N, obs_dim) starts, if any."""


def show_progress() -> bool:
    """A progress bar only in an interactive terminal, never in CI or Snakemake logs."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def evaluate(
    agent: Agent, eval_env, episodes: int, seed: int
) -> tuple[np.ndarray, float, np.ndarray]:
    """Deterministic episodes from the same start seeds every call.

    Returns the episode returns (episodes,), ms per action, and start states (episodes, obs_dim).
    """
    returns = np.zeros(episodes)
    starts = []
    n_actions, act_seconds = 0, 0.0
    eval_reset = getattr(agent, "on_eval_reset", None)
    for episode in range(episodes):
        obs, _ = eval_env.reset(seed=seed + episode)
        starts.append(obs)
        if eval_reset is not None:
            eval_reset(obs)
        done = False
        while not done:
            start = time.perf_counter()
            action = agent.eval_act(obs)
            act_seconds += time.perf_counter() - start
            n_actions += 1
            obs, reward, terminated, truncated, _ = eval_env.step(action)
            returns[episode] += reward
            done = terminated or truncated
    return returns, 1000.0 * act_seconds / max(1, n_actions), np.stack(starts)


def check_finite(ctx: RunContext, step: int, values: dict[str, float]) -> None:
    """Stop the run, keeping its partial logs, when a logged quantity is NaN or inf."""
    bad = [k for k, v in values.items() if not np.isfinite(v)]
    if bad:
        ctx.writer.flush()
        raise UserError(
            f"non-finite {', '.join(bad)} in variant={ctx.variant} env={ctx.env_id} "
            f"seed={ctx.seed} at env_step={step}; partial logs kept in {ctx.writer.out_dir}"
        )


def run_loop(ctx: RunContext, settings: RunSettings, agent: Agent) -> None:
    """Interact for ``settings.env_steps`` steps, training and evaluating along the way.

    Real transitions go to a replay buffer that the agent receives after every step. At
    episode boundaries a checkpoint is written when one is due (resume.py); a run directory
    holding one continues from it, to the same results as an uninterrupted run.
    """
    capacity = min(settings.buffer_size, settings.env_steps)
    buffer = ReplayBuffer(ctx.obs_dim, ctx.act_dim, capacity, ctx.device,
                          ctx.seeds.torch_gen["buffer"])  # fmt: skip
    env, eval_env = make_env(ctx.env_id), make_env(ctx.env_id)
    env.action_space.seed(ctx.seeds.ints["explore"])
    checkpointer = Checkpointer(ctx.writer.out_dir, settings.checkpoint_minutes,
                                settings.checkpoint_every)  # fmt: skip
    payload = checkpointer.load(ctx.writer.config, ctx.device, ctx.restart_stale_checkpoint)
    ctx.writer.write_config()  # after the check: a refused resume leaves the directory as is
    obs, _ = env.reset(seed=ctx.seeds.ints["env"])
    started = time.perf_counter()  # a resumed run's rebuild below is training time too
    if payload is None:
        loop = LoopState()
    else:
        buffer, loop = restore(payload, ctx, agent)
        ctx.writer.mark_resumed(loop.step)
        print(f"resuming {ctx.writer.out_dir} from env step {loop.step}", file=sys.stderr)
        set_reset_rng(env, loop.env_rng)
        obs, _ = env.reset()
        if payload.get("slim"):  # the checkpoint left out state the agent can rebuild
            regenerate = getattr(agent, "regenerate", None)
            if regenerate is not None:
                regenerate(buffer, loop.step)
            ctx.writer.mark_regenerated(loop.step)
            rebuilt = ", ".join(payload["slim"])
            print(f"rebuilt {rebuilt} (slim checkpoint): a valid run, not byte-identical "
                  "to an uninterrupted one", file=sys.stderr)  # fmt: skip
    if hasattr(agent, "attach_envs"):  # planners that copy the simulator (MPC oracle)
        agent.attach_envs(env, eval_env)
    agent.on_reset(obs)
    clock = _evaluate_if_due(ctx, settings, agent, eval_env, loop, started)
    episode_return = 0.0
    rng = ctx.seeds.numpy_gen
    act_dim = env.action_space.shape[0]
    progress = None
    if show_progress():
        from tqdm import tqdm

        progress = tqdm(total=settings.env_steps, initial=loop.step,
                        desc=f"{ctx.variant} {ctx.env_id}", unit="step")  # fmt: skip
    for step in range(loop.step + 1, settings.env_steps + 1):
        loop.step = step
        if step <= settings.random_steps:
            action = rng.uniform(-1.0, 1.0, act_dim).astype(np.float32)
        else:
            action = agent.act(obs)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, terminated)
        episode_return += float(reward)
        agent.after_step(step, buffer)
        obs = next_obs
        if terminated or truncated:
            loop.train_returns.append(episode_return)
            episode_return = 0.0
            if step < settings.env_steps and checkpointer.due(step):
                loop.env_rng = get_reset_rng(env)
                # a run resumed from this checkpoint would otherwise lose the training time
                # since the last evaluation from time/train_wall_s
                clock = _bank_training_time(loop, clock)
                checkpointer.save(ctx, agent, buffer, loop)
            obs, _ = env.reset()
            agent.on_reset(obs)
        clock = _evaluate_if_due(ctx, settings, agent, eval_env, loop, clock)
        if progress is not None:
            progress.update(1)
        if "stopped_at_return" in ctx.writer.meta:
            break
    if progress is not None:
        progress.close()
    for name, obj in agent.checkpoints().items():
        ctx.writer.save_checkpoint(name, obj)


def _bank_training_time(loop: LoopState, clock: float) -> float:
    """Add the wall time since ``clock`` (``perf_counter``) to ``loop.train_seconds``; returns
    the new clock (now)."""
    now = time.perf_counter()
    loop.train_seconds = getattr(loop, "train_seconds", 0.0) + now - clock
    return now


def _evaluate_if_due(
    ctx: RunContext, settings: RunSettings, agent: Agent, eval_env, loop: LoopState, clock: float
) -> float:
    """Evaluate after every ``eval_every`` steps and at the end; log and flush. ``clock``:
    when training last resumed (``perf_counter``); returns the new one, so that
    ``time/train_wall_s`` (the time to a return threshold) leaves evaluations out."""
    step = loop.step
    if step == 0 or (step % settings.eval_every and step != settings.env_steps):
        return clock
    _bank_training_time(loop, clock)
    returns, ms_per_action, starts = evaluate(
        agent, eval_env, settings.eval_episodes, ctx.seeds.ints["eval_env"]
    )
    metrics, timings = agent.pop_metrics()
    predicted = agent.predicted_return(starts)
    if predicted is not None:
        metrics["model/predicted_return"] = predicted
        metrics["model/return_gap"] = predicted - float(returns.mean())
    if loop.train_returns:
        metrics["train/episode_return"] = float(np.mean(loop.train_returns))
        loop.train_returns = []
    check_finite(ctx, step, {**metrics, "eval_return": float(returns.mean())})
    ctx.writer.log_return(step, returns.mean(), returns.std(), len(returns))
    ctx.writer.log_metrics(step, metrics)
    ctx.writer.log_timings(step, {**timings, "time/policy_ms_per_action": ms_per_action,
                                  "time/train_wall_s": loop.train_seconds})  # fmt: skip
    ctx.writer.flush()
    progress = ctx.writer.progress_line(step, settings.env_steps, float(returns.mean()))
    print(f"{ctx.variant} {ctx.env_id} s{ctx.seed}: {progress}", file=sys.stderr, flush=True)
    if settings.stop_at_return is not None and returns.mean() >= settings.stop_at_return:
        ctx.writer.meta["stopped_at_return"] = {
            "env_step": step, "eval_return": float(returns.mean()),
            "threshold": settings.stop_at_return, "train_wall_s": loop.train_seconds,
        }  # fmt: skip
    return time.perf_counter()
