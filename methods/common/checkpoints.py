"""Load what a finished run saved: its ensemble (model.pt) and its SAC actor (policy.pt)."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from methods.common.dynamics import ModelSettings, build_model
from methods.common.ensemble import GaussianEnsemble
from methods.common.errors import UserError
from methods.common.sac_agent import Actor


def run_config(run_dir: Path) -> dict:
    """The resolved config.yaml of a run; a missing or broken one is a UserError."""
    try:
        config = yaml.safe_load((Path(run_dir) / "config.yaml").read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"run {run_dir}: cannot read config.yaml ({exc})") from None
    if not isinstance(config, dict) or not isinstance(config.get("params"), dict):
        raise UserError(f"run {run_dir}: config.yaml has no resolved params")
    return config


def _load(path: Path, device) -> dict:
    try:
        return torch.load(path, map_location=device)
    except (OSError, RuntimeError, EOFError) as exc:
        raise UserError(f"run {path.parent}: cannot load {path.name} ({exc})") from None


def load_run_model(run_dir: Path, obs_dim: int, act_dim: int, device="cpu") -> GaussianEnsemble:
    """The run's ensemble, rebuilt with the architecture in its config.yaml, in eval mode."""
    params = run_config(run_dir)["params"]
    keys = ModelSettings.__dataclass_fields__
    settings = ModelSettings(**{k: v for k, v in params.items() if k in keys})
    model = build_model(settings, obs_dim, act_dim, device)
    try:
        model.load_state_dict(_load(Path(run_dir) / "model.pt", device))
    except RuntimeError as exc:
        raise UserError(f"run {run_dir}: model.pt does not fit its config ({exc})") from None
    return model.eval()


def load_run_actor(run_dir: Path, obs_dim: int, act_dim: int, device="cpu") -> Actor:
    """The SAC actor (SAC, MBPO or Dyna run) from policy.pt, in eval mode."""
    config = run_config(run_dir)
    if config.get("method") not in ("sac", "mbpo", "dyna"):
        raise UserError(f"run {run_dir}: needs a SAC-family run, got {config.get('method')}")
    params = config["params"]
    actor = Actor(obs_dim, act_dim, params["hidden"], params["layers"]).to(device)
    state = _load(Path(run_dir) / "policy.pt", device)
    actor.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("actor.")})
    return actor.eval()
