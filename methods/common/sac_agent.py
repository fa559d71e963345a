"""Soft actor-critic: tanh-Gaussian actor, vectorised twin critics, automatic temperature."""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from methods.common.buffer import Batch
from methods.common.cuda_graph import CapturedFunction, graphs_available
from methods.common.ensemble import EnsembleLinear
from methods.common.optim import adam
from methods.common.precision import at_least_fp32, fp32_region

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
STAT_NAMES = ("critic_loss", "actor_loss", "alpha", "entropy", "q_mean")


@dataclass
class SACParams:
    """Hyperparameters of the SAC learner (shared by SAC, MBPO and Dyna)."""

    hidden: int = 256
    layers: int = 2
    gamma: float = 0.99
    tau: float = 0.005
    lr_actor: float = 3e-4
    lr_critic: float = 3e-4
    lr_alpha: float = 3e-4
    init_alpha: float = 1.0
    target_entropy_scale: float = 1.0  # target entropy = -scale * act_dim ...
    target_entropy: float | None = None  # ... unless given here directly
    sac_precision: str = "fp32"  # bf16: the hidden layers' matmuls of the update in bfloat16
    # (autocast); output layers, losses, weights and Adam stay fp32
    cuda_graphs: bool = False  # on CUDA, replay each update (losses, backward, Adam, target
    # lerp) as one CUDA graph; off until it is measured on a GPU (benchmarks/speed.py)


