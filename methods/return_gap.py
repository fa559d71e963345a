"""Return gap vs horizon: one policy evaluated in its learned model and in the real env.

    python -m methods.return_gap --run RUN_DIR --out FILE.csv [--horizons 1,5,15,50,episode] \
        [--starts 50] [--stride 10] [--episodes 5] [--seed 0] [--threads 1] [--device auto]

For a finished model-based run (its ``model.pt`` and its deterministic policy: the SAC
actor's mean action for MBPO/Dyna, the BPTT policy), from the same real start states:

- ``J_model(H)``: the sum of the model's predicted rewards over H steps of the policy acting
  on the model's own predicted states. Propagation is ``mean`` (the mean over the elites'
  predicted means, no sampling: the model's expected dynamics) and there is **no numeric
  state guard** (no out-of-range cut as in MBPO's rollouts, no non-finite cut): the model is
  judged on what it predicts. A rollout ends when the env's ``termination_fn`` fires on a
  predicted state; that step's reward counts, later ones do not. A model state that turns
  non-finite is kept as it is, so its J_model turns NaN or inf (the row shows it), except
  where the env's own termination_fn calls a non-finite state terminal (Hopper, Walker2d,
  Ant, InvertedPendulum): there the rollout ends as at any termination.
- ``J_real(H)``: the sum of the real env's rewards over H steps of the same policy from the
  same simulator state (``set_sim_state`` into a copy reset with the start's episode seed,
  so that per-episode task randomness such as a target position matches), ending at real
  termination (that step's reward counts). The copy's time limit starts afresh, and H is at
  most the episode length, so truncation cannot cut a real rollout short.

Both sums are undiscounted. Start states are real states the policy visits: the policy runs
in the real env for at least ``episodes`` episodes (more until there are ``starts`` states;
reset seeds ``START_SEED_OFFSET + seed * 1000 + episode``, disjoint from training and from
``methods heldout``), recording (simulator state, observation) every ``stride`` steps; then
``starts`` of them are drawn without replacement with ``numpy.random.default_rng(seed)``.

Output: a tidy CSV, one row per start state and horizon, columns ``COLUMNS``:
``start, H, j_model, j_real, gap, abs_gap, real_alive_steps, model_alive_steps`` with
``gap = j_model - j_real`` and ``*_alive_steps`` = the steps of the H taken before and
including termination (H when alive throughout). :func:`gap_by_horizon` summarises it per H.

What it measures: claim 1(a), the H-step return gap |J_model(H) - J_real(H)| that MBPO's
bound is about, and how it grows with H (:func:`gap_growth_exponent`: ~2 if it compounds
as H^2); claim 3, exploitation of long model rollouts: J_model - J_real > 0, growing with
H, larger for Dyna's policies than MBPO's at matched H.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import pandas as pd
import torch

from methods.common.ensemble import GaussianEnsemble
from methods.common.envs import (
    TerminationFn,
    get_sim_obs,
    get_sim_state,
    get_spec,
    make_env,
    set_sim_state,
)
from methods.common.errors import UserError
from methods.common.run_io import atomic_write_text

COLUMNS = ("start", "H", "j_model", "j_real", "gap", "abs_gap", "real_alive_steps",
           "model_alive_steps")  # fmt: skip
SUMMARY_COLUMNS = ("H", "n", "mean_gap", "mean_abs_gap", "median_gap", "real_alive_fraction",
                   "model_alive_fraction", "n_nonfinite")  # fmt: skip
DEFAULT_HORIZONS = "1,5,15,50,episode"
START_SEED_OFFSET = 2 * 10**6  # reset seeds of the start-state episodes
MAX_EPISODES = 1000  # start-state collection gives up after this many episodes

Policy = Callable[[torch.Tensor], torch.Tensor]
"""A deterministic policy: observations (B, obs_dim) -> actions (B, act_dim) in [-1, 1]."""

ModelStep = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""One model step: states (B, obs_dim), actions (B, act_dim) -> next states (B, obs_dim),
rewards (B,)."""


class StartStates(NamedTuple):
    """N real start states: what the real env copies and the model start from."""

    sim_states: np.ndarray  # (N, state_dim) float64: get_sim_state of each start
    obs: np.ndarray  # (N, obs_dim) float32: the observation at each start
    reset_seeds: np.ndarray  # (N,) int64: the reset seed of each start's episode


class Segments(NamedTuple):
    """H_max steps of N rollouts: ``valid[t, n]`` is False after rollout n terminated."""

    reward: np.ndarray  # (H_max, N) float64
    valid: np.ndarray  # (H_max, N) bool


