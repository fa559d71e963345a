"""Wall-clock time to a return threshold: mbrl-spectrum vs mbrl-lib, each at its own default.

    python benchmarks/peers/time_to_threshold.py [--seeds 0 1 2] [--threads 1] [--jobs 2]

Issue 8, item 6: the number a user feels. MBPO on InvertedPendulum, threshold 950:
- ours: the default tier's ``mbpo-sched`` (``config/config.yaml``: 1000 random steps, G = 10,
  400 model rollouts per step at k = 1, 5000-step budget) on gym InvertedPendulum-v5;
- mbrl-lib 0.2.0: its own ``mbpo_inv_pendulum.yaml`` (5000 exploration steps with its
  untrained agent, G = 10, 400 rollouts per step at k = 1, 20000-step budget) on
  InvertedPendulum-v4 (mujoco 2.3.3, its pins).
The evaluation protocol is the same on both sides (1 deterministic episode every 250 env
steps, mbrl-lib's epoch) and is a measurement, not training: evaluation episodes are timed
by wrapping the eval env and left out. The clock starts at the training env's first step and
stops at the first evaluation with a return >= the threshold (mbrl-lib's worker then stops;
ours runs its budget out). Same seeds, one thread each; ``--jobs 2`` runs one worker of each
side at a time side by side (one per core), which is fair only on an otherwise idle machine.
"""

from __future__ import annotations

import json
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor

import _bench

PEER = "mbrl"
THRESHOLD = 950.0
EVAL_EVERY = 250


def worker_ours(spec: dict) -> dict:
    _bench.setup_torch(spec["threads"])
    import tempfile
    from pathlib import Path

    import methods.common.training as training
    from methods.__main__ import main as cli

    clock = _bench.ThresholdClock(eval_episodes=1, threshold=THRESHOLD)
    made = []
    make_env = training.make_env

    def make_clocked(env_id):
        env = make_env(env_id)
        made.append(env)  # the run loop makes the train env first, the eval env next
        return _bench.clocked(env, clock, is_eval=len(made) % 2 == 0, stop_at_threshold=False)

    training.make_env = make_clocked
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["train", "--variant", "mbpo-sched", "--env", "gym-InvertedPendulum-v5",
                "--seed", str(spec["seed"]), "--config", str(root / "config" / "config.yaml"),
                "--out", f"{tmp}/run", "--device", "cpu", "--threads", str(spec["threads"]),
                "--set", f"eval_every={EVAL_EVERY}", "--set", "eval_episodes=1"]  # fmt: skip
        if spec.get("max_steps"):
            argv += ["--set", f"env_steps={spec['max_steps']}"]
        if cli(argv) != 0:
            raise RuntimeError("our MBPO run failed (its error is above)")
    return {**clock.result(), "versions": _bench.versions("torch", "gymnasium", "mujoco")}


def worker_mbrl(spec: dict) -> dict:
    torch = _bench.setup_torch(spec["threads"])
    import tempfile
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import gymnasium as gym
    import mbrl.algorithms.mbpo
    import mbrl.env.termination_fns

    def edit(algorithm, overrides) -> None:
        assert overrides.epoch_length == EVAL_EVERY and algorithm.num_eval_episodes == 1
        if spec.get("max_steps"):  # a cap on its loop steps (after its exploration)
            overrides.num_steps = spec["max_steps"]

    cfg = _bench.mbrl_mbpo_config("mbpo_inv_pendulum", spec["seed"], edit)
    clock = _bench.ThresholdClock(eval_episodes=1, threshold=THRESHOLD)
    env = _bench.clocked(gym.make("InvertedPendulum-v4"), clock, False, stop_at_threshold=True)
    test_env = _bench.clocked(gym.make("InvertedPendulum-v4"), clock, True, stop_at_threshold=True)
    seed = spec["seed"]
    env.reset(seed=seed)
    test_env.reset(seed=seed + 1)
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            mbrl.algorithms.mbpo.train(env, test_env, mbrl.env.termination_fns.inverted_pendulum,
                                       cfg, silent=True, work_dir=tmp)  # fmt: skip
        except _bench.Reached:
            pass
    return {**clock.result(), "versions": _bench.versions("mbrl", "torch", "gymnasium", "mujoco")}


def main() -> None:
    parser = _bench.driver_parser(__doc__, PEER)
    parser.set_defaults(threads=1, repeats=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="workers side by side (1 or 2)")
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="cap each run's env steps (a quick check; default: own budgets)",
    )
    args = parser.parse_args()
    python = {"ours": sys.executable, PEER: args.peer_python}
    work = [(side, seed) for seed in args.seeds for side in (("ours", PEER) if seed % 2 == 0
                                                             else (PEER, "ours"))]  # fmt: skip

    def one(item):
        side, seed = item
        spec = {"threads": args.threads, "seed": seed, "max_steps": args.max_steps}
        return side, seed, _bench.run_worker(python[side], __file__, side, spec, args)

    results: dict[str, dict[int, dict]] = {"ours": {}, PEER: {}}
    with ThreadPoolExecutor(args.jobs) as pool:
        for side, seed, result in pool.map(one, work):
            results[side][seed] = result
            print(json.dumps({"side": side, "seed": seed, **result}), flush=True)
    summary = {}
    for side, by_seed in results.items():
        times = [r["seconds_to_threshold"] for r in by_seed.values() if r["reached"]]
        steps = [r["env_steps_to_threshold"] for r in by_seed.values() if r["reached"]]
        summary[side] = {
            "reached": f"{len(times)}/{len(by_seed)}",
            "median_seconds": statistics.median(times) if times else None,
            "median_env_steps": statistics.median(steps) if steps else None,
            "seconds": [by_seed[s]["seconds_to_threshold"] for s in args.seeds],
            "env_steps": [by_seed[s]["env_steps_to_threshold"] for s in args.seeds],
        }
    ours, peer = summary["ours"]["median_seconds"], summary[PEER]["median_seconds"]
    _bench.emit({
        "benchmark": "time_to_threshold_inverted_pendulum_mbpo",
        "threshold": THRESHOLD, "seeds": args.seeds, "jobs": args.jobs, **summary,
        "ratio_ours_over_mbrl_median_seconds": round(ours / peer, 3) if ours and peer else None,
        **_bench.context(args),
    })  # fmt: skip


if __name__ == "__main__":
    if _bench.is_worker_call():
        _bench.worker_main({"ours": worker_ours, PEER: worker_mbrl})
    else:
        main()
