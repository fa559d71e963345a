"""Model error vs horizon: open-loop rollouts of a trained model with recorded actions.

    python -m analysis.model_error --run RUN_DIR --heldout results/heldout/E/random.npz \
        [--heldout results/heldout/E/policy.npz] --out model_error.csv [--horizon 100] \
        [--particles 5] [--stride 25]

From real states of the held-out trajectories (every ``stride`` steps), each model is rolled
forward with the **recorded** actions for t = 1..H. The error at t is the MSE over state
dimensions against the real state, each dimension divided by the std of the states the model
was **trained** on (the obs part of the checkpoint's ``input_norm.std``), so the scale is
the model's and never the held-out set's: a policy whose states barely vary does not make a
tiny error look saturated. It is averaged over particles (stochastic modes) and over one
**fixed** set of segments: those whose real episode is valid for the whole window t = 1..H
(segments cut short by termination or by the end of the recorded steps count at no t), so
every t averages the same segments and the curve does not jump when one ends. When no
segment covers H (short episodes, e.g. a random policy on InvertedPendulum), the window is
shortened to the longest horizon some segment covers, over the segments that cover it, and
the CLI prints a note. Modes: mean, random-member and TSinf (only mean for a deterministic
single network, where the three coincide), on each held-out set given (random-policy and
trained-policy trajectories). Output: a tidy CSV (data, model, mode, t, mse, n): ``data`` is
the held-out file's name (random, policy), ``model`` the kind: probabilistic ensemble,
deterministic ensemble or deterministic single, ``n`` the number of segments (the same at
every t of one set). Model termination is ignored here.
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
SATURATION_MSE = 1.0  # scaled MSE (training-state std units) above which a curve saturates


def segments(
    heldout: dict, horizon: int, stride: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fixed set of B segments valid for the whole window of W <= ``horizon`` steps.

    ``heldout``: ``obs`` (N, T+1, obs_dim), ``act`` (N, T, act_dim), ``valid`` (N, T).
    Segments start every ``stride`` steps of each episode; W is ``horizon``, or the longest
    run of valid steps from any start if none reaches ``horizon``; only segments with W
    valid steps are kept. Returns start states (B, obs_dim), actions (W, B, act_dim) and
    real next states (W, B, obs_dim).
    """
    if horizon < 1 or stride < 1:
        raise UserError(f"need horizon >= 1 and stride >= 1, got {horizon} and {stride}")
    obs, act, valid = heldout["obs"], heldout["act"], np.asarray(heldout["valid"], bool)
    steps = act.shape[1]
    # valid steps from the start of each episode (valid is True up to the episode's end)
    ep_len = np.where(valid.all(1), steps, valid.argmin(1))  # (N,)
    ep, t0 = np.nonzero(np.arange(0, steps, stride)[None, :] < ep_len[:, None])
    t0 = t0 * stride
    if ep.size == 0:
        raise UserError("held-out data holds no valid start state")
    window = int(min(horizon, (ep_len[ep] - t0).max()))
    keep = ep_len[ep] - t0 >= window
    ep, t0 = ep[keep], t0[keep]
    idx = t0[None, :] + np.arange(window)[:, None]  # (W, B)
    return (torch.as_tensor(obs[ep, t0]), torch.as_tensor(act[ep[None, :], idx]),
            torch.as_tensor(obs[ep[None, :], idx + 1]))  # fmt: skip


def state_scale(model) -> torch.Tensor:
    """Per-dimension scale of the errors (obs_dim,): the std of the model's training states
    (the obs part of ``input_norm``), independent of the held-out data."""
    return model.input_norm.std[: model.obs_dim].clamp_min(1e-6)


def model_kind(model) -> str:
    if model.probabilistic:
        return "probabilistic ensemble"
    return "deterministic single" if model.members == 1 else "deterministic ensemble"


@torch.no_grad()
def error_curves(
    model, heldout: dict, horizon: int, particles: int, stride: int, seed: int = 0
) -> pd.DataFrame:
    """Tidy (model, mode, t, mse, n) for every propagation mode, t = 1..W (see segments).

    mse at t: mean over the B fixed segments (and particles) of the MSE over state dims of
    the (W, B, obs_dim) open-loop error divided by ``state_scale(model)``; n = B at every t.
    """
    starts, actions, targets = segments(heldout, horizon, stride)
    window, n_segments = actions.shape[0], starts.shape[0]
    scale = state_scale(model)
    gen = torch.Generator().manual_seed(seed)
    model_env = ModelEnv(model, never_terminates, gen)
    rows = []
    kind = model_kind(model)
    for mode in MODES if kind != "deterministic single" else ("mean",):
        reps = 1 if mode == "mean" else particles
        sq = torch.zeros(window, n_segments)
        for _ in range(reps):
            ro = model_env.rollout(starts, window, actions=actions, mode=mode,
                                   sample=mode != "mean")  # fmt: skip
            sq += (((ro.next_obs - targets) / scale) ** 2).mean(-1)
        mse = (sq / reps).mean(1)  # (W,)
        rows += [(kind, mode, t + 1, float(mse[t]), n_segments) for t in range(window)]
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
            if (window := int(curves.t.max())) < args.horizon:
                print(f"note: {path}: no segment has {args.horizon} valid steps; curves stop "
                      f"at horizon {window}, over the {int(curves.n.iloc[0])} segment(s) that "
                      "reach it", file=sys.stderr)  # fmt: skip
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
