"""Does bf16 model training fit as well as fp32? Same data, same seeds. JSON lines.

    python studies/precision_bf16/model_precision.py [--checkpoint RUN/checkpoint.pt] [--rows 6000]
        [--seeds 2] [--threads 2]

Fits the default 7 x 4x200 ensemble from scratch on ``--rows`` transitions, once with
``model_precision: fp32`` and once with ``bf16`` (the training batches' matmuls in bfloat16
under autocast; weights, Adam, loss and the holdout evaluation in fp32), same seed and
generator for both, and prints per fit the holdout MSE / NLL of the elites, the epochs run
and the seconds per epoch. The data are the first ``--rows`` transitions of a run's replay
buffer (``--checkpoint``: e.g. an mbpo-sched Hopper run, policy data as MBPO sees it) or,
without one, uniformly random Hopper-v5 transitions. Run it on an idle machine for the
times; the fit quality does not depend on load.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from methods.common.ensemble import FitConfig, GaussianEnsemble

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_common"))  # _runs, _data
from _data import random_buffer  # noqa: E402


def checkpoint_data(path: str, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    data = torch.load(path, map_location="cpu", weights_only=False)["buffer"].all()
    inputs = torch.cat([data.obs, data.act], -1)[:rows]
    targets = torch.cat([data.next_obs - data.obs, data.reward[:, None]], -1)[:rows]
    return inputs, targets


def random_data(env_id: str, rows: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    data = random_buffer(env_id, rows, seed, torch.device("cpu")).all()
    inputs = torch.cat([data.obs, data.act], -1)
    return inputs, torch.cat([data.next_obs - data.obs, data.reward[:, None]], -1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", default=None, help="a run's checkpoint.pt (its buffer)")
    parser.add_argument("--env", default="gym-Hopper-v5", help="env of the random data")
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    if args.checkpoint:
        inputs, targets = checkpoint_data(args.checkpoint, args.rows)
    else:
        inputs, targets = random_data(args.env, args.rows, 0)
    obs_dim = targets.shape[1] - 1
    act_dim = inputs.shape[1] - obs_dim
    for seed in range(args.seeds):
        for precision in ("fp32", "bf16"):
            torch.manual_seed(seed)
            model = GaussianEnsemble(obs_dim, act_dim, 7, 5, 200, 4)
            start = time.perf_counter()
            stats = model.fit(inputs, targets, FitConfig(precision=precision),
                              torch.Generator().manual_seed(seed))  # fmt: skip
            seconds = time.perf_counter() - start
            print(json.dumps({
                "benchmark": "model_precision", "data": args.checkpoint or f"random {args.env}",
                "rows": len(inputs), "seed": seed, "precision": precision,
                "seconds": round(seconds, 1),
                "s_per_epoch": round(seconds / stats["model/epochs"], 3),
                **{k: round(v, 5) for k, v in stats.items()},
                "threads": args.threads, "torch": torch.__version__,
            }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
