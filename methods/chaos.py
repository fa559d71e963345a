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
    norm of d(return over H)/d(policy parameters) through the learned model, per start state
    (each start rolled out alone, so TSinf always draws the first elite).
(c) ``gradient_diagnostics.csv`` (horizon, grad_norm, grad_norm_per_discount, snr, n_batches,
    n_nonfinite_batches, log_sigma1_mean, log_sigma1_median, n_starts, n_nonfinite,
    n_terminated): claim 2 ("BPTT gradients explode or vanish with H") separated from the
    trivial growth of a sum of H rewards, with ONE model, ONE policy and the SAME start states
    for every H, and common random numbers across H (the TSinf elites and the reparameterised
    noise are re-drawn from the same seed for each H, so the H-step rollout is a prefix of
    the longer ones):
    - ``grad_norm``: ||d/dtheta mean_i R_H(s_i)||, the gradient of the mean H-step model
      return (``model_return``: TSinf, sampled, as BPTT's loss; no critic) over all start
      states, the quantity BPTT's ``bptt/grad_norm`` measures; ``grad_norm_per_discount`` =
      ``grad_norm`` / sum_{t<H} gamma^t, flat in H when every step contributes alike;
    - ``snr``: the start states split into K (= 8, fewer if fewer starts) batches, g_k the
      gradient of batch k's mean return, g = mean_k g_k:
      SNR = ||g|| / sqrt(mean_k ||g_k - g||^2), not squared (``bptt.py``'s ``bptt/grad_snr``
      is the square, with the full batch split the same way). It is the signal-to-noise
      ratio of ONE batch's gradient (that of all B starts is about sqrt(K) larger).
      Motivation: Parmas et al. 2018 (PIPPS, arXiv:1902.01240) show reparameterised
      gradients through long chaotic model rollouts have exploding variance; Metz et al.
      2021 ("Gradients are not all you need", arXiv:2111.05803) tie that to the Jacobian
      spectrum of the iterated map, which ``log_sigma1_*`` measure;
    - ``log_sigma1_*``: the finite-time Lyapunov picture of the learned closed loop
      s_{t+1} = f(s_t, pi(s_t)) with ``mean`` propagation: per start, log of the largest
      singular value of d s_H / d s_0 (the tangent matrix propagated step by step,
      J_{t+1} = (df/ds + df/da dpi/ds) J_t, renormalised so it cannot overflow), mean and
      median over the starts whose propagation stayed finite (``n_nonfinite`` counts the
      others, an exactly-zero product included) and whose mean rollout did not hit the
      env's termination function by step H (``n_terminated``: BPTT's return is masked there).
    ``summary.csv`` adds ``ftle``, the least-squares slope of the median log sigma_1 vs H
    over ``ftle_h_min`` .. ``ftle_h_max`` (``ftle_n_horizons`` horizons whose median is finite
    and rests on at least half the starts), and the log-log slope of
    ``grad_norm_per_discount`` vs H.
The model and policy come from a finished run (``--run``: its model.pt and, for SAC-family
or BPTT runs, policy.pt); without one, a model is fit on random-policy data and the policy is
a freshly initialised deterministic network (seeded).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from methods.bptt import DeterministicPolicy, model_return
from methods.common.buffer import ReplayBuffer
from methods.common.checkpoints import load_run_actor, load_run_model, run_config
from methods.common.dynamics import ModelSettings, ModelTrainer, build_model
from methods.common.ensemble import GaussianEnsemble
from methods.common.envs import get_sim_obs, get_sim_state, get_spec, make_env, set_sim_state
from methods.common.errors import UserError
from methods.common.model_env import ModelEnv
from methods.common.run_io import atomic_write_text, csv_text
from methods.common.sac_agent import Actor

HORIZONS = (1, 2, 5, 10, 20, 50, 100, 200)
GAMMA = 0.99  # discount of the H-step model return
SNR_BATCHES = 8  # K: start-state batches for the gradient signal-to-noise ratio
FTLE_MIN_FRACTION = 0.5  # a horizon enters the FTLE fit if >= this share of starts is used


Policy = Callable[[np.ndarray], np.ndarray]
"""A deterministic policy: observation (obs_dim,) -> action (act_dim,)."""

TorchPolicy = Callable[[torch.Tensor], torch.Tensor]
"""A differentiable deterministic policy: observations (B, obs_dim) -> actions (B, act_dim)."""

