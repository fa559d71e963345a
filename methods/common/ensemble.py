"""Probabilistic ensemble of Gaussian MLPs predicting (delta-state, reward), PETS/MBPO style.

All members live in one module: every layer holds ``(E, in, out)`` weights and runs as one
batched matmul (``baddbmm``) over members. Shapes: E members, B samples per member.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from methods.common.optim import adam
from methods.common.precision import at_least_fp32


class EnsembleLinear(nn.Module):
    """``E`` independent linear layers applied as one batched matmul."""

    def __init__(self, members: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(members, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(members, 1, out_features))
        nn.init.trunc_normal_(self.weight, std=1.0 / (2.0 * in_features**0.5))

    def forward(self, x: torch.Tensor, members: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: (E', B, in) -> (E', B, out); ``members`` (E',) selects weights (default all)."""
        if members is None:
            return torch.baddbmm(self.bias, x, self.weight)
        return torch.baddbmm(self.bias[members], x, self.weight[members])


class Normalizer(nn.Module):
    """Per-dimension z-scoring fitted on data; stored as buffers so checkpoints carry it."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, data: torch.Tensor) -> None:
        """``data``: (N, dim)."""
        self.mean.copy_(data.mean(0))
        if data.shape[0] > 1:
            self.std.copy_(data.std(0).clamp_min(1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean


@dataclass
class FitConfig:
    """How the ensemble is trained on all real data at each retrain."""

    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 5e-5
    holdout_ratio: float = 0.2
    max_holdout: int = 5000
    max_epochs: int = 200
    patience: int = 5  # epochs without a >1% holdout improvement of any member
    min_improvement: float = 0.01  # relative, on the holdout MSE (mse) or absolute, on the
    # holdout NLL per dimension (nll)
    stop_on: str = "nll"  # nll: early stopping and elites on the holdout NLL, which scores the
    # variance too (probabilistic models); mse: on the holdout MSE (MBPO's criterion)
    nll_beta: float = 0.0  # 0 = plain Gaussian NLL (PETS/MBPO); 0.5 = beta-NLL (Seitzer 2022)
    precision: str = "fp32"  # bf16: training batches' matmuls in bfloat16 (autocast; fp32
    # weights, optimizer and loss; holdout evaluation in fp32)


class GaussianEnsemble(nn.Module):
    """E members mapping (obs, act) to a Gaussian over (next_obs - obs, reward).

    ``probabilistic=False`` gives a deterministic ensemble trained with MSE (``members=1``,
    ``elites=1`` for the single deterministic network used in comparisons).
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        members: int = 7,
        elites: int = 5,
        hidden: int = 200,
        layers: int = 4,
        probabilistic: bool = True,
    ):
        super().__init__()
        if not 1 <= elites <= members:
            raise ValueError(f"need 1 <= elites <= members, got {elites} elites of {members}")
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.members, self.num_elites = members, elites
        self.probabilistic = probabilistic
        self.in_dim, self.out_dim = obs_dim + act_dim, obs_dim + 1
        dims = [self.in_dim] + [hidden] * layers
        self.hidden_layers = nn.ModuleList(
            EnsembleLinear(members, d_in, d_out)
            for d_in, d_out in zip(dims[:-1], dims[1:], strict=True)
        )
        self.head = EnsembleLinear(members, hidden, self.out_dim * (2 if probabilistic else 1))
        self.max_logvar = nn.Parameter(torch.full((1, 1, self.out_dim), 0.5))
        self.min_logvar = nn.Parameter(torch.full((1, 1, self.out_dim), -10.0))
        self.input_norm = Normalizer(self.in_dim)
        self.target_norm = Normalizer(self.out_dim)
        self.register_buffer("elites", torch.arange(elites))

    # ----- forward in normalised space -----
    def forward_normalized(
        self, x: torch.Tensor, members: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x``: (E', B, in) normalised -> mean, logvar (E', B, out) in normalised target units."""
        for layer in self.hidden_layers:
            x = F.silu(layer(x, members))
        out = at_least_fp32(self.head(x, members))  # variance bounds and loss not in bf16
        if not self.probabilistic:
            return out, torch.zeros_like(out)
        mean, raw_logvar = out.split(self.out_dim, dim=-1)
        logvar = self.max_logvar - F.softplus(self.max_logvar - raw_logvar)
        logvar = self.min_logvar + F.softplus(logvar - self.min_logvar)
        return mean, logvar

    # ----- prediction in original units -----
    def predict(
        self, obs: torch.Tensor, act: torch.Tensor, members: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predict (delta_obs, reward) mean and variance for each selected member.

        ``obs`` (B, obs_dim) and ``act`` (B, act_dim) are shared by all members, or
        (E', B, ...) to give each member its own samples (TS propagation).
        Returns mean, var: (E', B, obs_dim + 1) with the reward in the last column.
        """
        x = self.input_norm(torch.cat([obs, act], dim=-1))
        n_members = self.members if members is None else members.shape[0]
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(n_members, -1, -1)
        mean, logvar = self.forward_normalized(x, members)
        std = self.target_norm.std
        var = logvar.exp() * std**2 if self.probabilistic else torch.zeros_like(mean)
        return self.target_norm.inverse(mean), var

    # ----- training -----
    def loss(self, x: torch.Tensor, y: torch.Tensor, nll_beta: float = 0.0) -> torch.Tensor:
        """Gaussian NLL (or MSE) summed over members, averaged over samples and dims.

        ``x`` (E, B, in), ``y`` (E, B, out), both normalised. ``nll_beta`` > 0 weights each
        term by the detached variance**beta (beta-NLL), which keeps high-variance dims from
        starving the mean's gradient.
        """
        mean, logvar = self.forward_normalized(x)
        if not self.probabilistic:
            return ((mean - y) ** 2).mean(dim=(1, 2)).sum()
        terms = (mean - y) ** 2 * torch.exp(-logvar) + logvar
        if nll_beta:
            terms = terms * torch.exp(nll_beta * logvar.detach())
        nll = terms.mean(dim=(1, 2)).sum()
        return nll + 0.01 * (self.max_logvar.sum() - self.min_logvar.sum())

    @torch.no_grad()
    def evaluate(
        self, x: torch.Tensor, y: torch.Tensor, chunk: int = 1024
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-member MSE and Gaussian NLL on normalised (N, in) -> (N, out) data: (E,), (E,).

        Rows go through in chunks of ``chunk``, so the peak memory is E x chunk x hidden
        activations (about 6 MB per layer) rather than E x N x hidden (110 MB at N = 20k).
        """
        sq_sum = torch.zeros(self.members, device=x.device)
        nll_sum = torch.zeros(self.members, device=x.device)
        for start in range(0, x.shape[0], chunk):
            xs, ys = x[start : start + chunk], y[start : start + chunk]
            mean, logvar = self.forward_normalized(xs.unsqueeze(0).expand(self.members, -1, -1))
            err = (mean - ys) ** 2
            sq_sum += err.sum(dim=(1, 2))
            if self.probabilistic:
                nll_sum += (0.5 * (err * torch.exp(-logvar) + logvar + 1.8378770664093453)).sum(
                    dim=(1, 2)
                )
        count = x.shape[0] * self.out_dim
        mse = sq_sum / count
        return (mse, mse) if not self.probabilistic else (mse, nll_sum / count)

    def fit(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        config: FitConfig,
        generator: torch.Generator | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> dict[str, float]:
        """Train on (N, in) -> (N, out) raw data with a holdout split and early stopping.

        Each member trains on its own bootstrap resample; each keeps the weights of its best
        holdout epoch of this call (never the weights it came in with); the ``num_elites``
        best members become the elites.
        Returns holdout MSE/NLL of the elites (normalised units), epochs run, train loss.
        """
        device = inputs.device
        n = inputs.shape[0]
        perm = torch.randperm(n, device=device, generator=generator)
        n_hold = min(int(n * config.holdout_ratio), config.max_holdout)
        hold_idx, train_idx = perm[:n_hold], perm[n_hold:]
        self.input_norm.fit(inputs[train_idx])
        self.target_norm.fit(targets[train_idx])
        x_all, y_all = self.input_norm(inputs), self.target_norm(targets)
        x_train, y_train = x_all[train_idx], y_all[train_idx]
        x_hold, y_hold = (x_all[hold_idx], y_all[hold_idx]) if n_hold > 0 else (x_train, y_train)
        n_train = x_train.shape[0]
        boot = torch.randint(
            0, n_train, (self.members, n_train), device=device, generator=generator
        )

        opt = optimizer or self.make_optimizer(config)
        bf16 = config.precision == "bf16"
        # As in jannerm/mbpo, a refit's best starts at +inf: the pre-refit weights are never
        # restored (their holdout score is optimistic: the holdout is redrawn from data they
        # trained on, and they were fitted under the normalisers just replaced), so every
        # member keeps the weights of one of this refit's own epochs.
        best_score = torch.full((self.members,), float("inf"), device=device)
        best_epoch = torch.zeros(self.members, device=device)
        best_state = [p.detach().clone() for p in self.member_state()]
        since_update, epochs, train_loss = 0, 0, float("nan")
        while epochs < config.max_epochs and since_update <= config.patience:
            order = torch.argsort(torch.rand(self.members, n_train, device=device,
                                             generator=generator), dim=1)  # fmt: skip
            idx = boot.gather(1, order)
            total = torch.zeros((), device=device)
            for start in range(0, n_train, config.batch_size):
                batch = idx[:, start : start + config.batch_size]
                with torch.autocast(device.type, torch.bfloat16, enabled=bf16):
                    loss = self.loss(x_train[batch], y_train[batch], config.nll_beta)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach()
            train_loss = float(total) / max(1, -(-n_train // config.batch_size)) / self.members
            epochs += 1
            score = self._holdout_score(x_hold, y_hold, config)
            improved = self._improved(best_score, score, config)
            if improved.any():
                best_score = torch.where(improved, score, best_score)
                best_epoch = torch.where(improved, float(epochs), best_epoch)
                self._copy_members(best_state, self.member_state(), improved)
                since_update = 0
            else:
                since_update += 1
        kept_trained = best_epoch > 0  # all members after >= 1 epoch (max_epochs >= 1)
        self._copy_members(self.member_state(), best_state, kept_trained)
        mse, nll = self.evaluate(x_hold, y_hold)
        self.elites.copy_(
            torch.argsort(nll if self._stops_on_nll(config) else mse)[: self.num_elites]
        )
        return {
            "model/holdout_mse": float(mse[self.elites].mean()),
            "model/holdout_nll": float(nll[self.elites].mean()),
            "model/train_loss": train_loss,
            "model/epochs": float(epochs),
            # which epoch's weights each member kept (1 = the first), and the fraction of
            # members whose weights come from this refit (1 unless max_epochs is 0)
            "model/best_epoch_mean": float(best_epoch[kept_trained].mean()) if epochs else 0.0,
            "model/kept_trained_fraction": float(kept_trained.float().mean()),
        }

    def _stops_on_nll(self, config: FitConfig) -> bool:
        return self.probabilistic and config.stop_on == "nll"

    def _holdout_score(self, x: torch.Tensor, y: torch.Tensor, config: FitConfig) -> torch.Tensor:
        """Per-member (E,) early-stopping score: holdout NLL or MSE (lower is better)."""
        mse, nll = self.evaluate(x, y)
        return nll if self._stops_on_nll(config) else mse

    def _improved(self, best: torch.Tensor, score: torch.Tensor, config: FitConfig) -> torch.Tensor:
        """(E,) bool: which members improved enough to reset the patience."""
        first = torch.isinf(best)  # the refit's first epoch is always kept
        if self._stops_on_nll(config):
            return first | (best - score > config.min_improvement)  # NLL can be < 0: absolute
        return first | ((best - score) / best.clamp_min(1e-12) > config.min_improvement)

    def make_optimizer(self, config: FitConfig) -> torch.optim.Optimizer:
        decayed = [p for layer in [*self.hidden_layers, self.head] for p in layer.parameters()]
        return adam(
            [
                {"params": decayed, "weight_decay": config.weight_decay},
                {"params": [self.max_logvar, self.min_logvar], "weight_decay": 0.0},
            ],
            lr=config.lr,
        )

    def member_state(self) -> list[torch.Tensor]:
        """The per-member parameters (leading dim E), in a fixed order."""
        return [p for layer in [*self.hidden_layers, self.head] for p in layer.parameters()]

    @staticmethod
    @torch.no_grad()
    def _copy_members(dst: list[torch.Tensor], src: list[torch.Tensor], mask: torch.Tensor):
        for d, s in zip(dst, src, strict=True):
            d.copy_(torch.where(mask.view(-1, *([1] * (d.dim() - 1))), s, d))
