"""Does bf16 planning control as well as fp32, and a CUDA-graph planner as well as the eager
one? Same model, same planner, same seeds. JSON lines.

    python studies/precision_bf16/planning_precision.py \
        [--envs gym-InvertedPendulum-v5 gym-Pendulum-v1] [--episodes 5] [--threads 1] \
        [--tier config|paper]
    python studies/precision_bf16/planning_precision.py --compare graphs --device cuda  # graphs

For each env: collect ``random`` uniformly random transitions, fit the default tier's
ensemble on them (fp32), then run ``--episodes`` closed-loop episodes of the default
tier's ``mpc-cem`` planner (no refits, capped at ``--max-steps``) once with
``planning_precision: fp32`` and once with ``bf16``, episode by episode alternating, the
planner's generator and the env's reset seed equal for both. Prints per precision the
episode returns and lengths and the median planning ms per action; then the ratio of the
medians (bf16 / fp32). The ``planning_precision`` option only changes the
dtype of the model's matmuls while scoring candidates (``methods/mpc.py``), so equal
control quality here (returns within seed-to-seed spread) says that bf16's ~3x cheaper
planning on CPUs with AVX512-BF16 buys the same actions. Times on a loaded machine compare
only as a ratio.

``--compare graphs`` runs fp32 eagerly and as one captured CUDA graph per action
(``cuda_graphs``) instead; ``--tier paper`` takes the paper tier's planner (PETS:
population 500, horizon 30, 20 particles) instead of the default tier's. The timed
``plan_action`` includes copying the action to the host, so GPU times are complete.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from methods.common.config import load_config_file, resolve
from methods.common.envs import make_env
from methods.common.training import offline_context
from methods.mpc import Config, MPCAgent
from methods.registry import all_config_keys

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_common"))  # _runs, _data
from _data import random_buffer  # noqa: E402

RANDOM = {"gym-InvertedPendulum-v5": 1000, "gym-Pendulum-v1": 2000, "dmc-cartpole-swingup": 2000}
MODES = {  # compare -> {mode name: config overrides}
    "precision": {"fp32": {"planning_precision": "fp32"}, "bf16": {"planning_precision": "bf16"}},
    "graphs": {"eager": {"cuda_graphs": False}, "graph": {"cuda_graphs": True}},
}


def episode(agent: MPCAgent, env_id: str, seed: int, max_steps: int) -> tuple[float, int, float]:
    """One closed-loop episode from reset seed ``seed``: return, length, median ms/action."""
    env = make_env(env_id)
    agent.gen.manual_seed(seed)  # the planner's samples ...
    agent.model_env.generator.manual_seed(seed)  # ... and the particles' member draws
    obs, _ = env.reset(seed=seed)
    agent.on_reset(obs)
    total, times = 0.0, []
    for _ in range(max_steps):
        start = time.perf_counter()
        act = agent.plan_action(obs, env)
        times.append(1000.0 * (time.perf_counter() - start))
        obs, reward, terminated, truncated, _ = env.step(act)
        total += float(reward)
        if terminated or truncated:
            break
    return total, len(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", nargs="+", default=list(RANDOM)[:2], choices=sorted(RANDOM))
    parser.add_argument("--compare", choices=sorted(MODES), default="precision")
    parser.add_argument("--tier", choices=("config", "paper"), default="config")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    root = Path(__file__).resolve().parents[2]
    file_cfg = load_config_file(root / "config" / f"{args.tier}.yaml")
    modes = MODES[args.compare]
    for env_id in args.envs:
        cfg = resolve(Config, env_id, "mpc-cem", file_cfg, {}, all_config_keys())
        buf = random_buffer(env_id, RANDOM[env_id], args.seed, device)
        ctx = offline_context(env_id, "planning-precision", buf.obs.shape[1], buf.act.shape[1],
                              args.seed, device)  # fmt: skip
        agents = {name: MPCAgent(ctx, Config(**{**vars(cfg), **overrides}))
                  for name, overrides in modes.items()}  # fmt: skip
        first, *others = agents.values()
        fit, _ = first.trainer.fit(buf)
        for agent in others:
            agent.model.load_state_dict(first.model.state_dict())
        results = {p: {"returns": [], "lengths": [], "ms": []} for p in agents}
        for ep in range(args.episodes):
            for precision, agent in agents.items():
                agent.model_trained = True
                ret, length, ms = episode(agent, env_id, 1000 + ep, args.max_steps)
                results[precision]["returns"].append(round(ret, 2))
                results[precision]["lengths"].append(length)
                results[precision]["ms"].append(round(ms, 2))
        record = {"benchmark": f"planning_{args.compare}", "env": env_id, "tier": args.tier,
                  "random_transitions": RANDOM[env_id], "model_fit": fit,
                  "planner": {k: getattr(cfg, k) for k in ("horizon", "population",
                              "cem_elites", "iterations", "particles", "propagation")},
                  "device": str(device), "threads": args.threads,
                  "torch": torch.__version__}  # fmt: skip
        if device.type == "cuda":
            record["gpu"] = torch.cuda.get_device_name(device)
        for precision, res in results.items():
            record[precision] = {**res, "mean_return": round(float(np.mean(res["returns"])), 2),
                                 "median_ms_per_action": statistics.median(res["ms"])}  # fmt: skip
        (a, _), (b, _) = list(results.items())[0], list(results.items())[1]
        record[f"ms_ratio_{b}_over_{a}"] = round(
            record[b]["median_ms_per_action"] / record[a]["median_ms_per_action"], 3
        )
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