# ----- model side -----
def mean_step(model: GaussianEnsemble) -> ModelStep:
    """The ensemble's ``mean`` propagation (as ``ModelEnv.step(mode="mean")``) without the
    numeric guards: next state = state + mean over elites of the predicted delta, reward =
    mean over elites of the predicted reward. (B, obs_dim), (B, act_dim) -> (B, obs_dim), (B,)."""

    def step(obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, _ = model.predict(obs, act, model.elites)  # (n_elites, B, obs_dim + 1)
        mean = mean.mean(0)
        return obs + mean[:, :-1], mean[:, -1]

    return step


@torch.no_grad()
def model_segments(
    step: ModelStep,
    policy: Policy,
    termination_fn: TerminationFn,
    start_obs: torch.Tensor,
    horizon: int,
) -> Segments:
    """Roll all N starts (N, obs_dim) ``horizon`` steps in one batch, the policy acting on the
    predicted states. A start's rollout ends at the first predicted state on which
    ``termination_fn`` fires (that step stays valid); after it the state is frozen and masked.
    No guard: non-finite or far-out states are kept. Returns rewards and validity (H, N)."""
    obs = start_obs
    alive = torch.ones(obs.shape[0], dtype=torch.bool, device=obs.device)
    rewards, valid = [], []
    for _ in range(horizon):
        next_obs, reward = step(obs, policy(obs))
        rewards.append(reward)
        valid.append(alive)
        alive = alive & ~termination_fn(next_obs)
        obs = torch.where(alive.unsqueeze(-1), next_obs, obs)
    return Segments(torch.stack(rewards).double().cpu().numpy(),
                    torch.stack(valid).cpu().numpy())  # fmt: skip


# ----- real side -----
def numpy_policy(policy: Policy, device: torch.device | str = "cpu") -> Callable:
    """``policy`` on numpy observations (B, obs_dim) -> numpy actions (B, act_dim)."""

    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        return policy(torch.as_tensor(obs, dtype=torch.float32, device=device)).cpu().numpy()

    return act


def collect_starts(
    env: gym.Env,
    act: Callable[[np.ndarray], np.ndarray],
    n_starts: int,
    stride: int,
    seed: int,
    episodes: int,
    max_steps: int,
) -> StartStates:
    """Real states the policy visits: run ``act`` (numpy, batched (B, obs_dim)) in ``env``
    for at least ``episodes`` episodes of at most ``max_steps`` steps (more until the pool
    holds ``n_starts``), record (simulator state, observation) at t = 0, stride, 2 stride, ...
    of each episode, then draw ``n_starts`` of the pool without replacement, seeded."""
    if n_starts < 1 or stride < 1 or episodes < 1:
        raise UserError(
            f"need --starts, --stride and --episodes >= 1, got {n_starts}, {stride}, {episodes}"
        )
    states, observations, seeds = [], [], []
    episode = 0
    while episode < episodes or len(states) < n_starts:
        if episode >= MAX_EPISODES:
            raise UserError(f"{MAX_EPISODES} episodes gave only {len(states)} start states "
                            f"every {stride} steps; lower --stride or --starts")  # fmt: skip
        reset_seed = START_SEED_OFFSET + seed * 1000 + episode
        obs, _ = env.reset(seed=reset_seed)
        for t in range(max_steps):
            if t % stride == 0:
                states.append(get_sim_state(env))
                observations.append(np.asarray(obs, dtype=np.float32).copy())
                seeds.append(reset_seed)
            obs, _, terminated, truncated, _ = env.step(act(obs[None])[0])
            if terminated or truncated:
                break
        episode += 1
    pick = np.sort(np.random.default_rng(seed).choice(len(states), n_starts, replace=False))
    return StartStates(np.stack(states)[pick], np.stack(observations)[pick],
                       np.asarray(seeds, dtype=np.int64)[pick])  # fmt: skip


def real_segments(
    make: Callable[[], gym.Env],
    act: Callable[[np.ndarray], np.ndarray],
    starts: StartStates,
    horizon: int,
) -> tuple[Segments, np.ndarray]:
    """Step one real env copy per start (reset with its episode seed, then its simulator
    state set) ``horizon`` steps, all copies in lockstep and the policy ``act`` batched over
    them. A copy stops at termination (that step valid) or truncation. Returns the rewards
    and validity (H, N) and the observations the copies started from (N, obs_dim)."""
    envs, first = [], []
    for state, reset_seed in zip(starts.sim_states, starts.reset_seeds, strict=True):
        env = make()
        env.reset(seed=int(reset_seed))
        set_sim_state(env, state)
        envs.append(env)
        first.append(np.asarray(get_sim_obs(env), dtype=np.float32))
    obs = np.stack(first)
    n = len(envs)
    reward = np.zeros((horizon, n))
    valid = np.zeros((horizon, n), dtype=bool)
    alive = np.ones(n, dtype=bool)
    for t in range(horizon):
        if not alive.any():
            break
        actions = act(obs)  # (N, act_dim)
        for i in np.flatnonzero(alive):
            next_obs, r, terminated, truncated, _ = envs[i].step(actions[i])
            reward[t, i], valid[t, i] = r, True
            obs[i] = next_obs
            alive[i] = not (terminated or truncated)
    for env in envs:
        env.close()
    return Segments(reward, valid), np.stack(first)


# ----- the table -----
def returns_by_horizon(
    segments: Segments, horizons: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Undiscounted returns and alive steps over the first H steps, for every H in
    ``horizons`` (each <= H_max): both (len(horizons), N)."""
    masked = np.where(segments.valid, segments.reward, 0.0)  # rewards after the end drop out
    index = np.asarray(horizons) - 1
    return np.cumsum(masked, 0)[index], np.cumsum(segments.valid, 0)[index]


def gap_table(real: Segments, model: Segments, horizons: Sequence[int]) -> pd.DataFrame:
    """Tidy table (``COLUMNS``), one row per start and horizon, from real and model
    segments (H_max, N) of the same starts."""
    j_real, real_steps = returns_by_horizon(real, horizons)
    j_model, model_steps = returns_by_horizon(model, horizons)
    n_h, n = j_real.shape
    gap = j_model - j_real
    with np.errstate(invalid="ignore"):
        abs_gap = np.abs(gap)
    table = pd.DataFrame({
        "start": np.tile(np.arange(n), n_h),
        "H": np.repeat(np.asarray(horizons), n),
        "j_model": j_model.ravel(),
        "j_real": j_real.ravel(),
        "gap": gap.ravel(),
        "abs_gap": abs_gap.ravel(),
        "real_alive_steps": real_steps.ravel(),
        "model_alive_steps": model_steps.ravel(),
    })  # fmt: skip
    return table.sort_values(["start", "H"], kind="stable").reset_index(drop=True)


def return_gaps(
    step: ModelStep,
    policy: Policy,
    termination_fn: TerminationFn,
    make: Callable[[], gym.Env],
    starts: StartStates,
    horizons: Sequence[int],
    device: torch.device | str = "cpu",
) -> pd.DataFrame:
    """J_model(H), J_real(H) and their gap for every start and H (see the module doc).

    The model starts from the observations the real copies show after their simulator state
    was set (equal to ``starts.obs`` for a faithful ``set_sim_state``)."""
    horizon = max(horizons)
    real, start_obs = real_segments(make, numpy_policy(policy, device), starts, horizon)
    model = model_segments(step, policy, termination_fn,
                           torch.as_tensor(start_obs, device=device), horizon)  # fmt: skip
    return gap_table(real, model, horizons)


def gap_by_horizon(df: pd.DataFrame) -> pd.DataFrame:
    """Per H (``SUMMARY_COLUMNS``): n finite gaps, mean gap, mean |gap|, median gap, the
    mean fraction of the H steps that the real and the model rollouts stayed alive (over
    all starts), and the number of starts whose gap is not finite (model diverged)."""
    rows = []
    for h, group in df.groupby("H", sort=True):
        finite = group.gap[np.isfinite(group.gap)]
        rows.append((int(h), len(finite),
                     float(finite.mean()) if len(finite) else float("nan"),
                     float(finite.abs().mean()) if len(finite) else float("nan"),
                     float(finite.median()) if len(finite) else float("nan"),
                     float((group.real_alive_steps / h).mean()),
                     float((group.model_alive_steps / h).mean()),
                     len(group) - len(finite)))  # fmt: skip
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def gap_growth_exponent(summary: pd.DataFrame) -> float:
    """Least-squares slope of log mean|gap| vs log H over the horizons of
    :func:`gap_by_horizon`'s table with a positive, finite mean |gap|: ~1 for a gap that
    grows linearly in H, ~2 for one that compounds as H^2; NaN with fewer than 2 points."""
    ok = np.isfinite(summary.mean_abs_gap) & (summary.mean_abs_gap > 0)
    if ok.sum() < 2:
        return float("nan")
    h, gap = summary.H[ok].to_numpy(float), summary.mean_abs_gap[ok].to_numpy(float)
    return float(np.polyfit(np.log(h), np.log(gap), 1)[0])


# ----- a finished run -----
def parse_horizons(text: str, episode_length: int) -> tuple[int, ...]:
    """Comma-separated positive integers or ``episode`` (the env's episode length), each at
    most the episode length; returned sorted without repeats."""
    horizons = set()
    for item in text.split(","):
        item = item.strip()
        try:
            h = episode_length if item == "episode" else int(item)
        except ValueError:
            raise UserError(f"--horizons must be comma-separated integers or 'episode', "
                            f"got {text!r}") from None  # fmt: skip
        if not 1 <= h <= episode_length:
            raise UserError(f"--horizons: {h} is outside 1..{episode_length} (the episode "
                            "length of the run's env)")  # fmt: skip
        horizons.add(h)
    return tuple(sorted(horizons))


def load_run(run_dir: Path, device) -> tuple[str, GaussianEnsemble, torch.nn.Module]:
    """(env id, model, deterministic policy module) of a finished model-based run."""
    from methods.chaos import load_model_and_policy
    from methods.common.checkpoints import run_config

    run_dir = Path(run_dir)
    if not (run_dir / "meta.json").is_file():
        raise UserError(f"--run {run_dir} is not a finished run directory (no meta.json)")
    if not (run_dir / "model.pt").is_file():
        raise UserError(f"run {run_dir} has no model.pt; the return gap needs a model-based "
                        "run (mbpo, dyna or bptt)")  # fmt: skip
    env_id = run_config(run_dir).get("env")
    get_spec(str(env_id))  # an unknown env id is a UserError naming the known ones
    env = make_env(env_id)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    env.close()
    model, policy = load_model_and_policy(run_dir, obs_dim, act_dim, device)
    return env_id, model, policy.eval()


def run_return_gap(
    run_dir: Path,
    horizons: str = DEFAULT_HORIZONS,
    n_starts: int = 50,
    stride: int = 10,
    seed: int = 0,
    episodes: int = 5,
    device: torch.device | str = "cpu",
) -> pd.DataFrame:
    """The return-gap table (``COLUMNS``) of a finished run; user mistakes raise UserError."""
    if seed < 0:
        raise UserError(f"--seed must be >= 0, got {seed}")
    env_id, model, policy = load_run(run_dir, device)
    spec = get_spec(env_id)
    hs = parse_horizons(horizons, spec.episode_length)
    act = numpy_policy(policy, device)
    starts = collect_starts(make_env(env_id), act, n_starts, stride, seed, episodes,
                            spec.episode_length)  # fmt: skip
    return return_gaps(mean_step(model), policy, spec.termination_fn,
                       lambda: make_env(env_id), starts, hs, device)  # fmt: skip


# ----- command line -----
def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the return-gap command (for ``python -m methods return-gap`` too)."""
    parser.add_argument("--run", required=True, help="finished model-based run directory")
    parser.add_argument("--out", required=True, help="output CSV")
    parser.add_argument(
        "--horizons",
        default=DEFAULT_HORIZONS,
        help="comma-separated H values; 'episode' = the env's episode length",
    )
    parser.add_argument("--starts", type=int, default=50, help="real start states")
    parser.add_argument("--stride", type=int, default=10, help="steps between start states")
    parser.add_argument(
        "--episodes", type=int, default=5, help="least number of policy episodes to start from"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda[:N]")
    return parser


def run_from_args(args: argparse.Namespace) -> pd.DataFrame:
    """Run the command for parsed ``args`` and write the CSV atomically; returns the table.
    Raises UserError for mistakes the user can fix."""
    from methods.__main__ import resolve_device

    if args.threads is not None and args.threads <= 0:
        raise UserError(f"--threads must be positive, got {args.threads}")
    device = resolve_device(args.device)
    torch.set_flush_denormal(True)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    table = run_return_gap(Path(args.run), args.horizons, args.starts, args.stride, args.seed,
                           args.episodes, device)  # fmt: skip
    atomic_write_text(Path(args.out), table.to_csv(index=False, float_format="%.10g"))
    return table


def main(argv: list[str] | None = None) -> int:
    """``python -m methods.return_gap ...`` is ``python -m methods return-gap ...``."""
    from methods.__main__ import main as methods_main

    return methods_main(["return-gap", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
