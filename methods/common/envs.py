"""Environment registry: filesystem-safe ids -> real environments and their per-env defaults.

Every environment is exposed with actions rescaled to [-1, 1] so that the policy, the
model and the buffers all work in one action space. dm_control tasks are flattened into a
gymnasium ``Box`` observation through :class:`DMCGymAdapter`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch

from methods.common.errors import UserError

TerminationFn = Callable[[torch.Tensor], torch.Tensor]
"""Maps next observations ``(..., obs_dim)`` to a bool tensor ``(...)``: True = episode over."""


def never_terminates(next_obs: torch.Tensor) -> torch.Tensor:
    """Used for envs without early termination (time limits are handled by rollout length)."""
    return torch.zeros(next_obs.shape[:-1], dtype=torch.bool, device=next_obs.device)


def _non_finite(next_obs: torch.Tensor) -> torch.Tensor:
    return ~torch.isfinite(next_obs).all(dim=-1)


def hopper_terminates(next_obs: torch.Tensor) -> torch.Tensor:
    """MBPO's Hopper health check (obs[0] = height, obs[1] = torso angle)."""
    height, angle = next_obs[..., 0], next_obs[..., 1]
    healthy = (next_obs[..., 1:].abs() < 100).all(dim=-1) & (height > 0.7) & (angle.abs() < 0.2)
    return ~healthy | _non_finite(next_obs)


def walker2d_terminates(next_obs: torch.Tensor) -> torch.Tensor:
    """MBPO's Walker2d health check: 0.8 < height < 2.0 and |angle| < 1."""
    height, angle = next_obs[..., 0], next_obs[..., 1]
    healthy = (height > 0.8) & (height < 2.0) & (angle > -1.0) & (angle < 1.0)
    return ~healthy | _non_finite(next_obs)


def ant_terminates(next_obs: torch.Tensor) -> torch.Tensor:
    """MBPO's Ant health check on the 27-dim observation: 0.2 <= torso z <= 1.0."""
    z = next_obs[..., 0]
    return ~((z >= 0.2) & (z <= 1.0)) | _non_finite(next_obs)


def inverted_pendulum_terminates(next_obs: torch.Tensor) -> torch.Tensor:
    """MBPO's InvertedPendulum check: the pole angle (obs[1]) leaves [-0.2, 0.2]."""
    return (next_obs[..., 1].abs() > 0.2) | _non_finite(next_obs)


