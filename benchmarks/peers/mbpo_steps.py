"""MBPO on Hopper, env steps per wall-clock second: mbrl-spectrum vs mbrl-lib, same config.

    python benchmarks/peers/mbpo_steps.py [--config mbrl|paper] [--window 600] [--threads 2]

``--config mbrl`` (default) is mbrl-lib 0.2.0's own Hopper config (``examples/conf/
overrides/mbpo_hopper.yaml``): 7 x 4x200 ensemble (5 elites), retrained every 250 steps;
400 model rollouts per env step (100k per retrain), k = 1 (its schedule starts at epoch 20);
SAC with 512-wide 2-layer networks, G = 40 updates per env step, batch 256, fixed alpha 0.2,
target critic updated every 4 updates, real data ratio 0 at this stage on mbrl-lib's side
(our ``real_ratio`` is set to 0 too); 5000 exploration steps first.

``--config paper`` is the MBPO paper's Hopper config (jannerm/mbpo ``examples/config/
hopper/0.py``, our paper tier's mbpo-sched) on both sides: the same ensemble, retrains and
rollouts, SAC with 256-wide networks, G = 20, target critic updated every update, learned
temperature with target entropy -1, real data ratio 0.05 (mbrl-lib draws each batch whole
from the real buffer with that probability, ours mixes 5% into every batch: the same
arithmetic), 5000 uniformly random exploration steps.

Both configs: model weight decay 1e-5, patience 5, early stopping on the holdout MSE on
both sides (mbrl-lib's criterion; ours defaults to the NLL). Both sides run Hopper with
their own gymnasium/mujoco (ours Hopper-v5 on mujoco 3.17, mbrl-lib Hopper-v4 on 2.3.3).

The timed window is ``window`` env steps that start 50 steps after each side's first model
fit and its first SAC update, and hold ``window / 250`` warm-started retrains. Ours fits at
the end of the ``warmup`` exploration steps: env steps ``[warmup + 50, warmup + 50 +
window)``. mbrl-lib's loop counts its steps after the exploration and first fits the model
(and starts SAC updates, its SAC buffer being empty until then) at its loop step 250:
``[warmup + 300, warmup + 300 + window)``, its first fit seeing 250 more real transitions
than ours. (Before this was fixed, mbrl-lib's worker ran ``warmup + 50 + window`` loop
steps on top of its exploration, about 70 minutes at the defaults, and its window held its
from-scratch fit and steps without SAC updates.) mbrl-lib checks ``num_steps`` only between
its 1000-step epochs, so its worker always runs at least one whole epoch. Evaluation
episodes (mbrl-lib evaluates every 1000 steps) are subtracted, timed by wrapping the eval
env. Each side's training env is wrapped to timestamp every step. mbrl-lib's real replay
buffer keeps its config's capacity (``dataset_size`` = the config's ``num_steps``); before
this was set, it was sized to the shortened loop and held only the newest ~900 transitions,
so its fits and rollout starts saw a sixth of ours' data. Known differences that
remain: mbrl-lib updates its target critic every 4 updates (ours every update) and keeps
its SAC buffer for one epoch, as ours (both under ``--config mbrl``).
"""

from __future__ import annotations

import time

import _bench

PEER = "mbrl"
OFFSET = 50
MBRL_FIRST_FIT = 250  # mbrl-lib's loop step of its first model fit (freq_train_model)
CONFIGS = ("mbrl", "paper")

# ours: --set items per workload (on top of config/paper.yaml's mbpo-sched)
OURS_SETS = {
    "mbrl": ["updates_per_step=40", "hidden=512", "real_ratio=0.0", "init_alpha=0.2",
             "lr_alpha=0.0"],
    "paper": ["updates_per_step=20", "hidden=256", "real_ratio=0.05", "init_alpha=1.0",
              "target_entropy=-1.0"],
}  # fmt: skip


class StepClock:
    """Timestamps of env steps (``perf_counter``) and seconds spent in eval episodes."""

    def __init__(self):
        self.stamps: list[float] = []
        self.eval_seconds: list[tuple[float, float]] = []

    def window_seconds(self, start: int, end: int) -> float:
        t0, t1 = self.stamps[start], self.stamps[end]
        evals = sum(b - a for a, b in self.eval_seconds if t0 <= a and b <= t1)
        return t1 - t0 - evals


def timed_env(env, clock: StepClock, is_eval: bool):
    """Wrap ``env.step`` (train: stamp each step; eval: add the step's duration)."""
    step = env.step

    def stamped(action):
        start = time.perf_counter()
        out = step(action)
        end = time.perf_counter()
        if is_eval:
            clock.eval_seconds.append((start, end))
        else:
            clock.stamps.append(end)
        return out

    env.step = stamped
    return env


