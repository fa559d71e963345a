"""Chaos diagnostic: how fast true trajectories diverge, and how BPTT gradients grow with H.

    python -m methods chaos --env gym-Hopper-v5 --seed 0 --out DIR [--run RUN_DIR]

(a) ``divergence.csv`` (t, mean_log_distance, std_log_distance, median_log_distance, n):
    pairs of true-simulator trajectories from real start states whose simulator state
    differs by 1e-6, each twin driven by the policy acting on its own observation (the closed
    loop that BPTT differentiates); the finite-time Lyapunov picture of that closed loop.
    ``growth_rate`` in ``summary.csv`` is the least-squares slope of the *median*
    log-distance vs t before saturation: pairs that collapse onto exactly the same state
    (a body at rest on the floor) give log(1e-300) and would drag a mean down.
(b) ``gradient_norm.csv`` (horizon, mean_log10_grad_norm, std, median_grad_norm, n): the
    norm of d(return over H)/d(policy parameters) through the learned model, per start state.
The model and policy come from a finished run (``--run``: its model.pt and, for SAC-family
or BPTT runs, policy.pt); without one, a model is fit on random-policy data and the policy is
a freshly initialised deterministic network (seeded).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from methods.bptt import DeterministicPolicy, model_return
from methods.common.buffer import ReplayBuffer
from methods.common.checkpoints import load_run_actor, load_run_model, run_config
from methods.common.dynamics import ModelSettings, ModelTrainer, build_model
from methods.common.envs import get_sim_obs, get_sim_state, get_spec, make_env, set_sim_state
from methods.common.errors import UserError
from methods.common.model_env import ModelEnv
from methods.common.run_io import atomic_write_text, csv_text
from methods.common.sac_agent import Actor

HORIZONS = (1, 2, 5, 10, 20, 50, 100, 200)


Policy = Callable[[np.ndarray], np.ndarray]
"""A deterministic policy: observation (obs_dim,) -> action (act_dim,)."""


def twin_log_distances(
    env_a: gym.Env,
    env_b: gym.Env,
    obs_a: np.ndarray,
    obs_b: np.ndarray,
    policy: Policy,
    steps: int,
) -> np.ndarray:
    """Step two copies of an env from observations ``obs_a``, ``obs_b`` (obs_dim,), each
    acting on its own observation (closed loop): log ||obs_a - obs_b|| after each step
    (steps,); NaN after either copy terminates or truncates."""
    logs = np.full(steps, np.nan)
    for t in range(steps):
        obs_a, _, term_a, trunc_a, _ = env_a.step(policy(obs_a))
        obs_b, _, term_b, trunc_b, _ = env_b.step(policy(obs_b))
        logs[t] = math.log(max(float(np.linalg.norm(obs_a - obs_b)), 1e-300))
        if term_a or term_b or trunc_a or trunc_b:
            break
    return logs


def true_divergence(
    env_id: str, policy: Policy, n_starts: int, steps: int, seed: int
) -> np.ndarray:
    """log ||obs_a - obs_b|| (n_starts, steps) of closed-loop twins whose simulator states
    start 1e-6 apart in a random direction; NaN after either copy terminates."""
    rng = np.random.default_rng(seed)
    env_a, env_b = make_env(env_id), make_env(env_id)
    logs = np.full((n_starts, steps), np.nan)
    for i in range(n_starts):
        obs_a, _ = env_a.reset(seed=seed + i)
        env_b.reset(seed=seed + i)
        state = get_sim_state(env_a)
        direction = rng.normal(size=state.shape)
        set_sim_state(env_b, state + 1e-6 * direction / np.linalg.norm(direction))
        logs[i] = twin_log_distances(env_a, env_b, obs_a, get_sim_obs(env_b), policy, steps)
    return logs


def growth_rate(mean_log: np.ndarray, saturation: float = 0.0) -> float:
    """Slope of a log-distance curve (T,) vs t up to the first step above ``saturation``
    (log 1); run_chaos passes the median over start states."""
    valid = np.isfinite(mean_log)
    stop = np.argmax(mean_log > saturation) if (mean_log > saturation).any() else len(mean_log)
    t = np.arange(len(mean_log))[:stop][valid[:stop]]
    if len(t) < 3:
        return float("nan")
    return float(np.polyfit(t, mean_log[t], 1)[0])


def load_model_and_policy(run_dir: Path, obs_dim: int, act_dim: int, device):
    """(model, deterministic policy module) of a finished run."""
    model = load_run_model(run_dir, obs_dim, act_dim, device)
    config = run_config(run_dir)
    params = config["params"]
    if config["method"] == "bptt":
        policy = DeterministicPolicy(obs_dim, act_dim, params["hidden"], params["layers"])
        try:
            policy.load_state_dict(torch.load(run_dir / "policy.pt", map_location=device))
        except (OSError, RuntimeError, EOFError) as exc:
            raise UserError(f"run {run_dir}: cannot load policy.pt ({exc})") from None
        return model, policy.to(device)
    return model, _ActorAsPolicy(load_run_actor(run_dir, obs_dim, act_dim, device))


class _ActorAsPolicy(torch.nn.Module):
    def __init__(self, actor: Actor):
        super().__init__()
        self.actor = actor

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.actor.deterministic(obs)


def _fit_on_random_data(env_id: str, seed: int, steps: int, device):
    env = make_env(env_id)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    rng = np.random.default_rng(seed)
    buffer = ReplayBuffer(obs_dim, act_dim, steps, device)
    obs, _ = env.reset(seed=seed)
    for _ in range(steps):
        action = rng.uniform(-1, 1, act_dim).astype(np.float32)
        next_obs, reward, term, trunc, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, term)
        obs = env.reset()[0] if term or trunc else next_obs
    model = build_model(ModelSettings(), obs_dim, act_dim, device)
    ModelTrainer(model, ModelSettings(), torch.Generator(device=device).manual_seed(seed)).fit(
        buffer
    )
    return model, buffer


def run_chaos(
    env_id: str,
    seed: int,
    out: Path,
    run_dir: Path | None,
    n_starts: int,
    steps: int,
    horizons: tuple[int, ...],
    random_steps: int,
    device,
) -> dict:
    spec = get_spec(env_id)
    torch.manual_seed(seed)
    env = make_env(env_id)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    if run_dir is not None:
        model, policy = load_model_and_policy(run_dir, obs_dim, act_dim, device)
    else:
        model, _ = _fit_on_random_data(env_id, seed, random_steps, device)
        policy = DeterministicPolicy(obs_dim, act_dim, 64, 2).to(device)

    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        return policy(torch.as_tensor(obs, device=device).unsqueeze(0))[0].cpu().numpy()

    logs = true_divergence(env_id, act, n_starts, steps, seed)
    counts = np.isfinite(logs).sum(0)
    with warnings.catch_warnings():  # columns after every pair terminated are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_log, std_log = np.nanmean(logs, 0), np.nanstd(logs, 0)
        median_log = np.nanmedian(logs, 0)
    divergence_rows = [(t + 1, float(mean_log[t]), float(std_log[t]), float(median_log[t]),
                        int(counts[t])) for t in range(steps) if counts[t] > 0]  # fmt: skip
    atomic_write_text(out / "divergence.csv", csv_text(
        ("t", "mean_log_distance", "std_log_distance", "median_log_distance", "n"),
        divergence_rows))  # fmt: skip

    starts = torch.as_tensor(np.stack([make_env(env_id).reset(seed=seed + 1000 + i)[0]
                                       for i in range(n_starts)]), device=device)  # fmt: skip
    model_env = ModelEnv(
        model, spec.termination_fn, torch.Generator(device=device).manual_seed(seed)
    )
    params = list(policy.parameters())
    model.requires_grad_(False)
    grad_rows = []
    for horizon in horizons:
        if horizon > spec.episode_length:
            continue
        norms = []
        for start in starts:
            value = model_return(model_env, policy, start.unsqueeze(0), horizon, 0.99).sum()
            grads = torch.autograd.grad(value, params, allow_unused=True)
            norm = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads if g is not None]))
            norms.append(float(norm))
        norms_arr = np.array(norms)
        log10 = np.log10(np.clip(norms_arr, 1e-300, None))
        grad_rows.append((horizon, float(np.mean(log10)), float(np.std(log10)),
                          float(np.median(norms_arr)), len(norms)))  # fmt: skip
    atomic_write_text(out / "gradient_norm.csv", csv_text(
        ("horizon", "mean_log10_grad_norm", "std_log10_grad_norm", "median_grad_norm", "n"),
        grad_rows))  # fmt: skip
    slope = (np.polyfit(np.log10([r[0] for r in grad_rows]), [r[1] for r in grad_rows], 1)[0]
             if len(grad_rows) >= 2 else float("nan"))  # fmt: skip
    summary = {"env": env_id, "seed": seed, "growth_rate_per_step": growth_rate(median_log),
               "grad_norm_loglog_slope_vs_H": float(slope)}  # fmt: skip
    atomic_write_text(out / "summary.csv", csv_text(list(summary), [list(summary.values())]))
    return summary
