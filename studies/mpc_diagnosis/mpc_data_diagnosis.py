"""Is mpc-cem on InvertedPendulum limited by its planner or by its data? Prints one JSON line.

    python studies/mpc_diagnosis/mpc_data_diagnosis.py [--oracle-steps 1000] [--noise 0.3]
        [--episodes 3] [--max-steps 300] [--precision bf16] [--variant mpc-icem --set K=V]

Fits the default tier's ensemble on (a) ``--random-steps`` uniformly random transitions
only, and (b) the same plus ``--oracle-steps`` transitions of the oracle planner (CEM on
the true simulator, the default tier's ``mpc-oracle``) with Gaussian action noise
``--noise`` (data around the balancing region, as a good controller would collect), then
runs the default tier's ``mpc-cem`` planner on each model for ``--episodes`` closed-loop
episodes (same reset seeds, no refits). If (b) balances and (a) does not, the planner and
the model class are able to control the pendulum and what mpc-cem's learning loop lacks
within its budget is data near the balancing region. ``--variant`` and ``--set`` diagnose
another planner of the tier the same way (e.g. ``mpc-icem`` with ``icem_execute=best``).

``--model-from RUN/model.pt`` skips (a) and (b): the planner controls with a learning run's
final model instead (planner vs planner on one model: does a planner that failed in its
own learning loop balance with a model that another planner's loop learned?).
``--true-simulator`` likewise, with the true simulator as the model (``oracle=true``, one
particle): the optimiser alone, without model error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from methods.common.buffer import ReplayBuffer
from methods.common.config import load_config_file, parse_set_options, resolve
from methods.common.envs import make_env
from methods.common.training import offline_context
from methods.mpc import Config, MPCAgent
from methods.registry import all_config_keys

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_common"))  # _runs, _data
from _data import collect  # noqa: E402
from _runs import add_set_option  # noqa: E402

ENV = "gym-InvertedPendulum-v5"


def control(agent: MPCAgent, episodes: int, max_steps: int) -> dict:
    """Closed-loop episodes of the planner: returns and the mean planned return."""
    env = make_env(ENV)
    returns, planned, ms, final = [], [], [], []
    for ep in range(episodes):
        obs, _ = env.reset(seed=100 + ep)
        agent.on_reset(obs)
        total, steps, start = 0.0, 0, time.perf_counter()
        while steps < max_steps:
            obs, reward, terminated, _, _ = env.step(agent.plan_action(obs, env))
            total, steps = total + float(reward), steps + 1
            if terminated:
                break
        ms.append(1000 * (time.perf_counter() - start) / steps)
        returns.append(total)
        final.append([round(float(v), 3) for v in obs])  # x, angle, x', angle'
        planned.append(float(np.mean(agent.stats["mpc/planned_return"][-steps:])))
    return {"returns": returns, "planned_return_mean": [round(p, 2) for p in planned],
            "ms_per_action": round(float(np.mean(ms)), 1), "final_obs": final}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--random-steps", type=int, default=1000)
    parser.add_argument("--oracle-steps", type=int, default=1000)
    parser.add_argument("--noise", type=float, default=0.3, help="action noise std, [-1, 1]")
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variant", default="mpc-cem", help="the tier's planner to diagnose")
    planner_model = parser.add_mutually_exclusive_group()
    planner_model.add_argument(
        "--model-from",
        type=Path,
        default=None,
        help="a run's model.pt: control with it (no data collection, no fit)",
    )
    planner_model.add_argument(
        "--true-simulator",
        action="store_true",
        help="plan on the true simulator (oracle, 1 particle): no data collection, no fit",
    )
    add_set_option(parser, "icem_execute=best")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    file_cfg = load_config_file(Path(__file__).resolve().parents[2] / "config" / "config.yaml")
    keys = all_config_keys()
    overrides = {"planning_precision": args.precision, **parse_set_options(args.set)}
    if args.true_simulator:
        overrides.update(oracle=True, particles=1)
    cfg = resolve(Config, ENV, args.variant, file_cfg, overrides, keys)
    ctx = offline_context(ENV, "diagnosis", 4, 1)
    if args.model_from is not None or args.true_simulator:
        agent, key = MPCAgent(ctx, cfg), "true_simulator"
        if args.model_from is not None:
            agent.model.load_state_dict(torch.load(args.model_from, map_location="cpu"))
            agent.model_trained, key = True, "from_model"
        record = {"benchmark": "mpc_data_diagnosis", "env": ENV, "args": vars(args),
                  key: control(agent, args.episodes, args.max_steps)}  # fmt: skip
        print(json.dumps(record, default=str), flush=True)
        return
    oracle_cfg = resolve(Config, ENV, "mpc-oracle", file_cfg, {}, keys)
    oracle = MPCAgent(ctx, oracle_cfg)
    rng = np.random.default_rng(0)

    def uniform(obs, env, rng):
        return rng.uniform(-1, 1, 1).astype(np.float32)

    def noisy_oracle(obs, env, rng):
        action = oracle.plan_action(obs, env) + args.noise * rng.standard_normal(1)
        return np.clip(action, -1, 1).astype(np.float32)

    capacity = args.random_steps + args.oracle_steps
    random_only = ReplayBuffer(4, 1, capacity, torch.device("cpu"))
    collect(ENV, random_only, args.random_steps, uniform, rng, seed=0)
    with_oracle = ReplayBuffer(4, 1, capacity, torch.device("cpu"))
    with_oracle.add_batch(*random_only.all())
    oracle.on_reset(np.zeros(4))
    oracle_lengths = collect(ENV, with_oracle, args.oracle_steps, noisy_oracle, rng, seed=1)
    record = {"benchmark": "mpc_data_diagnosis", "env": ENV, "args": vars(args),
              "oracle_episode_lengths": oracle_lengths}  # fmt: skip
    for name, buf in (("random_only", random_only), ("random_plus_noisy_oracle", with_oracle)):
        agent = MPCAgent(ctx, Config(**vars(cfg)))
        fit, _ = agent.trainer.fit(buf)
        agent.model_trained = True
        record[name] = {"transitions": len(buf), "model_fit": fit,
                        **control(agent, args.episodes, args.max_steps)}  # fmt: skip
    print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
