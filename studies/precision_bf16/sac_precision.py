"""Does SAC learn as well with bf16 updates as with fp32? Same seeds, both precisions.

    python studies/precision_bf16/sac_precision.py [--env gym-Hopper-v5] [--steps 50000] [--seeds 3]
        [--jobs 2] [--threads 1] [--out DIR]

Runs the paper tier's ``sac`` variant (config/paper.yaml) for ``--steps`` env steps per seed,
once with ``sac_precision: fp32`` and once with ``bf16`` (the hidden layers' matmuls of every
update in bfloat16; Q and policy outputs, losses, weights and Adam in fp32), and prints one
JSON line per run (the eval curve, as learning_sac.py) and a summary: per precision the
mean over seeds of the eval return at each evaluation, of the last three evaluations, and
the run's wall seconds. bf16 is a speed option (about 2x the update rate on CPUs with
AVX512-BF16); this is the learning check that it does not cost return. Runs are reused
(or resumed) when the command is rerun.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_common"))  # _runs, _data
from _runs import ROOT, run_seeds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="gym-Hopper-v5")
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(ROOT / "studies/precision_bf16/results/sac_precision"))
    args = parser.parse_args()
    summary = {}
    for precision in ("fp32", "bf16"):
        overrides = [f"env_steps={args.steps}", f"eval_every={args.eval_every}",
                     f"sac_precision={precision}", "checkpoint_minutes=10"]  # fmt: skip
        rows = run_seeds("sac", args.env, range(args.seeds), Path(args.out) / precision,
                         "config/paper.yaml", args.threads, args.jobs, overrides,
                         float("inf"), args.steps, device=args.device)  # fmt: skip
        curves = [list(row["curve"].values()) for row in rows]
        steps = list(rows[0]["curve"])
        summary[precision] = {
            "mean_curve": dict(zip(steps, np.mean(curves, 0).round(1).tolist(), strict=True)),
            "mean_last_3_evals": round(float(np.mean([c[-3:] for c in curves])), 1),
            "per_seed_last_3": [round(float(np.mean(c[-3:])), 1) for c in curves],
            "mean_wall_seconds": round(float(np.mean([r["wall_seconds"] for r in rows])), 1),
        }
    print(json.dumps({"benchmark": "sac_precision", "env": args.env, "steps": args.steps,
                      "seeds": args.seeds, "threads": args.threads, **summary}))  # fmt: skip


if __name__ == "__main__":
    main()
