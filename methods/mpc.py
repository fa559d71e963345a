"""MPC with a learned probabilistic ensemble (PETS, Chua et al. 2018), or with the simulator.

At every real step an optimiser searches action sequences of length ``horizon``; each
candidate is scored by the mean return of ``particles`` TSinf trajectories through the
ensemble (learned reward, the env's termination function), the whole population x particles
batch stepping at once, each candidate's particles shared out equally over the elites as
PETS does (``propagation``: TS1, or ``mean`` for one trajectory through the elites' mean
prediction, PETS's expectation propagation). The first action is executed, and the search's
mean, shifted by one step, warm-starts the next search. Optimisers: random shooting
(``rs``), CEM (``cem``, ``iterations`` rounds refitting a Gaussian to the ``cem_elites``
best, smoothed by ``smoothing``, sampled truncated at +-2 std as PETS) and iCEM (``icem``,
Pinneri et al. 2020). ``oracle: true``
scores candidates on copies of the true simulator instead (the perfect-model upper bound;
cheap envs only). The model is retrained at the end of every real episode on all data.
Planning time per action (until the action is on the host) goes to timings.csv. On CUDA
the search of ``cem`` and ``rs`` is captured once as a CUDA graph and replayed per action
(``cuda_graphs``; see ``methods/common/cuda_graph.py``).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from methods.common.buffer import ReplayBuffer
from methods.common.cuda_graph import CapturedFunction, graphs_available
from methods.common.dynamics import ModelSettings, ModelTrainer, build_model
from methods.common.envs import EnvSpec
from methods.common.errors import UserError, require_positive
from methods.common.model_env import ModelEnv
from methods.common.oracle import make_oracle
from methods.common.training import RunContext, RunSettings, run_loop

OPTIMISERS = ("cem", "rs", "icem")
Objective = Callable[[torch.Tensor], torch.Tensor]
"""Scores action sequences (P, H, act_dim) -> returns (P,)."""


@dataclass
class Config(RunSettings, ModelSettings):
    """MPC settings: run budget + model + planner (PETS defaults)."""

    optimiser: str = "cem"  # cem | rs | icem
    horizon: int = 30
    population: int = 500
    cem_elites: int = 50
    iterations: int = 5  # CEM refits (rs: one round of population candidates)
    smoothing: float = 0.1  # new = smoothing * old + (1 - smoothing) * elite statistics
    init_std: float = 0.5  # initial sampling std in the [-1, 1] action space
    particles: int = 20  # TSinf particles per candidate
    propagation: str = "TSinf"  # PETS's particle propagation: TSinf, TS1, or mean (P-E: one
    #                             deterministic trajectory through the elites' mean prediction)
    oracle: bool = False  # score candidates with the true simulator (no model)
    planning_precision: str = "fp32"  # bf16: the model's matmuls in bfloat16 while planning
    # (autocast; returns summed in fp32): 0.37-0.48x the planning time on an AVX512-BF16 CPU
    cuda_graphs: bool = True  # on CUDA, replay each action's whole search (cem, rs) as one
    # captured CUDA graph instead of hundreds of small kernel launches (no effect on CPU)
    noise_beta: float = 2.0  # iCEM: colored-noise exponent (0 = white noise as CEM)
    population_decay: float = 1.25  # iCEM: population shrinks by this factor per iteration
    keep_elites: float = 0.3  # iCEM: fraction of elites carried to the next iteration / step
    icem_execute: str = "best"  # iCEM: execute the last iteration's best candidate (the
    #        paper) or the final mean (as CEM; robust where many plans tie, e.g. +1 per step)
    eval_episodes: int = 1
    random_steps: int = 200

    def validate(self, spec: EnvSpec) -> None:
        RunSettings.validate(self, spec)
        self.validate_model()
        if self.icem_execute not in ("best", "mean"):
            raise UserError(f"'icem_execute' must be 'best' or 'mean', got {self.icem_execute!r}")
        if self.optimiser not in OPTIMISERS:
            raise UserError(f"'optimiser' must be one of {OPTIMISERS}, got {self.optimiser!r}")
        require_positive(self, "horizon", "population", "cem_elites", "iterations", "particles")
        if self.propagation not in PLANNING_MODES:
            raise UserError(f"'propagation' must be one of {PLANNING_MODES}, got "
                            f"{self.propagation!r}")  # fmt: skip
        if self.planning_precision not in PRECISIONS:
            raise UserError(f"'planning_precision' must be one of {PRECISIONS}, got "
                            f"{self.planning_precision!r}")  # fmt: skip
        if self.cem_elites > self.population:
            raise UserError("'cem_elites' cannot exceed 'population'")
        if not 0.0 <= self.smoothing < 1.0:
            raise UserError(f"'smoothing' must be in [0, 1), got {self.smoothing}")
        if self.oracle and spec.family == "gym" and spec.env_id not in ORACLE_ENVS:
            raise UserError(f"the oracle planner supports {', '.join(ORACLE_ENVS)} only")


PLANNING_MODES = ("TSinf", "TS1", "mean")
PRECISIONS = ("fp32", "bf16")
ORACLE_ENVS = ("gym-Pendulum-v1", "gym-InvertedPendulum-v5", "dmc-cartpole-swingup")
ROLES = ("train", "eval")


@dataclass
class WarmStart:
    """What the planner carries from one action to the next within an episode: the last
    search's mean (H, A; cem: the executed plan, icem: its final sampling mean), shifted to
    warm-start the next search, and iCEM's kept elites (K, H, A).
    Training and evaluation episodes each have their own, so an evaluation neither starts
    from the training episode's plan nor leaves its own plan to the training episode."""

    plan: torch.Tensor
    carried: torch.Tensor | None = None

    def reset(self) -> None:
        self.plan.zero_()
        self.carried = None


