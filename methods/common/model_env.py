"""Batched rollouts through a learned ensemble.

Propagation modes (how a sample picks its ensemble member):
- ``random-member``: a random elite per sample and step (MBPO);
- ``TS1``: members re-drawn each step, balanced across the batch (PETS TS1);
- ``TSinf``: a member fixed per particle for the whole rollout (PETS TSinf);
- ``mean``: the mean over elites, no sampling (expected dynamics).
With ``particles`` (planners: a candidate-major batch of P particles per candidate), TS1 and
TSinf give every candidate an equal share of its particles per elite, as PETS does.
Every step runs one batched forward over members; there is no loop over samples or members.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from methods.common.ensemble import GaussianEnsemble
from methods.common.envs import TerminationFn

PROPAGATION_MODES = ("random-member", "TS1", "TSinf", "mean")

Policy = Callable[[torch.Tensor], torch.Tensor]
"""Maps observations (B, obs_dim) to actions (B, act_dim) in [-1, 1]."""


class StepResult(NamedTuple):
    next_obs: torch.Tensor  # (B, obs_dim)
    reward: torch.Tensor  # (B,)
    done: torch.Tensor  # (B,) bool: the rollout ends here (env termination or a guard)
    disagreement: torch.Tensor | None  # (B,) std across elites' means, normalised units
    terminal: torch.Tensor  # (B,) bool: the env's termination function fired (finite state)


class Rollout(NamedTuple):
    """H steps of B samples. ``valid[t, b]`` is False once sample b terminated before t.

    ``done`` ends a sample's rollout: the env's termination (``terminal``) or a numeric
    guard (non-finite or out-of-range state). A guard's step is a cut, not an env
    termination: ``valid & (terminal | ~done)`` are the transitions worth learning from.
    """

    obs: torch.Tensor  # (H, B, obs_dim)
    act: torch.Tensor  # (H, B, act_dim)
    reward: torch.Tensor  # (H, B)
    next_obs: torch.Tensor  # (H, B, obs_dim)
    done: torch.Tensor  # (H, B) bool
    valid: torch.Tensor  # (H, B) bool
    disagreement: torch.Tensor | None  # (H, B)
    terminal: torch.Tensor  # (H, B) bool


class ModelEnv:
    """Steps batches of states through the ensemble's elites; differentiable unless no_grad."""

    count_guards = True  # False: the guards still act, their counts are not kept (planners)

    def __init__(
        self,
        model: GaussianEnsemble,
        termination_fn: TerminationFn,
        generator: torch.Generator | None = None,
    ):
        self.model = model
        self.termination_fn = termination_fn
        self.generator = generator
        self.state_low: torch.Tensor | None = None
        self.state_high: torch.Tensor | None = None
        self._guard_counts: torch.Tensor | None = None  # (non_finite, out_of_bounds, steps)

    def set_state_bounds(self, real_obs: torch.Tensor, margin: float) -> None:
        """Synthetic states outside [min - margin*span, max + margin*span] of the real
        states (N, obs_dim) end their rollout and are counted (numeric guard)."""
        low, high = real_obs.min(0).values, real_obs.max(0).values
        span = (high - low).clamp_min(1e-6)
        self.state_low, self.state_high = low - margin * span, high + margin * span

    def pop_guard_counts(self) -> dict[str, float]:
        """Fractions of model steps that hit a guard since the last call (one host sync)."""
        if self._guard_counts is None:
            return {}
        non_finite, outside, steps = self._guard_counts.tolist()
        self._guard_counts = None
        steps = max(steps, 1.0)
        return {"rollout/non_finite_fraction": non_finite / steps,
                "rollout/out_of_bounds_fraction": outside / steps}  # fmt: skip

    def _finish(self, obs: torch.Tensor, mean: torch.Tensor, disagreement) -> StepResult:
        """Apply the predicted delta, the env's termination and the numeric guards."""
        next_obs = obs + mean[:, :-1]
        reward = mean[:, -1]
        done = self.termination_fn(next_obs)
        terminal = done
        if not torch.is_grad_enabled():  # guards count and mask in data-generating rollouts
            bad = ~(torch.isfinite(next_obs).all(-1) & torch.isfinite(reward))
            outside = torch.zeros_like(bad)
            if self.state_low is not None:
                outside = ((next_obs < self.state_low) | (next_obs > self.state_high)).any(-1)
                outside = outside & ~bad
            terminal = done & ~bad
            done = done | bad | outside
            if self.count_guards:
                counts = torch.stack(
                    [bad.sum(), outside.sum(), torch.full((), bad.numel(), device=bad.device)]
                ).float()
                self._guard_counts = (
                    counts if self._guard_counts is None else self._guard_counts + counts
                )
            next_obs = torch.where(bad.unsqueeze(-1), obs, next_obs)
            reward = torch.where(bad, torch.zeros_like(reward), reward)
        return StepResult(next_obs, reward, done, disagreement, terminal)

    @property
    def num_elites(self) -> int:
        return self.model.num_elites

    def new_assignment(self, batch: int, device: torch.device) -> torch.Tensor:
        """A balanced random elite slot in [0, num_elites) per sample: (batch,) long."""
        perm = torch.randperm(batch, device=device, generator=self.generator)
        return perm % self.num_elites

    def _noise(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(
            like.shape, device=like.device, dtype=like.dtype, generator=self.generator
        )

    def _predict_all(self, obs, act) -> tuple[torch.Tensor, torch.Tensor]:
        """Every elite on every sample: mean, var (n_elites, B, obs_dim + 1)."""
        return self.model.predict(obs, act, self.model.elites)

    def _predict_assigned(self, obs, act, slot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each sample through its own elite ``slot`` (B,): mean, var (B, obs_dim + 1).

        Balanced slots run grouped (each member sees only its B / n_elites samples).
        """
        batch, n_el = obs.shape[0], self.num_elites
        counts = torch.bincount(slot, minlength=n_el)
        if batch % n_el == 0 and bool((counts == batch // n_el).all()):
            order = torch.argsort(slot, stable=True)
            grouped_obs = obs[order].view(n_el, batch // n_el, -1)
            grouped_act = act[order].view(n_el, batch // n_el, -1)
            mean, var = self.model.predict(grouped_obs, grouped_act, self.model.elites)
            mean, var = mean.reshape(batch, -1), var.reshape(batch, -1)
            inverse = torch.empty_like(order)
            inverse[order] = torch.arange(batch, device=order.device)
            return mean[inverse], var[inverse]
        mean, var = self._predict_all(obs, act)
        rows = torch.arange(batch, device=obs.device)
        return mean[slot, rows], var[slot, rows]

    def step(
        self,
        obs: torch.Tensor,
        act: torch.Tensor,
        mode: str = "random-member",
        slot: torch.Tensor | None = None,
        sample: bool = True,
        with_disagreement: bool = False,
    ) -> StepResult:
        """One model step for (B, obs_dim) states and (B, act_dim) actions.

        ``slot`` (B,) fixes each sample's elite for ``TSinf``; ``sample`` draws from the
        predicted Gaussian (reparameterised, so gradients flow) instead of using its mean.
        """
        if mode not in PROPAGATION_MODES:
            raise ValueError(f"unknown propagation mode {mode!r}; use one of {PROPAGATION_MODES}")
        disagreement = None
        if mode == "mean" or mode == "random-member" or with_disagreement:
            all_mean, all_var = self._predict_all(obs, act)
            if with_disagreement:
                std = self.model.target_norm.std
                disagreement = (all_mean[:, :, :-1] / std[:-1]).std(dim=0, unbiased=False).mean(-1)
        if mode == "mean":
            mean, var = all_mean.mean(0), all_var.mean(0)
            sample = False
        else:
            if mode == "random-member":
                slot = torch.randint(0, self.num_elites, (obs.shape[0],), device=obs.device,
                                     generator=self.generator)  # fmt: skip
            elif mode == "TS1" or slot is None:
                slot = self.new_assignment(obs.shape[0], obs.device)
            if with_disagreement or mode == "random-member":
                rows = torch.arange(obs.shape[0], device=obs.device)
                mean, var = all_mean[slot, rows], all_var[slot, rows]
            else:
                mean, var = self._predict_assigned(obs, act, slot)
        if sample and self.model.probabilistic:
            mean = mean + var.sqrt() * self._noise(mean)
        return self._finish(obs, mean, disagreement)

    def _step_grouped(self, obs: torch.Tensor, act: torch.Tensor, sample: bool) -> StepResult:
        """TSinf step for samples laid out member-major: row j uses elite j // (B / n_elites)."""
        n_el, batch = self.num_elites, obs.shape[0]
        per_member = batch // n_el
        mean, var = self.model.predict(
            obs.view(n_el, per_member, -1), act.view(n_el, per_member, -1), self.model.elites
        )
        mean, var = mean.reshape(batch, -1), var.reshape(batch, -1)
        if sample and self.model.probabilistic:
            mean = mean + var.sqrt() * self._noise(mean)
        return self._finish(obs, mean, None)

    def _member_rotation(self, device: torch.device) -> torch.Tensor:
        """The elites' member indices (E,) rotated by one random offset: slot k -> elite
        (k + r) mod E, so the elites that take a remainder of particles vary per draw."""
        n_el = self.num_elites
        r = torch.randint(0, n_el, (1,), device=device, generator=self.generator)
        return self.model.elites[(torch.arange(n_el, device=device) + r) % n_el]

    def particle_order(self, batch: int, particles: int, device: torch.device) -> torch.Tensor:
        """A fixed permutation (B,) of a candidate-major batch of ``particles`` rows per
        candidate into slot-major order: particle j of every candidate takes slot j mod E.
        The first P - P mod E particles come as E equal groups (slot k: rows with
        j mod E = k), then one group of ``pop`` rows per remaining particle (slots
        0 .. P mod E - 1), so that ``_step_particles`` runs grouped forwards on views."""
        n_el, pop = self.num_elites, batch // particles
        full = particles - particles % n_el
        rows = torch.arange(batch, device=device).view(pop, particles)
        grouped = rows[:, :full].reshape(pop, full // n_el, n_el).permute(2, 0, 1).reshape(-1)
        return torch.cat([grouped, rows[:, full:].t().reshape(-1)])

    def _step_particles(
        self, obs: torch.Tensor, act: torch.Tensor, members: torch.Tensor, particles: int,
        sample: bool,
    ) -> StepResult:  # fmt: skip
        """One step of a batch in ``particle_order``: (B, obs_dim), (B, act_dim); slot k
        runs through member ``members[k]`` (E,). At most two grouped forwards: the balanced
        part (E, B_full / E) and the remainder (P mod E, pop); no gathering."""
        n_el, batch = self.num_elites, obs.shape[0]
        pop, extra = batch // particles, particles % n_el
        split = batch - extra * pop
        parts = []
        if split:
            parts.append((obs[:split].view(n_el, split // n_el, -1),
                          act[:split].view(n_el, split // n_el, -1), members))  # fmt: skip
        if extra:
            parts.append((obs[split:].view(extra, pop, -1), act[split:].view(extra, pop, -1),
                          members[:extra]))  # fmt: skip
        outputs = [self.model.predict(o, a, m) for o, a, m in parts]  # (E', n, out) each
        if len(outputs) == 1:  # views, no copy
            mean, var = (x.reshape(batch, -1) for x in outputs[0])
        else:
            mean = torch.cat([m.reshape(-1, m.shape[-1]) for m, _ in outputs])
            var = torch.cat([v.reshape(-1, v.shape[-1]) for _, v in outputs])
        if sample and self.model.probabilistic:
            mean = mean + var.sqrt() * self._noise(mean)
        return self._finish(obs, mean, None)

    def rollout(
        self,
        start_obs: torch.Tensor,
        horizon: int,
        policy: Policy | None = None,
        actions: torch.Tensor | None = None,
        mode: str = "random-member",
        sample: bool = True,
        with_disagreement: bool = False,
        fields: tuple[str, ...] | None = None,
        particles: int | None = None,
    ) -> Rollout:
        """Roll B start states (B, obs_dim) forward ``horizon`` steps.

        ``fields`` names the Rollout fields to keep (the others are None); planners that
        need only ``("reward", "valid")`` then hold no (H, B, obs_dim) states in memory.

        Actions come from ``policy`` (closed loop) or from ``actions`` (H, B, act_dim) (open
        loop). Terminated samples are frozen and masked out by ``valid`` afterwards. TSinf
        with B divisible by the number of elites permutes the batch once into member-major
        order, so each step is one grouped forward with no gathering.

        ``particles`` (TSinf, TS1; planners) declares the batch candidate-major, P rows per
        candidate (``repeat_interleave``'s layout), and replaces the batch-wide random
        assignment by PETS's per-candidate one: particle j of every candidate runs through
        elite slot j mod E, the slots mapped to elites by one random rotation per rollout
        (TSinf: the same member for the whole rollout) or per step, after a random
        permutation of each candidate's particles (TS1: re-drawn every step). Each candidate
        then covers min(P, E) elites, the counts differing by at most 1, and all candidates
        of a call share the same elites' multiset (common random numbers across candidates).
        """
        if (policy is None) == (actions is None):
            raise ValueError("give exactly one of policy or actions")
        batch = start_obs.shape[0]
        if particles is not None and mode in ("TSinf", "TS1"):
            return self._particle_rollout(start_obs, horizon, policy, actions, mode, sample,
                                          with_disagreement, fields, particles)  # fmt: skip
        grouped = mode == "TSinf" and not with_disagreement and batch % self.num_elites == 0
        slot, inverse = None, None
        if grouped:
            perm = torch.randperm(batch, device=start_obs.device, generator=self.generator)
            inverse = torch.argsort(perm)
            start_obs = start_obs[perm]
            actions = None if actions is None else actions[:, perm]
        elif mode == "TSinf":
            slot = self.new_assignment(batch, start_obs.device)
        alive = torch.ones(batch, dtype=torch.bool, device=start_obs.device)
        obs = start_obs
        keep = set(Rollout._fields if fields is None else fields)
        if unknown := keep - set(Rollout._fields):
            raise ValueError(f"unknown rollout fields {sorted(unknown)}; use {Rollout._fields}")
        out: dict[str, list[torch.Tensor]] = {k: [] for k in Rollout._fields}
        for t in range(horizon):
            act = policy(obs) if actions is None else actions[t]
            if grouped:
                res = self._step_grouped(obs, act, sample)
            else:
                res = self.step(obs, act, mode, slot, sample, with_disagreement)
            obs, alive = _record(out, keep, obs, act, res, alive)
        stacked = {k: torch.stack(v) if v else None for k, v in out.items()}
        if inverse is not None:
            stacked = {k: None if v is None else v[:, inverse] for k, v in stacked.items()}
        return Rollout(**stacked)

    def _particle_rollout(
        self, start_obs: torch.Tensor, horizon: int, policy: Policy | None,
        actions: torch.Tensor | None, mode: str, sample: bool, with_disagreement: bool,
        fields: tuple[str, ...] | None, particles: int,
    ) -> Rollout:  # fmt: skip
        """``rollout`` with PETS's per-candidate trajectory sampling (see ``rollout``)."""
        batch, device = start_obs.shape[0], start_obs.device
        if with_disagreement:
            raise ValueError("particles= does not compute the disagreement; leave one out")
        if particles < 1 or batch % particles:
            raise ValueError(f"a batch of {batch} is not a whole number of {particles} particles")
        keep = set(Rollout._fields if fields is None else fields)
        if unknown := keep - set(Rollout._fields):
            raise ValueError(f"unknown rollout fields {sorted(unknown)}; use {Rollout._fields}")
        order = self.particle_order(batch, particles, device)  # fixed slot-major layout
        inverse = torch.argsort(order)
        obs = start_obs[order]
        actions = None if actions is None else actions[:, order]
        members = self._member_rotation(device)  # TSinf: one rotation for the whole rollout
        pop = batch // particles
        starts = torch.arange(0, batch, particles, device=device).unsqueeze(1)  # (pop, 1)
        alive = torch.ones(batch, dtype=torch.bool, device=device)
        out: dict[str, list[torch.Tensor]] = {k: [] for k in Rollout._fields}
        for t in range(horizon):
            act = policy(obs) if actions is None else actions[t]
            if mode == "TS1":  # re-draw: permute each candidate's particles, rotate the slots
                members = self._member_rotation(device)
                shuffle = torch.rand(pop, particles, device=device, generator=self.generator)
                drawn = shuffle.argsort(1) + starts  # (pop, P) candidate-major rows
                rows = inverse[drawn.reshape(-1)[order]]  # the row taking each layout place
                res = self._step_particles(obs[rows], act[rows], members, particles, sample)
                back = torch.argsort(rows)
                res = StepResult(*(None if x is None else x[back] for x in res))
            else:
                res = self._step_particles(obs, act, members, particles, sample)
            obs, alive = _record(out, keep, obs, act, res, alive)
        return Rollout(**{k: torch.stack(v)[:, inverse] if v else None for k, v in out.items()})


def _record(
    out: dict[str, list[torch.Tensor]], keep: set[str], obs: torch.Tensor, act: torch.Tensor,
    res: StepResult, alive: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Append one step's kept fields to ``out``; returns the next observations (terminated
    samples frozen) and the samples still alive, (B, obs_dim) and (B,)."""
    step = {"obs": obs, "act": act, "reward": res.reward, "next_obs": res.next_obs,
            "done": res.done, "valid": alive, "disagreement": res.disagreement,
            "terminal": res.terminal}  # fmt: skip
    for name in keep:
        if step[name] is not None:
            out[name].append(step[name])
    alive = alive & ~res.done
    return torch.where(alive.unsqueeze(-1), res.next_obs, obs), alive