class Actor(nn.Module):
    """obs (B, obs_dim) -> tanh-squashed Gaussian over actions in [-1, 1]^act_dim."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int, layers: int):
        super().__init__()
        dims = [obs_dim] + [hidden] * layers
        mods: list[nn.Module] = []
        for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
            mods += [nn.Linear(d_in, d_out), nn.ReLU()]
        self.trunk = nn.Sequential(*mods)
        self.head = nn.Linear(hidden, 2 * act_dim)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.trunk(obs)
        with fp32_region(features):  # the output layer in fp32 also under bf16 autocast
            mean, raw = self.head(at_least_fp32(features)).chunk(2, dim=-1)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(raw) + 1)
        return mean, log_std

    def sample(
        self, obs: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised action (B, act_dim) and its log-probability (B,)."""
        mean, log_std = self(obs)
        noise = torch.randn(mean.shape, device=mean.device, dtype=mean.dtype, generator=generator)
        pre_tanh = mean + log_std.exp() * noise
        log_prob = (-0.5 * noise**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        # log|d tanh(u)/du| = 2 (log 2 - u - softplus(-2u)), numerically stable
        log_prob -= (2 * (math.log(2) - pre_tanh - F.softplus(-2 * pre_tanh))).sum(-1)
        return torch.tanh(pre_tanh), log_prob

    def deterministic(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self(obs)[0])


class TwinCritic(nn.Module):
    """Two Q-networks as one ensemble: (obs, act) (B, ...) -> Q (2, B)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int, layers: int):
        super().__init__()
        dims = [obs_dim + act_dim] + [hidden] * layers + [1]
        self.layers = nn.ModuleList(
            EnsembleLinear(2, d_in, d_out) for d_in, d_out in zip(dims[:-1], dims[1:], strict=True)
        )

    def forward(self, obs: torch.Tensor, act: torch.Tensor, frozen: bool = False) -> torch.Tensor:
        """``frozen``: gradients reach the inputs but not the critic's weights."""
        x = torch.cat([obs, act], dim=-1).unsqueeze(0).expand(2, -1, -1)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            weight, bias = layer.weight, layer.bias
            if frozen:
                weight, bias = weight.detach(), bias.detach()
            if i < last:
                x = F.relu(torch.baddbmm(bias, x, weight))
            else:  # Q in fp32 also under bf16 autocast (its TD errors are small differences)
                with fp32_region(x):
                    x = torch.baddbmm(bias, at_least_fp32(x), weight)
        return x.squeeze(-1)


class SACAgent(nn.Module):
    """The SAC learner. ``update`` runs one critic, actor and temperature step."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        params: SACParams,
        device: torch.device | str = "cpu",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.params = params
        self.generator = generator
        self.actor = Actor(obs_dim, act_dim, params.hidden, params.layers)
        self.critic = TwinCritic(obs_dim, act_dim, params.hidden, params.layers)
        self.critic_target = TwinCritic(obs_dim, act_dim, params.hidden, params.layers)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)
        self.log_alpha = nn.Parameter(torch.tensor(math.log(params.init_alpha)))
        self.target_entropy = (
            params.target_entropy
            if params.target_entropy is not None
            else -params.target_entropy_scale * act_dim
        )
        self.to(device)
        self.optimizer = adam(
            [
                {"params": list(self.critic.parameters()), "lr": params.lr_critic},
                {"params": list(self.actor.parameters()), "lr": params.lr_actor},
                {"params": [self.log_alpha], "lr": params.lr_alpha},
            ]
        )
        self._critic_params = list(self.critic.parameters())
        self._target_params = list(self.critic_target.parameters())
        self._stats_sum: torch.Tensor | None = None  # (len(STAT_NAMES),) summed over updates
        self._n_stats = 0
        self._captured: CapturedFunction | None = None  # the graphed update, at first use
        self.use_graph = getattr(params, "cuda_graphs", False) and graphs_available(
            torch.device(device)
        )

    def __getstate__(self) -> dict:
        """Pickled (checkpoints) without the captured graph; it is captured again on use."""
        state = self.__dict__.copy()
        state["_captured"] = None
        return state

    @property
    def bf16(self) -> bool:
        """The update under bf16 autocast (params pickled before the option have none)."""
        return getattr(self.params, "sac_precision", "fp32") == "bf16"

    @property
    def alpha(self) -> torch.Tensor:
        return self.log_alpha.exp()

    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        """Actions (B, act_dim) for observations (B, obs_dim)."""
        if deterministic:
            return self.actor.deterministic(obs)
        return self.actor.sample(obs, self.generator)[0]

    def update(self, batch: Batch) -> None:
        """One gradient step of critics, actor and temperature on a (B, ...) batch.

        As in softlearning (the SAC that MBPO used), the three losses are built from the
        same pre-update parameters and stepped together: one backward pass and one fused
        Adam step. The actor's loss sees the critics through detached weights, so it moves
        only the actor. With ``cuda_graphs`` on CUDA the step replays as one CUDA graph.
        """
        if self.use_graph and self.optimizer.state and (captured := self._try_capture(batch)):
            captured(*batch)  # (the first update runs eagerly: it creates Adam's state)
        else:
            self._step(*batch)
        self._n_stats += 1

    def _step(self, *fields: torch.Tensor, graphed: bool = False) -> tuple[torch.Tensor, ...]:
        """``update``'s tensor work on ``Batch`` fields; returns the stats sum (pure tensor
        work when ``graphed``: autocast's weight cache is off inside a graph)."""
        batch = Batch(*fields)
        with torch.autocast(batch.obs.device.type, torch.bfloat16, enabled=self.bf16,
                            cache_enabled=False if graphed else None):  # fmt: skip
            losses = self._losses(batch)
        self.optimizer.zero_grad(set_to_none=True)
        sum(losses[:3]).backward()
        self.optimizer.step()
        with torch.no_grad():
            torch._foreach_lerp_(self._target_params, self._critic_params, self.params.tau)
            stats = torch.stack([losses[0], losses[1], *losses[3:]])  # STAT_NAMES
            if self._stats_sum is None:
                self._stats_sum = torch.zeros_like(stats)
            self._stats_sum.add_(stats)
        return (self._stats_sum,)

    def _training_state(self) -> list[torch.Tensor]:
        """Every tensor an update changes in place: weights (target critic included), Adam's
        moments and steps, the stats sum."""
        tensors = [*self.parameters(), self._stats_sum]
        for state in self.optimizer.state.values():
            tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
        return tensors

    def _capture(self, batch: Batch) -> CapturedFunction:
        """The update as one CUDA graph, after the first (eager) update. Capturing runs one
        warm-up update; its effects are undone, so the first replay starts from the weights,
        Adam moments and generator state an eager update would have started from."""
        saved = self._training_state()
        backup = [t.detach().clone() for t in saved]
        generator_state = self.generator.get_state() if self.generator is not None else None
        for group in self.optimizer.param_groups:
            group["capturable"] = True  # fused Adam keeps its steps on the GPU already
        with warnings.catch_warnings():  # the warm-up update runs uncaptured, as intended
            warnings.filterwarnings("ignore", message=".*capturable=True.*")
            captured = CapturedFunction(
                lambda *fields: self._step(*fields, graphed=True), tuple(batch),
                generators=(self.generator,) if self.generator is not None else (),
            )  # fmt: skip
        with torch.no_grad():
            for tensor, value in zip(saved, backup, strict=True):
                tensor.copy_(value)
        if generator_state is not None:
            self.generator.set_state(generator_state)
        return captured

    def _try_capture(self, batch: Batch) -> CapturedFunction | None:
        """The captured update, or None where capture fails (updates go on eagerly, said
        once on stderr)."""
        if self._captured is None:
            try:
                self._captured = self._capture(batch)
            except RuntimeError as err:
                self.use_graph = False
                print(f"warning: the SAC update's CUDA graph capture failed, updating "
                      f"eagerly: {err}", file=sys.stderr)  # fmt: skip
                return None
        return self._captured

    def _losses(self, batch: Batch) -> tuple[torch.Tensor, ...]:
        """Critic, actor and temperature losses, then alpha, entropy and mean Q for stats."""
        p = self.params
        alpha = self.log_alpha.exp().detach()
        with torch.no_grad():
            next_act, next_logp = self.actor.sample(batch.next_obs, self.generator)
            q_next = self.critic_target(batch.next_obs, next_act).min(0).values
            target = batch.reward + p.gamma * (1.0 - batch.terminated) * (
                q_next - alpha * next_logp
            )
        q = self.critic(batch.obs, batch.act)
        critic_loss = ((q - target) ** 2).mean(-1).sum()
        act, logp = self.actor.sample(batch.obs, self.generator)
        q_pi = self.critic(batch.obs, act, frozen=True).min(0).values
        actor_loss = (alpha * logp - q_pi).mean()
        alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
        return critic_loss, actor_loss, alpha_loss, alpha, -logp.detach().mean(), q.detach().mean()

    def pop_stats(self) -> dict[str, float]:
        """Mean of each training statistic since the last call (one host sync)."""
        if not self._n_stats:
            return {}
        values = (self._stats_sum / self._n_stats).tolist()
        self._stats_sum.zero_()  # in place: a captured update adds into this tensor
        self._n_stats = 0
        return {f"sac/{k}": v for k, v in zip(STAT_NAMES, values, strict=True)}
