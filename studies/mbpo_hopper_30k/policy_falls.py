"""How does a Hopper checkpoint's policy end its episodes: by the time limit, or by which of
Hopper's health conditions (torso height z < 0.7, torso angle |theta| > 0.2, a state entry
beyond +-100), after how many steps? Prints one JSON line per checkpoint.

    python studies/mbpo_hopper_30k/policy_falls.py --checkpoint RUN/checkpoint.pt [...]

The deterministic episodes are the run's own evaluation (same start seeds, the policy's mean
action: `methods.common.training.evaluate`); ``--stochastic N`` adds N episodes of the
training policy (sampled actions) from the next seeds.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from methods.common.envs import make_env


def _end(env, terminated: bool) -> str:
    """Which health condition ended the episode (Hopper-v5's, in its order), or the limit."""
    if not terminated:
        return "time limit"
    hopper = env.unwrapped
    z, angle = hopper.data.qpos[1:3]
    low_z, high_z = hopper._healthy_z_range
    low_angle, high_angle = hopper._healthy_angle_range
    low_state, high_state = hopper._healthy_state_range
    state = hopper.state_vector()[2:]
    if not np.all((low_state < state) & (state < high_state)):
        return "state out of range"
    if not low_z < z < high_z:
        return "height"
    if not low_angle < angle < high_angle:
        return "forward lean" if angle > 0 else "backward lean"
    return "terminated"


@torch.no_grad()
def episodes(state: dict, count: int, first_seed: int, stochastic: bool, seed: int) -> list[dict]:
    """``count`` episodes from seeds first_seed..: return, length, how each ended."""
    actor = state["agent"]["sac"].actor
    env = make_env(state["config"]["env"])
    gen = torch.Generator().manual_seed(seed)
    out = []
    for episode in range(count):
        obs, _ = env.reset(seed=first_seed + episode)
        total, steps, terminated, truncated = 0.0, 0, False, False
        while not (terminated or truncated):
            o = torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)
            action = actor.sample(o, gen)[0] if stochastic else actor.deterministic(o)
            obs, reward, terminated, truncated, _ = env.step(action[0].numpy())
            total, steps = total + float(reward), steps + 1
        out.append({"return": round(total, 1), "steps": steps, "end": _end(env, terminated)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True, nargs="+", help="runs' checkpoint.pt")
    parser.add_argument("--episodes", type=int, default=5, help="deterministic episodes")
    parser.add_argument("--stochastic", type=int, default=5, help="training-policy episodes")
    parser.add_argument("--seed", type=int, default=0, help="the sampled actions' seed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for path in args.checkpoint:
        state = torch.load(path, map_location="cpu", weights_only=False)
        first = int(state["seeds"].ints["eval_env"])
        row = {"checkpoint": path, "env_steps": int(state["loop"].step),
               "deterministic": episodes(state, args.episodes, first, False, args.seed),
               "stochastic": episodes(state, args.stochastic, first + args.episodes, True,
                                      args.seed)}  # fmt: skip
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
