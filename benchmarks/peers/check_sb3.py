"""Tiny smoke check for the Stable-Baselines3 peer venv (see setup_sb3.sh).

Constructs and steps gymnasium's Hopper-v5 (MuJoCo), then builds an SB3 SAC agent
on it and runs a few environment steps plus a few gradient updates with tiny sizes.
Prints one line "ok: sb3 ...".
"""

from __future__ import annotations

import importlib.metadata as md

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import SAC

ENV_ID = "Hopper-v5"


def main() -> None:
    torch.set_num_threads(1)
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(5):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    assert obs.shape == (11,), obs.shape

    model = SAC(
        "MlpPolicy",
        env,
        learning_starts=10,
        batch_size=8,
        buffer_size=100,
        policy_kwargs={"net_arch": [16, 16]},
        seed=0,
        device="cpu",
        verbose=0,
    )
    model.learn(total_timesteps=20)
    action, _ = model.predict(obs, deterministic=True)
    assert np.asarray(action).shape == (3,)
    env.close()

    v = {k: md.version(k) for k in ("stable-baselines3", "torch", "gymnasium", "mujoco", "numpy")}
    print("ok: sb3 " + " ".join(f"{k}={x}" for k, x in v.items()) + f" env={ENV_ID}")


if __name__ == "__main__":
    main()