TRUNCATION = 2.0  # samples are a normal truncated at +-2 std (PETS: truncnorm(-2, 2))


def truncated_normal(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device | str
) -> torch.Tensor:
    """Standard normal samples truncated to [-2, 2] (``shape``), by the inverse CDF of
    uniforms from ``generator``: no point masses at the cut, and one kernel chain that a
    CUDA graph can capture."""
    u = torch.rand(shape, device=device, generator=generator)
    edge = math.erf(TRUNCATION / math.sqrt(2.0))  # P(|z| < 2)
    z = math.sqrt(2.0) * torch.erfinv((2.0 * u - 1.0) * edge)
    return z.clamp(-TRUNCATION, TRUNCATION)  # float rounding only


def cem_search(
    objective: Objective,
    init_mean: torch.Tensor,
    population: int,
    elites: int,
    iterations: int,
    smoothing: float,
    init_std: float,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy method over sequences in [-1, 1], as PETS: ``init_mean`` (H, A) -> the
    final mean and running std (H, A).

    Each iteration samples a normal truncated at +-2 std around the mean, with the std
    bounded by half the distance to the nearer action bound (so samples stay within the
    bounds). The bound applies to sampling only: the running variance is smoothed from the
    elites' variance, ``var = smoothing * var + (1 - smoothing) * var(elites)``.
    """
    mean = init_mean.clone()
    var = torch.full_like(mean, init_std**2)
    for _ in range(iterations):
        bound = torch.minimum(mean + 1.0, 1.0 - mean) / TRUNCATION
        std = torch.minimum(var.sqrt(), bound.clamp_min(1e-3))  # the sampling std only
        noise = truncated_normal((population, *mean.shape), generator, mean.device)
        candidates = (mean + std * noise).clamp(-1.0, 1.0)  # (P, H, A); clamp: the 1e-3 floor
        scores = objective(candidates)
        best = candidates[torch.topk(scores, elites).indices]
        mean = smoothing * mean + (1 - smoothing) * best.mean(0)
        var = smoothing * var + (1 - smoothing) * best.var(0, unbiased=False)
    return mean, var.sqrt()


def cem(
    objective: Objective,
    init_mean: torch.Tensor,
    population: int,
    elites: int,
    iterations: int,
    smoothing: float,
    init_std: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``cem_search``'s final mean (H, A): the plan CEM executes (as PETS)."""
    return cem_search(objective, init_mean, population, elites, iterations, smoothing, init_std,
                      generator)[0]  # fmt: skip


def colored_noise(beta: float, shape: tuple[int, int, int], generator, device) -> torch.Tensor:
    """Unit-variance noise (P, H, A) whose power spectrum along H falls as 1 / f^beta."""
    population, horizon, act_dim = shape
    freqs = torch.fft.rfftfreq(horizon, device=device)
    freqs[0] = freqs[1] if horizon > 1 else 1.0
    scale = freqs ** (-beta / 2)
    size = (population, act_dim, freqs.shape[0])
    spectrum = torch.complex(
        torch.randn(size, device=device, generator=generator) * scale,
        torch.randn(size, device=device, generator=generator) * scale,
    )
    signal = torch.fft.irfft(spectrum, n=horizon).transpose(1, 2)
    return signal / signal.std().clamp_min(1e-8)


class ICEMResult(NamedTuple):
    """What one iCEM search returns."""

    plan: torch.Tensor  # (H, A) the sequence to execute
    mean: torch.Tensor  # (H, A) the final sampling mean (the next step's warm start)
    carried: torch.Tensor  # (K, H, A) the best elites, to be carried to the next step
    scored: int  # candidates scored


def icem(
    objective: Objective,
    init_mean: torch.Tensor,
    population: int,
    elites: int,
    iterations: int,
    smoothing: float,
    init_std: float,
    generator: torch.Generator | None = None,
    beta: float = 2.0,
    decay: float = 1.25,
    keep_fraction: float = 0.3,
    carried: torch.Tensor | None = None,
    execute: str = "best",
) -> ICEMResult:
    """Improved CEM (Pinneri et al. 2020; martius-lab/iCEM) from ``init_mean`` (H, A):
    colored-noise samples, a population decaying by ``decay`` per iteration, the best
    ``int(keep_fraction * elites)`` elites re-scored in the next iteration (and ``carried``
    (K, H, A) from the previous step, already shifted by the caller, in the first), the mean
    added in the last iteration. Executes the best candidate of the **last** iteration's
    scoring (``execute="best"``, the paper: an earlier iteration's best is a noisy score
    that was not confirmed) or the final mean (``"mean"``, as CEM)."""
    mean = init_mean.clone()
    std = torch.full_like(mean, init_std)
    kept, scored = carried, 0
    n_keep = max(1, int(keep_fraction * elites))
    elite_set = best = mean
    for it in range(iterations):
        n = max(int(population * decay ** (-it)), 2 * elites)
        noise = colored_noise(beta, (n, *mean.shape), generator, mean.device)
        candidates = (mean + std * noise.clamp(-2.0, 2.0)).clamp(-1.0, 1.0)
        if kept is not None:
            candidates = torch.cat([candidates, kept[:n_keep]])
        if it == iterations - 1:
            candidates = torch.cat([candidates, mean.unsqueeze(0)])
        scores = objective(candidates)
        scored += candidates.shape[0]
        order = torch.topk(scores, min(elites, candidates.shape[0])).indices  # best first
        elite_set = kept = candidates[order]
        best = elite_set[0]  # the last iteration's is executed
        mean = smoothing * mean + (1 - smoothing) * elite_set.mean(0)
        std = smoothing * std + (1 - smoothing) * elite_set.std(0, unbiased=False)
    plan = mean if execute == "mean" else best
    return ICEMResult(plan, mean, elite_set[:n_keep], scored)


def shift_icem(
    mean: torch.Tensor, carried: torch.Tensor | None, init_std: float, generator
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """iCEM's warm start for the next step (the paper): the mean (H, A) shifted by one step
    with its last action repeated, and the carried elites (K, H, A) shifted by one step,
    each ending with a fresh action drawn from N(that last mean action, ``init_std``)
    (the sampling distribution's last step; white noise), clipped to the action bounds."""
    mean = torch.cat([mean[1:], mean[-1:]])
    if carried is None:
        return mean, None
    noise = torch.randn((carried.shape[0], 1, carried.shape[2]), device=carried.device,
                        generator=generator)  # fmt: skip
    last = (mean[-1] + init_std * noise).clamp(-1.0, 1.0)
    return mean, torch.cat([carried[:, 1:], last], 1)


def random_shooting(
    objective: Objective, horizon: int, act_dim: int, population: int, generator, device
) -> torch.Tensor:
    """The best of ``population`` uniform random sequences: (H, A)."""
    candidates = torch.rand((population, horizon, act_dim), device=device, generator=generator)
    candidates = candidates * 2 - 1
    return candidates[torch.argmax(objective(candidates))]


class MPCAgent:
    """Plans every action; the model is refit at every episode end."""

    checkpoint_exclude = ("real_env", "eval_env", "simulator", "_captured")  # rebuilt on resume

    def __init__(self, ctx: RunContext, cfg: Config):
        self.ctx, self.cfg = ctx, cfg
        self.device = ctx.device
        self.gen = ctx.seeds.torch_gen["explore"]
        self.model = build_model(cfg, ctx.obs_dim, ctx.act_dim, ctx.device)
        self._trainer: ModelTrainer | None = None  # built at the first fit (see ``trainer``)
        self.model_env = ModelEnv(self.model, ctx.spec.termination_fn,
                                  ctx.seeds.torch_gen["rollout"])  # fmt: skip
        self.model_env.count_guards = False  # nobody reads them (and a graph must not chain them)
        self.model_trained = cfg.oracle
        self.warm = {role: WarmStart(torch.zeros(cfg.horizon, ctx.act_dim, device=ctx.device))
                     for role in ROLES}  # fmt: skip
        self.simulator = make_oracle(ctx.env_id) if cfg.oracle else None
        self.real_env = self.eval_env = None  # given by the loop (attach_envs)
        self.buffer: ReplayBuffer | None = None
        self.stats: dict[str, list[float]] = {}
        self.timings: dict[str, float] = {}
        self.plan_ms: list[float] = []
        self.pending_fit = False
        self.use_graph = (cfg.cuda_graphs and not cfg.oracle and cfg.optimiser != "icem"
                          and graphs_available(ctx.device))  # fmt: skip
        self._captured: CapturedFunction | None = None  # built at the first planned action

    @property
    def trainer(self) -> ModelTrainer:
        """Built on first use: creating a torch optimizer imports torch._dynamo (~70 MiB of
        resident memory in torch 2.13), which a planner that never refits (the oracle, the
        planning benchmarks) does not need."""
        if self._trainer is None:
            self._trainer = ModelTrainer(self.model, self.cfg, self.ctx.seeds.torch_gen["model"])
        return self._trainer

    # ----- scoring -----
    def model_particles(self) -> int:
        """Trajectories per candidate: one for the deterministic ``mean`` propagation."""
        return 1 if self.cfg.propagation == "mean" else self.cfg.particles

    @torch.no_grad()
    def model_returns(self, obs: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """(P, H, A) -> (P,) mean return over particles (one trajectory with ``mean``)."""
        pop, horizon, _ = candidates.shape
        particles = self.model_particles()
        actions = candidates.repeat_interleave(particles, dim=0).transpose(0, 1)
        starts = obs.expand(pop * particles, -1)
        bf16 = self.cfg.planning_precision == "bf16"
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            ro = self.model_env.rollout(
                starts,
                horizon,
                actions=actions,
                mode=self.cfg.propagation,
                fields=("reward", "valid"),
                particles=None if self.cfg.propagation == "mean" else particles,
            )
        returns = (ro.reward.float() * ro.valid).sum(0).view(pop, particles).mean(1)
        return torch.nan_to_num(returns, nan=-1e6, posinf=-1e6, neginf=-1e6)

    def fixed_candidates(self) -> int:
        """Candidates cem (population x iterations) or rs (population) scores per action."""
        cfg = self.cfg
        return cfg.population * (cfg.iterations if cfg.optimiser == "cem" else 1)

    def warm_start(self, memory: WarmStart) -> torch.Tensor:
        """The next search's initial mean (H, A) from ``memory``'s last mean, shifted by one
        step: cem pads with a zero action (PETS), icem repeats the last one (iCEM)."""
        if self.cfg.optimiser == "icem":
            return shift_icem(memory.plan, None, self.cfg.init_std, self.gen)[0]
        return torch.cat([memory.plan[1:], torch.zeros_like(memory.plan[:1])])

    def optimise(
        self, objective: Objective, warm: torch.Tensor, memory: WarmStart | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """The configured optimiser's sequence to execute (H, A) for ``objective``,
        warm-started at ``warm`` (H, A), the mean that warm-starts the next step (H, A; cem
        and rs: the same sequence), and how many candidates it scored. iCEM also updates the
        elites it carries to the next step in ``memory`` (default: the training episode's),
        shifting them here (``shift_icem``)."""
        cfg = self.cfg
        if cfg.optimiser == "cem":
            plan = cem(objective, warm, cfg.population, cfg.cem_elites, cfg.iterations,
                       cfg.smoothing, cfg.init_std, self.gen)  # fmt: skip
            return plan, plan, self.fixed_candidates()
        if cfg.optimiser == "rs":
            plan = random_shooting(objective, cfg.horizon, self.ctx.act_dim, cfg.population,
                                   self.gen, self.device)  # fmt: skip
            return plan, plan, self.fixed_candidates()
        memory = self.warm["train"] if memory is None else memory
        carried = None
        if memory.carried is not None:
            _, carried = shift_icem(memory.plan, memory.carried, cfg.init_std, self.gen)
        result = icem(
            objective, warm, cfg.population, cfg.cem_elites, cfg.iterations, cfg.smoothing,
            cfg.init_std, self.gen, cfg.noise_beta, cfg.population_decay, cfg.keep_elites,
            carried, cfg.icem_execute,
        )  # fmt: skip
        memory.carried = result.carried
        return result.plan, result.mean, result.scored

    def search(self, obs_t: torch.Tensor, warm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Plan through the model from ``obs_t`` (1, obs_dim), warm-started at ``warm``
        (H, A): the plan (H, A) and its score (). With cem or rs this is pure tensor work
        (capturable as a CUDA graph)."""
        objective = lambda c: self.model_returns(obs_t, c)  # noqa: E731
        plan, _, _ = self.optimise(objective, warm)
        return plan, objective(plan.unsqueeze(0))[0]

    def captured_search(self) -> CapturedFunction:
        """``search`` as one CUDA graph, captured at first use. The model's parameters,
        normalisers and elite index are updated in place by refits, so one capture serves
        the whole run."""
        if self._captured is None:
            self._captured = CapturedFunction(
                self.search,
                (torch.zeros(1, self.ctx.obs_dim, device=self.device), self.warm["train"].plan),
                generators=(self.gen, self.model_env.generator),
            )
        return self._captured

    def try_capture(self) -> CapturedFunction | None:
        """The captured search, or None (planning goes on eagerly, said once on stderr) where
        this torch or GPU cannot capture it."""
        try:
            return self.captured_search()
        except RuntimeError as err:
            self.use_graph, self._captured = False, None
            print(f"warning: the planner's CUDA graph capture failed, planning eagerly: {err}",
                  file=sys.stderr)  # fmt: skip
            return None

    def plan_action(self, obs: np.ndarray, env=None, role: str = "train") -> np.ndarray:
        """The first action of a plan from ``obs``, warm-started from the ``role``'s episode
        (``train`` or ``eval``); ``env`` is the real env the oracle copies its state from."""
        start = time.perf_counter()
        cfg = self.cfg
        memory = self.warm[role]
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device).unsqueeze(0)
        warm = self.warm_start(memory)
        if self.use_graph and (captured := self.try_capture()) is not None:
            plan, planned = captured(obs_t, warm)
            memory.plan = plan = plan.clone()
            scored = self.fixed_candidates()
        else:
            if self.simulator is not None:
                self.simulator.sync(env)
                objective = self.simulator.returns
            else:
                objective = lambda c: self.model_returns(obs_t, c)  # noqa: E731
            plan, memory.plan, scored = self.optimise(objective, warm, memory)
            planned = objective(plan.unsqueeze(0))[0]
        action, planned = plan[0].cpu().numpy(), float(planned)  # waits for the GPU
        self.plan_ms.append(1000.0 * (time.perf_counter() - start))
        particles = 1 if self.simulator is not None else self.model_particles()
        self.stats.setdefault("mpc/model_evals_per_action", []).append(
            float(scored * particles * cfg.horizon)
        )
        self.stats.setdefault("mpc/planned_return", []).append(planned)  # the executed plan's
        return action

    # ----- loop hooks -----
    def attach_envs(self, env, eval_env) -> None:
        self.real_env, self.eval_env = env, eval_env

    def act(self, obs: np.ndarray) -> np.ndarray:
        if not self.model_trained:
            return self.ctx.seeds.numpy_gen.uniform(-1, 1, self.ctx.act_dim).astype(np.float32)
        return self.plan_action(obs, self.real_env)

    def eval_act(self, obs: np.ndarray) -> np.ndarray:
        return self.plan_action(obs, self.eval_env, "eval")

    def on_eval_reset(self, obs: np.ndarray) -> None:
        self.warm["eval"].reset()

    def on_reset(self, obs: np.ndarray) -> None:
        self.warm["train"].reset()
        if self.pending_fit and self.buffer is not None and not self.cfg.oracle:
            stats, seconds = self.trainer.fit(self.buffer)
            for key, value in stats.items():
                self.stats.setdefault(key, []).append(value)
            self.timings["time/model_train_s"] = self.timings.get("time/model_train_s", 0.0) \
                + seconds  # fmt: skip
            self.model_trained = True
        self.pending_fit = False

    def after_step(self, step: int, buffer: ReplayBuffer) -> None:
        self.buffer = buffer
        if step >= self.cfg.random_steps:
            self.pending_fit = True  # refit at the next episode start

    def pop_metrics(self) -> tuple[dict[str, float], dict[str, float]]:
        metrics = {k: float(np.mean(v)) for k, v in self.stats.items()}
        timings = dict(self.timings)
        if self.plan_ms:
            timings["time/plan_ms_per_action"] = float(np.mean(self.plan_ms))
        self.stats, self.timings, self.plan_ms = {}, {}, []
        return metrics, timings

    def predicted_return(self, start_obs: np.ndarray) -> float | None:
        return None

    def checkpoints(self) -> dict[str, Any]:
        return {} if self.cfg.oracle else {"model.pt": self.model.state_dict()}


def train(cfg: Config, ctx: RunContext) -> None:
    """Run MPC for ``cfg.env_steps`` real steps."""
    run_loop(ctx, cfg, MPCAgent(ctx, cfg))
