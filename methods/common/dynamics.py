"""Settings and training of the learned dynamics model, shared by every model-based method."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from methods.common.buffer import ReplayBuffer
from methods.common.ensemble import FitConfig, GaussianEnsemble
from methods.common.errors import UserError, require_positive


@dataclass
class ModelSettings:
    """The probabilistic ensemble and how often / how long it is trained."""

    ensemble_size: int = 7
    num_elites: int = 5
    model_hidden: int = 200
    model_layers: int = 4
    probabilistic: bool = True  # False: deterministic ensemble trained with MSE
    model_lr: float = 1e-3
    model_weight_decay: float = 5e-5
    model_batch_size: int = 256
    model_holdout_ratio: float = 0.2
    model_max_holdout: int = 5000
    model_max_epochs: int = 200  # per retrain; early stopping usually ends sooner
    model_patience: int = 5
    model_stop_on: str = "nll"  # early stopping and elites on the holdout nll (scores the
    # variance too) or mse (MBPO's criterion; stops before the variance has converged on small data)
    model_nll_beta: float = 0.0
    model_train_freq: int = 250  # retrain on all real data every this many env steps
    model_precision: str = "fp32"  # bf16: the training batches' matmuls in bfloat16 (~3x faster
    # steps on CPUs with AVX512-BF16; weights, optimizer, loss and holdout stay fp32)

    def validate_model(self) -> None:
        if not 1 <= self.num_elites <= self.ensemble_size:
            raise UserError(
                f"need 1 <= num_elites <= ensemble_size, got {self.num_elites} of "
                f"{self.ensemble_size}"
            )
        require_positive(
            self, "model_hidden", "model_layers", "model_batch_size", "model_train_freq"
        )
        if self.model_precision not in ("fp32", "bf16"):
            raise UserError(f"'model_precision' must be fp32 or bf16, got {self.model_precision!r}")
        if self.model_stop_on not in ("nll", "mse"):
            raise UserError(f"'model_stop_on' must be nll or mse, got {self.model_stop_on!r}")
        if not 0.0 <= self.model_holdout_ratio < 1.0:
            raise UserError(
                f"'model_holdout_ratio' must be in [0, 1), got {self.model_holdout_ratio}"
            )

    def fit_config(self) -> FitConfig:
        return FitConfig(
            batch_size=self.model_batch_size,
            lr=self.model_lr,
            weight_decay=self.model_weight_decay,
            holdout_ratio=self.model_holdout_ratio,
            max_holdout=self.model_max_holdout,
            max_epochs=self.model_max_epochs,
            patience=self.model_patience,
            stop_on=self.model_stop_on,
            nll_beta=self.model_nll_beta,
            precision=self.model_precision,
        )


def build_model(settings: ModelSettings, obs_dim: int, act_dim: int, device) -> GaussianEnsemble:
    return GaussianEnsemble(
        obs_dim, act_dim, settings.ensemble_size, settings.num_elites, settings.model_hidden,
        settings.model_layers, settings.probabilistic,
    ).to(device)  # fmt: skip


class ModelTrainer:
    """Keeps one optimizer across retrains (the model is fine-tuned, not re-initialised)."""

    def __init__(self, model: GaussianEnsemble, settings: ModelSettings, generator):
        self.model = model
        self.config = settings.fit_config()
        self.optimizer = model.make_optimizer(self.config)
        self.generator = generator

    def fit(self, buffer: ReplayBuffer) -> tuple[dict[str, float], float]:
        """Train on every real transition; returns (metrics, wall seconds)."""
        start = time.perf_counter()
        data = buffer.all()
        inputs = torch.cat([data.obs, data.act], dim=-1)
        targets = torch.cat([data.next_obs - data.obs, data.reward.unsqueeze(-1)], dim=-1)
        stats = self.model.fit(inputs, targets, self.config, self.generator, self.optimizer)
        return stats, time.perf_counter() - start
