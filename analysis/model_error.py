"""Model error vs horizon: open-loop rollouts of a trained model with recorded actions.

    python -m analysis.model_error --run RUN_DIR --heldout results/heldout/E/random.npz \
        [--heldout results/heldout/E/policy.npz] --out model_error.csv [--horizon 100] \
        [--particles 5] [--stride 25]

From real states of the held-out trajectories (every ``stride`` steps), each model is rolled
forward with the **recorded** actions for t = 1..H. The error at t is the MSE over z-scored
state dimensions (z-scored with the held-out data's statistics) against the real state,
averaged over start points (and over ``particles`` samples for stochastic modes), for the
propagation modes mean, random-member and TSinf (only mean for a deterministic single
network, where the three coincide), on each held-out set given (random-policy and trained-
policy trajectories). Output: a tidy CSV (data, model, mode, t, mse, n): ``data`` is the
held-out file's name (random, policy), ``model`` the kind: probabilistic ensemble,
deterministic ensemble or deterministic single.
Model termination is ignored here: only the real episode's end masks a step.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from methods.common.checkpoints import load_run_model
from methods.common.envs import never_terminates
from methods.common.errors import UserError
from methods.common.model_env import ModelEnv
from methods.common.run_io import atomic_write_text

MODES = ("mean", "random-member", "TSinf")
SATURATION_MSE = 1.0  # z-scored MSE above which the error curve counts as saturated


def segments(heldout: dict, horizon: int, stride: int):
    """Start states (B, obs_dim), actions (H, B, act_dim), targets (H, B, obs_dim), mask (H, B)."""
    obs, act, valid = heldout["obs"], heldout["act"], heldout["valid"]
    n_ep, steps = act.shape[:2]
    starts, actions, targets, masks = [], [], [], []
    for ep in range(n_ep):
        for t0 in range(0, steps, stride):
            if not valid[ep, t0]:
                break
            end = min(t0 + horizon, steps)
            pad = horizon - (end - t0)
            actions.append(np.pad(act[ep, t0:end], ((0, pad), (0, 0))))
            targets.append(np.pad(obs[ep, t0 + 1 : end + 1], ((0, pad), (0, 0))))
            masks.append(np.pad(valid[ep, t0:end], (0, pad)))
            starts.append(obs[ep, t0])
    if not starts:
        raise UserError("held-out data holds no valid start state")
    as_t = lambda x: torch.as_tensor(np.stack(x, axis=1))  # noqa: E731
    return torch.as_tensor(np.stack(starts)), as_t(actions), as_t(targets), as_t(masks)


def model_kind(model) -> str:
    if model.probabilistic:
        return "probabilistic ensemble"
    return "deterministic single" if model.members == 1 else "deterministic ensemble"


@torch.no_grad()
def error_curves(
    model, heldout: dict, horizon: int, particles: int, stride: int, seed: int = 0
) -> pd.DataFrame:
    """Tidy (model, mode, t, mse, n) for every propagation mode."""
    starts, actions, targets, mask = segments(heldout, horizon, stride)
    real = heldout["obs"][:, :-1][heldout["valid"]]
    std = torch.as_tensor(real.std(0).clip(1e-6))
    gen = torch.Generator().manual_seed(seed)
    model_env = ModelEnv(model, never_terminates, gen)
    rows = []
    n_valid = mask.sum(1).clamp_min(1)
    kind = model_kind(model)
    for mode in MODES if kind != "deterministic single" else ("mean",):
        reps = 1 if mode == "mean" else particles
        sq = torch.zeros(horizon, starts.shape[0])
        for _ in range(reps):
            ro = model_env.rollout(starts, horizon, actions=actions, mode=mode,
                                   sample=mode != "mean")  # fmt: skip
            sq += (((ro.next_obs - targets) / std) ** 2).mean(-1)
        mse = ((sq / reps) * mask).sum(1) / n_valid
        rows += [(kind, mode, t + 1, float(mse[t]), int(mask[t].sum()))
                 for t in range(horizon) if mask[t].any()]  # fmt: skip
    return pd.DataFrame(rows, columns=["model", "mode", "t", "mse", "n"])


def pre_saturation(curve: pd.DataFrame) -> pd.DataFrame:
    """The part of one error curve before it first exceeds SATURATION_MSE."""
    above = curve.mse.to_numpy() >= SATURATION_MSE
    stop = int(np.argmax(above)) if above.any() else len(curve)
    return curve.iloc[:stop]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", required=True)
    parser.add_argument("--heldout", required=True, action="append",
                        help="held-out trajectories (.npz); repeat for several sets")  # fmt: skip
    parser.add_argument("--out", required=True)
    parser.add_argument("--horizon", type=int, default=100)
    parser.add_argument("--particles", type=int, default=5)
    parser.add_argument("--stride", type=int, default=25)
    args = parser.parse_args(argv)
    tables, model = [], None
    for path in args.heldout:
        try:
            heldout = dict(np.load(path))
            obs_dim, act_dim = heldout["obs"].shape[-1], heldout["act"].shape[-1]
            if model is None:  # one model for every set
                model = load_run_model(Path(args.run), obs_dim, act_dim)
            curves = error_curves(model, heldout, args.horizon, args.particles, args.stride)
        except (OSError, KeyError, ValueError) as exc:
            print(f"error: cannot read {path}: {exc}", file=sys.stderr)
            return 2
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        tables.append(curves.assign(data=Path(path).stem))
    curves = pd.concat(tables, ignore_index=True)
    curves = curves[["data", *(c for c in curves.columns if c != "data")]]
    atomic_write_text(Path(args.out), curves.to_csv(index=False, float_format="%.10g"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
