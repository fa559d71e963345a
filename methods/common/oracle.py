"""The true simulator as the planner's model (``mpc-oracle``): scores action sequences from
the real env's current state.

``SimulatorCopy`` steps a copy of the env candidate by candidate (any env with a state copy).
``MujocoRollouts`` rolls the whole population out in MuJoCo's C rollout (``mujoco.rollout``)
and computes the reward from the states with numpy, for the envs in ``ROLLOUT_TASKS``; it
returns what ``SimulatorCopy`` returns (``tests/unit/test_oracle.py``), ~9x faster on
cartpole swingup.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np
import torch
from mujoco import rollout

from methods.common.envs import get_sim_state, make_env, set_sim_state


class SimulatorCopy:
    """Scores action sequences on a copy of the env, restoring the current state each time."""

    def __init__(self, env_id: str):
        self.env = make_env(env_id)
        self.env.reset(seed=0)
        raw = self.env.unwrapped
        self.dmc = raw if hasattr(raw, "simulate") else None  # dm_control: physics-only steps
        space = raw.action_space
        self.low, self.scale = space.low, (space.high - space.low) / 2

    def sync(self, real_env) -> None:
        """Copy the real env's simulator state into this copy."""
        set_sim_state(self.env, get_sim_state(real_env))

    def step(self, action: np.ndarray) -> tuple[float, bool]:
        """One agent step from an action in [-1, 1]: (reward, terminated)."""
        if self.dmc is not None:  # not env.step: dm_control's episode clock would reset it
            return self.dmc.simulate(self.low + (action + 1) * self.scale), False
        _, reward, terminated, _, _ = self.env.step(action)
        return float(reward), bool(terminated)

    def returns(self, candidates: torch.Tensor) -> torch.Tensor:
        """(P, H, A) sequences in [-1, 1] -> (P,) true returns (0 after termination)."""
        start = get_sim_state(self.env)
        out = np.zeros(len(candidates))
        for i, seq in enumerate(candidates.cpu().numpy()):
            set_sim_state(self.env, start)
            for action in seq:
                reward, terminated = self.step(action)
                out[i] += reward
                if terminated:
                    break
        set_sim_state(self.env, start)
        return torch.as_tensor(out, dtype=torch.float32, device=candidates.device)


# (qpos (P, T, nq), qvel (P, T, nv), ctrl (P, T, nu)) after each control step, T = H x
# action repeat -> reward (P, T)
RewardFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def cartpole_swingup_reward(qpos, qvel, ctrl):
    """dm_control cartpole swingup (smooth reward, one pole): upright x centered x small
    control x small velocity, with dm_control's own ``tolerance``."""
    from dm_control.utils.rewards import tolerance

    upright = (np.cos(qpos[..., 1]) + 1) / 2
    centered = (1 + tolerance(qpos[..., 0], margin=2)) / 2
    small_control = (4 + tolerance(ctrl[..., 0], margin=1, value_at_margin=0,
                                   sigmoid="quadratic")) / 5  # fmt: skip
    small_velocity = (1 + tolerance(qvel[..., 1], margin=5)) / 2
    return upright * small_control * small_velocity * centered


# dm_control tasks without terminal states whose reward is a function of qpos, qvel and the
# control. (InvertedPendulum is left to SimulatorCopy: its candidates mostly end within a
# few steps, and the copy stops there while a rollout runs the whole horizon: 0.25 vs
# 0.79 s per action at population 100, horizon 30, 5 iterations.)
ROLLOUT_TASKS: dict[str, RewardFn] = {"dmc-cartpole-swingup": cartpole_swingup_reward}


class MujocoRollouts:
    """Scores the whole population in one ``mujoco.rollout`` call on the dm_control env's own
    MjModel (an agent step is ``action_repeat`` control steps of the task)."""

    def __init__(self, env_id: str):
        self.copy = SimulatorCopy(env_id)  # holds the synced state
        self.reward_fn = ROLLOUT_TASKS[env_id]
        raw = self.copy.env.unwrapped
        self.model, self.data = raw.physics.model.ptr, raw.physics.data.ptr
        self.physics_per_control = raw.physics_steps_per_control
        self.controls_per_action = raw.action_repeat
        self.scratch = mujoco.MjData(self.model)
        self.spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        # the full physics state is time, qpos, qvel, ...
        first = mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_TIME)
        nq, nv = self.model.nq, self.model.nv
        self.qpos, self.qvel = slice(first, first + nq), slice(first + nq, first + nq + nv)

    def sync(self, real_env) -> None:
        self.copy.sync(real_env)

    def returns(self, candidates: torch.Tensor) -> torch.Tensor:
        """(P, H, A) sequences in [-1, 1] -> (P,) true returns."""
        start = np.empty(mujoco.mj_stateSize(self.model, self.spec))
        mujoco.mj_getState(self.model, self.data, start, self.spec)
        actions = candidates.detach().cpu().numpy().astype(np.float64)
        ctrl = self.copy.low + (actions + 1) * self.copy.scale  # (P, H, nu)
        ctrl = np.repeat(ctrl, self.controls_per_action * self.physics_per_control, axis=1)
        states, _ = rollout.rollout(self.model, self.scratch, start[None], ctrl,
                                    initial_warmstart=self.data.qacc_warmstart[None])  # fmt: skip
        ends = slice(self.physics_per_control - 1, None, self.physics_per_control)
        at_ends = states[:, ends]
        reward = self.reward_fn(at_ends[..., self.qpos], at_ends[..., self.qvel], ctrl[:, ends])
        return torch.as_tensor(reward.sum(1), dtype=torch.float32, device=candidates.device)


def make_oracle(env_id: str) -> SimulatorCopy | MujocoRollouts:
    """The fastest exact true-simulator scorer for ``env_id``."""
    return MujocoRollouts(env_id) if env_id in ROLLOUT_TASKS else SimulatorCopy(env_id)
