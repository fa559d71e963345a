"""Does SAC learn? Thresholds from the foundation issue; prints one JSON line per run.

    python studies/learning_checks/learning_sac.py [--seeds 5] [--threads 1] [--out DIR]

Targets: InvertedPendulum-v5 mean eval return >= 950 within 15k env steps in >= 4 of 5
seeds; Pendulum-v1 >= -200 within 10k steps. The last line is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_common"))  # _runs, _data
from _runs import ROOT, run_seeds, success_count  # noqa: E402

TASKS = [
    # env, threshold, budget (env steps), runs needed of 5
    ("gym-InvertedPendulum-v5", 950.0, 15_000, 4),
    ("gym-Pendulum-v1", -200.0, 10_000, 4),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "studies/learning_checks/results/learning_sac"))
    parser.add_argument("--envs", nargs="*", default=[t[0] for t in TASKS])
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel")
    args = parser.parse_args()
    summary = {}
    for env, threshold, budget, needed in TASKS:
        if env not in args.envs:
            continue
        overrides = [f"env_steps={budget}", "eval_every=1000"]

        rows = run_seeds("sac", env, range(args.seeds), Path(args.out), "config/config.yaml",
                         args.threads, args.jobs, overrides, threshold, budget)  # fmt: skip
        hits = success_count(rows)
        summary[env] = {"successes": hits, "seeds": len(rows), "needed": needed * len(rows) // 5,
                        "pass": hits >= needed * len(rows) // 5}  # fmt: skip
    print(json.dumps({"summary": summary}))


if __name__ == "__main__":
    main()
