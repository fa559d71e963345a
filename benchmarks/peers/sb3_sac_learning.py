"""SB3's SAC learning curve with our evaluation protocol (run under the SB3 peer venv).

    $PEER_VENVS/sb3/bin/python benchmarks/peers/sb3_sac_learning.py --env Hopper-v5 \
        --steps 50000 --eval-every 5000 --seed 0 [--threads 1]

SB3 2.9.2's SAC at its defaults (256x256, batch 256, lr 3e-4, automatic entropy with
target -act_dim, 100 random steps before learning, one update per step), evaluated as our
runs are: every ``--eval-every`` env steps, 5 deterministic episodes on a separate eval env
(seeded). Prints one JSON line per evaluation (env step, mean and std return, wall seconds
since the start) so its curve and its wall-clock time to a return threshold compare with
``benchmarks/sac_precision.py`` / ``learning_sac.py`` runs of ours at the same budget.
"""

from __future__ import annotations

import argparse
import json
import time

import _bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=5000)
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    _bench.setup_torch(args.threads)
    import gymnasium as gym
    import numpy as np
    from stable_baselines3 import SAC
    from stable_baselines3.common.callbacks import BaseCallback

    eval_env = gym.make(args.env)
    start = time.perf_counter()

    def evaluate(model, step: int) -> None:
        returns = []
        for ep in range(args.episodes):
            obs, _ = eval_env.reset(seed=10_000 * (args.seed + 1) + step + ep)
            done, total = False, 0.0
            while not done:
                action, _ = model.predict(obs, deterministic=True)
                obs, reward, terminated, truncated, _ = eval_env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
        versions = _bench.versions("stable-baselines3", "torch", "gymnasium", "mujoco")
        print(json.dumps({"peer": "sb3", "env": args.env, "seed": args.seed, "env_step": step,
                          "eval_return_mean": round(float(np.mean(returns)), 2),
                          "eval_return_std": round(float(np.std(returns)), 2),
                          "wall_seconds": round(time.perf_counter() - start, 1),
                          "versions": versions}), flush=True)  # fmt: skip

    class Every(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % args.eval_every == 0:
                evaluate(self.model, self.num_timesteps)
            return True

    model = SAC("MlpPolicy", gym.make(args.env), seed=args.seed, device="cpu", verbose=0)
    model.learn(total_timesteps=args.steps, callback=Every())


if __name__ == "__main__":
    main()