Dynamics = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""The mean model step: states (B, obs_dim), actions (B, act_dim) -> next states (B, obs_dim)."""

ReturnFn = Callable[[torch.Tensor, int], torch.Tensor]
"""Differentiable H-step return per start: start states (B, obs_dim), H -> returns (B,)."""

TerminationFn = Callable[[torch.Tensor], torch.Tensor]
"""States (B, obs_dim) -> (B,) bool: the env's termination fires."""

GRADIENT_DIAGNOSTICS_COLUMNS = (
    "horizon", "grad_norm", "grad_norm_per_discount", "snr", "n_batches", "n_nonfinite_batches",
    "log_sigma1_mean", "log_sigma1_median", "n_starts", "n_nonfinite", "n_terminated",
)  # fmt: skip


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


def discount_sum(horizon: int, gamma: float) -> float:
    """sum_{t<H} gamma^t: the number of (discounted) rewards an H-step return adds up."""
    return float(horizon) if gamma == 1.0 else (1.0 - gamma**horizon) / (1.0 - gamma)


def batch_return_gradients(
    return_fn: ReturnFn,
    params: list[torch.Tensor],
    starts: torch.Tensor,
    horizon: int,
    n_batches: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of the mean H-step return w.r.t. ``params``, flattened to P entries.

    One batched rollout of all start states (B, obs_dim) (so TSinf spreads the B starts
    evenly over the elites and each start draws its own noise), then one backward pass per
    batch of ``starts.tensor_split(n_batches)`` (consecutive, sizes differ by at most 1).
    Returns the gradient of the mean over all starts (P,) and g_k, that of each batch's
    mean (K, P), K = min(n_batches, B), both float64; parameters the return does not
    depend on get zeros. A start whose rollout is non-finite makes every batch's gradient
    non-finite (inf * 0 in the shared weight gradients), as it would BPTT's.
    """
    groups = torch.arange(starts.shape[0], device=starts.device).tensor_split(
        min(n_batches, starts.shape[0])
    )
    sums = []
    with torch.enable_grad():
        returns = return_fn(starts, horizon)  # (B,)
        for k, idx in enumerate(groups):
            total = returns[idx].sum()
            grads = [None] * len(params)
            if total.requires_grad:
                last = k == len(groups) - 1
                grads = torch.autograd.grad(total, params, retain_graph=not last,
                                            allow_unused=True)  # fmt: skip
            flat = [(torch.zeros_like(p) if g is None else g).reshape(-1)
                    for g, p in zip(grads, params, strict=True)]  # fmt: skip
            sums.append(torch.cat(flat).double())
    per_batch_sum = torch.stack(sums)  # (K, P)
    sizes = torch.tensor([len(idx) for idx in groups], dtype=torch.float64, device=starts.device)
    return per_batch_sum.sum(0) / starts.shape[0], per_batch_sum / sizes[:, None]


def gradient_snr(batch_grads: torch.Tensor) -> float:
    """SNR = ||g|| / sqrt(mean_k ||g_k - g||^2), g = mean_k g_k, of K batch gradients (K, P).

    Not squared. Identical nonzero batches give inf; K < 2, any non-finite entry, or all
    batches zero give NaN. For K batches of zero-mean noise, SNR ~ 1 / sqrt(K - 1).
    """
    grads = batch_grads.double()
    if grads.shape[0] < 2 or not bool(torch.isfinite(grads).all()):
        return float("nan")
    mean = grads.mean(0)
    signal = float(torch.linalg.vector_norm(mean))
    spread = math.sqrt(float(((grads - mean) ** 2).sum(1).mean()))
    if spread == 0.0:
        return float("inf") if signal > 0.0 else float("nan")
    return signal / spread


def closed_loop_jacobian(
    dynamics: Dynamics, policy: TorchPolicy, states: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One closed-loop step s' = f(s, pi(s)) of states (B, obs_dim): the next states
    (B, obs_dim), detached, and per state the Jacobian d s' / d s = df/ds + df/da dpi/ds
    (B, obs_dim, obs_dim), by one reverse pass per output dimension (rows are independent
    across the batch, so the gradient of a column's sum gives every state's row at once)."""
    dim = states.shape[1]
    s = states.detach().requires_grad_(True)
    with torch.enable_grad():
        nxt = dynamics(s, policy(s))
        if not nxt.requires_grad:  # f ignores s: zero Jacobian
            return nxt.detach(), states.new_zeros(states.shape[0], dim, dim)
        rows = []
        for i in range(dim):
            (row,) = torch.autograd.grad(nxt[:, i].sum(), s, retain_graph=i < dim - 1,
                                         allow_unused=True)  # fmt: skip
            rows.append(torch.zeros_like(s) if row is None else row)
    return nxt.detach(), torch.stack(rows, 1)


def closed_loop_log_sigma1(
    dynamics: Dynamics,
    policy: TorchPolicy,
    starts: torch.Tensor,
    horizons: Sequence[int],
    termination_fn: TerminationFn | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log sigma_1(d s_H / d s_0) along the closed loop s_{t+1} = f(s_t, pi(s_t)) from each
    start (B, obs_dim), for each H in ``horizons`` (all >= 1).

    The tangent matrix J_t (B, obs_dim, obs_dim) is propagated step by step in float64,
    J_{t+1} = (d s_{t+1} / d s_t) J_t, divided by its Frobenius norm after each step (the log
    of which is accumulated), so sigma_1 = exp(log scale) * ||J||_2 cannot overflow.

    Returns ``log_sigma1`` (n_H, B) float64, NaN where ``finite`` is False; ``finite``
    (n_H, B) bool: no non-finite state, Jacobian or scale (nor an exactly-zero product, whose
    log would be -inf) up to H; ``alive`` (n_H, B) bool: ``termination_fn`` did not fire on
    s_1 .. s_H (always True without one). A start is propagated on after either event
    (its numbers are then not used), from its last finite state.
    """
    batch, dim = starts.shape
    wanted = set(horizons)
    eye = torch.eye(dim, dtype=torch.float64, device=starts.device).expand(batch, dim, dim)
    product = eye.clone()
    log_scale = torch.zeros(batch, dtype=torch.float64, device=starts.device)
    finite = torch.ones(batch, dtype=torch.bool, device=starts.device)
    alive = torch.ones(batch, dtype=torch.bool, device=starts.device)
    state = starts.detach()
    found: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
    for t in range(1, max(wanted) + 1):
        nxt, jac = closed_loop_jacobian(dynamics, policy, state)
        product = jac.double() @ product
        scale = torch.linalg.matrix_norm(product)  # Frobenius, (B,)
        finite = finite & torch.isfinite(scale) & (scale > 0) & torch.isfinite(nxt).all(-1)
        safe = torch.where(finite, scale, torch.ones_like(scale))
        log_scale = log_scale + torch.where(finite, safe.log(), torch.zeros_like(safe))
        product = torch.where(finite[:, None, None], product / safe[:, None, None], eye)
        if termination_fn is not None:
            alive = alive & ~termination_fn(nxt).reshape(batch).bool()
        state = torch.where(finite[:, None], nxt, state)
        if t in wanted:
            log_sigma = log_scale + torch.linalg.matrix_norm(product, ord=2).log()
            nan = torch.full_like(log_sigma, float("nan"))
            found[t] = (torch.where(finite, log_sigma, nan), finite.clone(), alive.clone())
    log_sigma1, finite_h, alive_h = (np.stack([found[h][i].cpu().numpy() for h in horizons])
                                     for i in range(3))  # fmt: skip
    return log_sigma1, finite_h, alive_h


def ftle_fit(
    horizons: np.ndarray, median_log_sigma1: np.ndarray, n_used: np.ndarray, n_starts: int
) -> tuple[float, float, float, int]:
    """Finite-time Lyapunov exponent: least-squares slope (per step) of the median
    log sigma_1 (n_H,) vs H (n_H,), over the horizons whose median is finite and uses at
    least ``FTLE_MIN_FRACTION`` of the ``n_starts`` starts (``n_used`` (n_H,)). Returns
    (slope, first H, last H, number of horizons fitted); NaNs with fewer than 2 horizons."""
    keep = np.isfinite(median_log_sigma1) & (n_used >= max(1.0, FTLE_MIN_FRACTION * n_starts))
    h, y = np.asarray(horizons, dtype=float)[keep], np.asarray(median_log_sigma1)[keep]
    if len(np.unique(h)) < 2:
        return float("nan"), float("nan"), float("nan"), int(keep.sum())
    return float(np.polyfit(h, y, 1)[0]), float(h.min()), float(h.max()), int(keep.sum())


def gradient_diagnostics(
    return_fn: ReturnFn,
    params: list[torch.Tensor],
    dynamics: Dynamics,
    policy: TorchPolicy,
    starts: torch.Tensor,
    horizons: Sequence[int],
    gamma: float = GAMMA,
    n_batches: int = SNR_BATCHES,
    termination_fn: TerminationFn | None = None,
) -> tuple[list[tuple], dict]:
    """Per H (all >= 1), one row of ``GRADIENT_DIAGNOSTICS_COLUMNS`` (see the module
    docstring), the same model, policy and start states (B, obs_dim) for every H; and the
    FTLE fit as a dict (``ftle``, ``ftle_h_min``, ``ftle_h_max``, ``ftle_n_horizons``,
    ``grad_norm_per_discount_loglog_slope_vs_H``) for ``summary.csv``.

    ``return_fn`` gives the differentiable H-step returns (B,) (w.r.t. ``params``);
    ``dynamics`` and ``policy`` the closed loop whose Jacobian product is measured.
    """
    n_starts = starts.shape[0]
    if not horizons:
        return [], {"ftle": float("nan"), "ftle_h_min": float("nan"), "ftle_h_max": float("nan"),
                    "ftle_n_horizons": 0,
                    "grad_norm_per_discount_loglog_slope_vs_H": float("nan")}  # fmt: skip
    log_sigma1, finite, alive = closed_loop_log_sigma1(dynamics, policy, starts, horizons,
                                                       termination_fn)  # fmt: skip
    rows = []
    for i, horizon in enumerate(horizons):
        full, per_batch = batch_return_gradients(return_fn, params, starts, horizon, n_batches)
        grad_norm = float(torch.linalg.vector_norm(full))
        used = log_sigma1[i][finite[i] & alive[i]]
        with warnings.catch_warnings():  # no start used: NaN, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            mean_log, median_log = float(np.mean(used)), float(np.median(used))
        rows.append((horizon, grad_norm, grad_norm / discount_sum(horizon, gamma),
                     gradient_snr(per_batch), per_batch.shape[0],
                     int((~torch.isfinite(per_batch).all(1)).sum()), mean_log, median_log,
                     n_starts, int((~finite[i]).sum()),
                     int((finite[i] & ~alive[i]).sum())))  # fmt: skip
    h = np.array([r[0] for r in rows], dtype=float)
    slope, h_min, h_max, n_fit = ftle_fit(h, np.array([r[7] for r in rows]),
                                          (finite & alive).sum(1), n_starts)  # fmt: skip
    per_discount = np.array([r[2] for r in rows])
    ok = np.isfinite(per_discount) & (per_discount > 0)
    loglog = (float(np.polyfit(np.log10(h[ok]), np.log10(per_discount[ok]), 1)[0])
              if len(np.unique(h[ok])) >= 2 else float("nan"))  # fmt: skip
    return rows, {"ftle": slope, "ftle_h_min": h_min, "ftle_h_max": h_max,
                  "ftle_n_horizons": n_fit,
                  "grad_norm_per_discount_loglog_slope_vs_H": loglog}  # fmt: skip


def common_random_return(
    model: GaussianEnsemble,
    termination_fn: TerminationFn,
    policy: TorchPolicy,
    seed: int,
    gamma: float = GAMMA,
) -> ReturnFn:
    """The differentiable H-step model return per start (``model_return``: TSinf, sampled,
    as BPTT's loss), with common random numbers across calls: each call rolls out from a
    generator seeded ``seed``, so for the same start states every H draws the same elites
    and noise, and the H-step rollout is the first H steps of any longer one."""

    def h_step_return(starts: torch.Tensor, horizon: int) -> torch.Tensor:
        generator = torch.Generator(device=starts.device).manual_seed(seed)
        return model_return(ModelEnv(model, termination_fn, generator), policy, starts,
                            horizon, gamma)  # fmt: skip

    return h_step_return


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
            value = model_return(model_env, policy, start.unsqueeze(0), horizon, GAMMA).sum()
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

    # (c) after (b), on its own generators, so gradient_norm.csv is unchanged by it
    mean_env = ModelEnv(model, spec.termination_fn)

    def mean_step(states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return mean_env.step(states, actions, mode="mean", sample=False).next_obs

    h_step_return = common_random_return(model, spec.termination_fn, policy, seed + 1, GAMMA)
    used_horizons = [r[0] for r in grad_rows]
    diag_rows, ftle = gradient_diagnostics(h_step_return, params, mean_step, policy, starts,
                                           used_horizons, GAMMA, SNR_BATCHES,
                                           spec.termination_fn)  # fmt: skip
    atomic_write_text(out / "gradient_diagnostics.csv",
                      csv_text(GRADIENT_DIAGNOSTICS_COLUMNS, diag_rows))  # fmt: skip
    summary = {"env": env_id, "seed": seed, "growth_rate_per_step": growth_rate(median_log),
               "grad_norm_loglog_slope_vs_H": float(slope), **ftle}  # fmt: skip
    atomic_write_text(out / "summary.csv", csv_text(list(summary), [list(summary.values())]))
    return summary