class DMCGymAdapter(gym.Env):
    """A dm_control suite task as a gymnasium env with a flat float32 observation.

    ``action_repeat`` repeats each action in the simulator and sums rewards; one call to
    :meth:`step` is one agent step. Episodes end by truncation only (dm_control tasks have
    no terminal states).
    """

    metadata = {"render_modes": []}

    def __init__(self, domain: str, task: str, action_repeat: int = 1):
        from dm_control import suite

        self._env = suite.load(domain, task, task_kwargs={"random": 0})
        self._action_repeat = action_repeat
        self._obs_keys = list(self._env.observation_spec().keys())
        obs_dim = sum(int(np.prod(spec.shape)) for spec in self._env.observation_spec().values())
        spec = self._env.action_spec()
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.action_space = gym.spaces.Box(
            spec.minimum.astype(np.float32), spec.maximum.astype(np.float32), dtype=np.float32
        )

    def _flatten(self, observation) -> np.ndarray:
        return np.concatenate(
            [np.asarray(observation[k], dtype=np.float32).ravel() for k in self._obs_keys]
        )

    def reset(self, *, seed: int | None = None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self._env.task.random.seed(seed)
        return self._flatten(self._env.reset().observation), {}

    def step(self, action):
        reward = 0.0
        for _ in range(self._action_repeat):
            time_step = self._env.step(action)
            reward += time_step.reward or 0.0
            if time_step.last():
                break
        return self._flatten(time_step.observation), reward, False, time_step.last(), {}

    @property
    def physics(self):
        """The dm_control physics (for state copies in oracle planning)."""
        return self._env.physics

    @property
    def action_repeat(self) -> int:
        """dm_control control steps per agent step."""
        return self._action_repeat

    @property
    def physics_steps_per_control(self) -> int:
        """MuJoCo steps per dm_control control step."""
        return max(1, round(self._env.control_timestep() / self._env.physics.timestep()))

    def simulate(self, action: np.ndarray) -> float:
        """One agent step on the physics alone, for scoring plans on a copy of the simulator:
        the task's control, the physics steps and the task's reward, summed over the action
        repeat. No observation and no episode clock: dm_control's own ``step`` starts a new
        episode (a random state) after its time limit, which a planner stepping thousands of
        candidate steps from one state would reach mid-candidate."""
        env, physics = self._env, self._env.physics
        sub_steps, reward = self.physics_steps_per_control, 0.0
        for _ in range(self._action_repeat):
            env.task.before_step(action, physics)
            physics.step(sub_steps)
            env.task.after_step(physics)
            reward += env.task.get_reward(physics) or 0.0
        return reward


@dataclass(frozen=True)
class EnvSpec:
    """What the suite knows about one environment.

    ``env_steps`` is the default-tier budget in agent steps; ``paper_env_steps`` the MBPO
    paper's. ``rollout_schedule`` is MBPO's ``[min_epoch, max_epoch, min_k, max_k]`` with
    epochs of ``epoch_length`` env steps.
    """

    env_id: str
    make: Callable[[], gym.Env]
    episode_length: int
    termination_fn: TerminationFn
    env_steps: int
    paper_env_steps: int
    eval_every: int
    rollout_schedule: tuple[int, int, int, int] = (20, 100, 1, 1)
    updates_per_step: int = 20
    epoch_length: int = 1000
    mbpo_target_entropy: float | None = None  # MBPO paper's SAC target entropy
    mbpo_random_steps: int = 5000  # MBPO paper's initial exploration steps
    action_repeat: int = 1
    family: str = "gym"
    notes: str = ""
    extra: dict = field(default_factory=dict)


def _gym(name: str, **kwargs) -> Callable[[], gym.Env]:
    return lambda: gym.make(name, **kwargs)


def _dmc(domain: str, task: str, action_repeat: int) -> Callable[[], gym.Env]:
    def make() -> gym.Env:
        env = DMCGymAdapter(domain, task, action_repeat)
        return gym.wrappers.TimeLimit(env, max_episode_steps=1000 // action_repeat)

    return make


_SPECS = [
    EnvSpec("gym-Pendulum-v1", _gym("Pendulum-v1"), 200, never_terminates,
            env_steps=10_000, paper_env_steps=20_000, eval_every=1000,
            rollout_schedule=(1, 15, 1, 1), epoch_length=200),
    EnvSpec("gym-InvertedPendulum-v5", _gym("InvertedPendulum-v5"), 1000,
            inverted_pendulum_terminates, env_steps=15_000, paper_env_steps=15_000,
            eval_every=1000, rollout_schedule=(1, 15, 1, 1), epoch_length=250,
            updates_per_step=10, mbpo_target_entropy=-0.05, mbpo_random_steps=500),
    EnvSpec("gym-Hopper-v5", _gym("Hopper-v5"), 1000, hopper_terminates,
            env_steps=100_000, paper_env_steps=125_000, eval_every=5000,
            rollout_schedule=(20, 150, 1, 15), mbpo_target_entropy=-1.0),
    EnvSpec("gym-HalfCheetah-v5", _gym("HalfCheetah-v5"), 1000, never_terminates,
            env_steps=100_000, paper_env_steps=400_000, eval_every=5000,
            rollout_schedule=(20, 150, 1, 1), updates_per_step=40, mbpo_target_entropy=-3.0),
    EnvSpec("gym-Walker2d-v5", _gym("Walker2d-v5"), 1000, walker2d_terminates,
            env_steps=100_000, paper_env_steps=300_000, eval_every=5000,
            rollout_schedule=(20, 150, 1, 1), mbpo_target_entropy=-3.0),
    EnvSpec("gym-Ant-v5", _gym("Ant-v5", include_cfrc_ext_in_observation=False), 1000,
            ant_terminates, env_steps=100_000, paper_env_steps=300_000, eval_every=5000,
            rollout_schedule=(20, 100, 1, 25), mbpo_target_entropy=-4.0,
            notes="27-dim observation without contact forces, as MBPO's truncated Ant"),
    EnvSpec("dmc-cartpole-swingup", _dmc("cartpole", "swingup", 4), 250, never_terminates,
            env_steps=20_000, paper_env_steps=100_000, eval_every=1000,
            action_repeat=4, family="dmc", epoch_length=250),
    EnvSpec("dmc-cheetah-run", _dmc("cheetah", "run", 4), 250, never_terminates,
            env_steps=100_000, paper_env_steps=250_000, eval_every=5000,
            action_repeat=4, family="dmc", epoch_length=250),
    EnvSpec("dmc-walker-walk", _dmc("walker", "walk", 2), 500, never_terminates,
            env_steps=100_000, paper_env_steps=500_000, eval_every=5000,
            action_repeat=2, family="dmc", epoch_length=500),
    EnvSpec("dmc-reacher-easy", _dmc("reacher", "easy", 4), 250, never_terminates,
            env_steps=50_000, paper_env_steps=250_000, eval_every=2500,
            action_repeat=4, family="dmc", epoch_length=250),
]  # fmt: skip

REGISTRY: dict[str, EnvSpec] = {spec.env_id: spec for spec in _SPECS}


def known_env_ids() -> list[str]:
    return list(REGISTRY)


def get_spec(env_id: str) -> EnvSpec:
    """Return the spec of ``env_id``; an unknown id raises a UserError listing the known ones."""
    try:
        return REGISTRY[env_id]
    except KeyError:
        raise UserError(
            f"unknown env '{env_id}'; known envs: {', '.join(known_env_ids())}"
        ) from None


def get_sim_state(env: gym.Env) -> np.ndarray:
    """A copy of the simulator state: dm_control physics state, MuJoCo (qpos, qvel)
    concatenated, or a classic-control ``state`` (Pendulum)."""
    raw = env.unwrapped
    if hasattr(raw, "physics"):
        return raw.physics.get_state().copy()
    if hasattr(raw, "data"):
        return np.concatenate([raw.data.qpos, raw.data.qvel])
    return np.array(raw.state, dtype=np.float64)


def set_sim_state(env: gym.Env, state: np.ndarray) -> None:
    """Restore a state taken by :func:`get_sim_state` (of the same env id)."""
    raw = env.unwrapped
    if hasattr(raw, "physics"):
        with raw.physics.reset_context():
            raw.physics.set_state(state)
    elif hasattr(raw, "data"):
        nq = raw.data.qpos.shape[0]
        raw.set_state(state[:nq], state[nq:])
    else:
        raw.state = np.array(state, dtype=np.float64)


def get_sim_obs(env: gym.Env) -> np.ndarray:
    """The observation (obs_dim,) of the env's current simulator state, as its own ``step``
    would return it (through the wrappers' observation transforms): for a twin whose state
    was set by :func:`set_sim_state`."""
    raw = env.unwrapped
    if isinstance(raw, DMCGymAdapter):
        obs = raw._flatten(raw._env.task.get_observation(raw.physics))
    elif hasattr(raw, "_get_obs"):  # gymnasium MuJoCo and classic-control envs
        obs = raw._get_obs()
    else:
        raise TypeError(f"cannot observe the simulator state of {type(raw).__name__}")
    chain = []
    while isinstance(env, gym.Wrapper):
        chain.append(env)
        env = env.env
    for wrapper in reversed(chain):  # innermost transform first
        if isinstance(wrapper, gym.ObservationWrapper):
            obs = wrapper.observation(obs)
    return obs


def get_reset_rng(env: gym.Env):
    """A copy of the RNG that the next ``reset()`` (without a seed) draws the start state
    from: dm_control's task RandomState, else gymnasium's ``np_random``."""
    raw = env.unwrapped
    if isinstance(raw, DMCGymAdapter):
        return raw._env.task.random.get_state()
    return raw.np_random.bit_generator.state


def set_reset_rng(env: gym.Env, state) -> None:
    """Restore an RNG state taken by :func:`get_reset_rng` (the env must have been reset)."""
    raw = env.unwrapped
    if isinstance(raw, DMCGymAdapter):
        raw._env.task.random.set_state(state)
    else:
        raw.np_random.bit_generator.state = state


def make_env(env_id: str) -> gym.Env:
    """Build the environment with actions rescaled to [-1, 1] and float32 observations."""
    env = get_spec(env_id).make()
    env = gym.wrappers.RescaleAction(env, -1.0, 1.0)
    return gym.wrappers.TransformObservation(env, as_float32, env.observation_space)


def as_float32(observation) -> np.ndarray:
    """Observation as float32 (a module-level function, so that envs pickle for checkpoints)."""
    return np.asarray(observation, dtype=np.float32)