def worker_ours(spec: dict) -> dict:
    torch = _bench.setup_torch(spec["threads"])  # noqa: F841
    import tempfile
    from pathlib import Path

    import methods.common.training as training
    from methods.__main__ import main as cli

    clock = StepClock()
    made = []
    make_env = training.make_env

    def make_timed(env_id):
        env = make_env(env_id)
        made.append(env)
        return timed_env(env, clock, is_eval=len(made) % 2 == 0)  # train env first, eval next

    training.make_env = make_timed
    total = spec["warmup"] + OFFSET + spec["window"] + 1
    sets = [f"env_steps={total}", "eval_every=1000", "eval_episodes=1", "rollout_length=1",
            "paper_schedule=false", *OURS_SETS[spec["config"]], f"random_steps={spec['warmup']}",
            "model_train_freq=250", "rollout_batch_size=100000", "num_elites=5", "ensemble_size=7",
            "model_patience=5", "model_weight_decay=0.00001", "model_stop_on=mse",
            *spec["ours_set"]]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(__file__).resolve().parents[2]
        argv = ["train", "--variant", "mbpo-sched", "--env", "gym-Hopper-v5", "--seed", "0",
                "--config", str(root / "config" / "paper.yaml"), "--out", f"{tmp}/run",
                "--device", "cpu", "--threads", str(spec["threads"])]  # fmt: skip
        for item in sets:
            argv += ["--set", item]
        if cli(argv) != 0:
            raise RuntimeError("our MBPO run failed (its error is above)")
    start = spec["warmup"] + OFFSET
    seconds = clock.window_seconds(start, start + spec["window"])
    return {"env_steps_per_s": spec["window"] / seconds, "window_seconds": seconds,
            "versions": _bench.versions("torch", "numpy", "gymnasium", "mujoco")}  # fmt: skip


def worker_mbrl(spec: dict) -> dict:
    torch = _bench.setup_torch(spec["threads"])
    import tempfile
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import gymnasium as gym
    import mbrl.algorithms.mbpo
    import mbrl.env.termination_fns

    def edit(algorithm, overrides) -> None:
        assert overrides.freq_train_model == MBRL_FIRST_FIT, overrides.freq_train_model
        # mbrl-lib sizes its real replay buffer to num_steps unless dataset_size is set: keep
        # the config's capacity (125k) so that, as in a real run, every real transition stays
        # (the fits and rollout starts see all data, as ours)
        algorithm.dataset_size = overrides.num_steps
        overrides.num_steps = MBRL_FIRST_FIT + OFFSET + spec["window"] + 1  # loop steps only
        algorithm.initial_exploration_steps = spec["warmup"]
        if spec["config"] == "paper":
            _bench.mbrl_paper_hopper_edits(algorithm, overrides)

    cfg = _bench.mbrl_mbpo_config("mbpo_hopper", 0, edit)
    clock = StepClock()
    env = timed_env(gym.make("Hopper-v4"), clock, is_eval=False)
    test_env = timed_env(gym.make("Hopper-v4"), clock, is_eval=True)
    env.reset(seed=0)
    test_env.reset(seed=1)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        mbrl.algorithms.mbpo.train(env, test_env, mbrl.env.termination_fns.hopper, cfg,
                                   silent=True, work_dir=tmp)  # fmt: skip
    start = spec["warmup"] + MBRL_FIRST_FIT + OFFSET  # stamps: exploration, then the loop
    seconds = clock.window_seconds(start, start + spec["window"])
    return {
        "env_steps_per_s": spec["window"] / seconds,
        "window_seconds": seconds,
        "versions": _bench.versions("mbrl", "torch", "numpy", "gymnasium", "mujoco"),
    }


def main() -> None:
    parser = _bench.driver_parser(__doc__, PEER)
    parser.add_argument(
        "--window",
        type=int,
        default=600,
        help="timed env steps (<= 699 keeps mbrl-lib in one epoch)",
    )
    parser.add_argument("--warmup", type=int, default=5000, help="exploration steps first")
    parser.add_argument("--config", choices=CONFIGS, default="mbrl", help="the workload")
    parser.add_argument(
        "--ours-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="our side only, e.g. sac_precision=bf16 (in the output's workload)",
    )
    args = parser.parse_args()
    spec = {"threads": args.threads, "window": args.window, "warmup": args.warmup,
            "config": args.config, "ours_set": args.ours_set}  # fmt: skip
    runs = _bench.alternate(__file__, PEER, spec, args)
    ours = _bench.median_of(runs["ours"], "env_steps_per_s")
    peer = _bench.median_of(runs[PEER], "env_steps_per_s")
    _bench.emit({
        "benchmark": f"mbpo_hopper_env_steps_per_s_{args.config}_config",
        "ours_env_steps_per_s": round(ours, 3),
        "mbrl_env_steps_per_s": round(peer, 3),
        "ratio_ours_over_mbrl": round(ours / peer, 3),
        **_bench.maxrss_fields(runs),
        "workload": spec,
        **_bench.round_fields(runs, "env_steps_per_s", 3, "per_round_env_steps_per_s"),
        **_bench.context(args),
    })  # fmt: skip


if __name__ == "__main__":
    if _bench.is_worker_call():
        _bench.worker_main({"ours": worker_ours, PEER: worker_mbrl})
    else:
        main()
