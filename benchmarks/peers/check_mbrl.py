"""Tiny smoke check for the mbrl-lib (mbrl 0.2.0) peer venv.

Run with the peer venv's python (see setup_mbrl.sh). Imports the pieces the
speed benchmarks need, steps gymnasium's Hopper-v4, builds a small GaussianMLP
ensemble through ``create_one_dim_tr_model``, runs one CEM planning step (PETS)
and instantiates the MBPO SAC agent. Prints one line "ok: mbrl ...".

``--train`` additionally runs a few steps of ``mbrl.algorithms.pets.train`` and
``mbrl.algorithms.mbpo.train`` on Hopper-v4 with tiny sizes (a few seconds).

hydra-core >= 1.1 instantiates nested ``_target_`` nodes recursively; mbrl 0.2.0
was written for hydra 1.0 (non-recursive), so every config that mbrl passes to
``hydra.utils.instantiate`` carries ``_recursive_: false`` here (dynamics_model,
algorithm.agent). Benchmarks must do the same.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import tempfile
import warnings

warnings.filterwarnings("ignore")

import gymnasium as gym  # noqa: E402
import hydra  # noqa: E402
import mbrl  # noqa: E402
import mbrl.algorithms.mbpo  # noqa: E402
import mbrl.algorithms.pets  # noqa: E402
import mbrl.env.termination_fns  # noqa: E402
import mbrl.models  # noqa: E402
import mbrl.planning  # noqa: E402
import mbrl.util.common  # noqa: E402
import numpy as np  # noqa: E402
import omegaconf  # noqa: E402
import torch  # noqa: E402
from mbrl.models import GaussianMLP  # noqa: E402, F401
from mbrl.planning import CEMOptimizer  # noqa: E402, F401

# gymnasium 0.26.3 installs its own "once" filter at import (np.bool8 on every step)
warnings.filterwarnings("ignore", category=DeprecationWarning)

ENV_ID = "Hopper-v4"


def make_cfg(algo: str) -> omegaconf.DictConfig:
    """A small version of mbrl/examples/conf (main + gaussian_mlp_ensemble + algo + cem)."""
    dyn = {
        "_target_": "mbrl.models.GaussianMLP",
        "_recursive_": False,  # keep activation_fn_cfg a DictConfig (hydra>=1.1)
        "device": "cpu",
        "num_layers": 2,
        "in_size": "???",
        "out_size": "???",
        "ensemble_size": 4,  # population * particles must be a multiple
        "hid_size": 16,
        "deterministic": False,
        "propagation_method": "random_model",
        "learn_logvar_bounds": False,
        "activation_fn_cfg": {"_target_": "torch.nn.SiLU"},
    }
    overrides = {
        "env": f"gym___{ENV_ID}",
        "term_fn": "hopper",
        "num_steps": 12,
        "epoch_length": 6,
        "trial_length": 12,
        "num_elites": 2,
        "patience": 1,
        "num_epochs_train_model": 1,
        "model_lr": 1e-3,
        "model_wd": 1e-5,
        "model_batch_size": 8,
        "validation_ratio": 0.2,
        "freq_train_model": 6,
        "learned_rewards": True,  # mbrl 0.2.0 ships no hopper reward fn
        "planning_horizon": 3,
        "cem_num_iters": 1,
        "cem_elite_ratio": 0.5,
        "cem_population_size": 8,
        "cem_alpha": 0.1,
        "cem_clipped_normal": False,
        "effective_model_rollouts_per_step": 4,
        "rollout_schedule": [1, 15, 1, 1],
        "num_sac_updates_per_step": 1,
        "sac_updates_every_steps": 1,
        "num_epochs_to_retain_sac_buffer": 1,
        "sac_gamma": 0.99,
        "sac_tau": 0.005,
        "sac_alpha": 0.2,
        "sac_policy": "Gaussian",
        "sac_target_update_interval": 4,
        "sac_automatic_entropy_tuning": False,
        "sac_target_entropy": 1,
        "sac_hidden_size": 16,
        "sac_lr": 3e-4,
        "sac_batch_size": 4,
    }
    cem = {
        "_target_": "mbrl.planning.CEMOptimizer",
        "num_iterations": "${overrides.cem_num_iters}",
        "elite_ratio": "${overrides.cem_elite_ratio}",
        "population_size": "${overrides.cem_population_size}",
        "alpha": "${overrides.cem_alpha}",
        "lower_bound": "???",
        "upper_bound": "???",
        "return_mean_elites": True,
        "device": "${device}",
        "clipped_normal": "${overrides.cem_clipped_normal}",
    }
    if algo == "pets":
        algorithm = {
            "name": "pets",
            "agent": {
                "_target_": "mbrl.planning.TrajectoryOptimizerAgent",
                "_recursive_": False,  # optimizer_cfg must reach the agent as a config
                "action_lb": "???",
                "action_ub": "???",
                "planning_horizon": "${overrides.planning_horizon}",
                "optimizer_cfg": "${action_optimizer}",
                "replan_freq": 1,
                "verbose": False,
            },
            "normalize": True,
            "normalize_double_precision": True,
            "target_is_delta": True,
            "initial_exploration_steps": "${overrides.trial_length}",
            "freq_train_model": "${overrides.freq_train_model}",
            "learned_rewards": "${overrides.learned_rewards}",
            "num_particles": 2,
        }
    else:
        algorithm = {
            "name": "mbpo",
            "normalize": True,
            "normalize_double_precision": True,
            "target_is_delta": True,
            "learned_rewards": True,
            "freq_train_model": "${overrides.freq_train_model}",
            "real_data_ratio": 0.0,
            "sac_samples_action": True,
            "initial_exploration_steps": 6,
            "random_initial_explore": False,
            "num_eval_episodes": 1,
            "agent": {
                "_target_": "mbrl.third_party.pytorch_sac_pranz24.sac.SAC",
                "_recursive_": False,  # action_space (bogus target gym.env.Box) stays a config
                "num_inputs": "???",
                "action_space": {
                    "_target_": "gym.env.Box",
                    "low": "???",
                    "high": "???",
                    "shape": "???",
                },
                "args": {
                    "gamma": "${overrides.sac_gamma}",
                    "tau": "${overrides.sac_tau}",
                    "alpha": "${overrides.sac_alpha}",
                    "policy": "${overrides.sac_policy}",
                    "target_update_interval": "${overrides.sac_target_update_interval}",
                    "automatic_entropy_tuning": "${overrides.sac_automatic_entropy_tuning}",
                    "target_entropy": "${overrides.sac_target_entropy}",
                    "hidden_size": "${overrides.sac_hidden_size}",
                    "device": "${device}",
                    "lr": "${overrides.sac_lr}",
                },
            },
        }
    return omegaconf.OmegaConf.create(
        {
            "seed": 0,
            "device": "cpu",
            "log_frequency_agent": 1000,
            "save_video": False,
            "debug_mode": False,
            "dynamics_model": dyn,
            "overrides": overrides,
            "action_optimizer": cem,
            "algorithm": algorithm,
        }
    )


def quick_check() -> None:
    torch.set_num_threads(1)
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(5):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    assert obs.shape == (11,), obs.shape

    # PETS pieces: model + ModelEnv + CEM trajectory-optimizer agent
    cfg = make_cfg("pets")
    model = mbrl.util.common.create_one_dim_tr_model(
        cfg, env.observation_space.shape, env.action_space.shape
    )
    assert isinstance(model.model, GaussianMLP)
    gen = torch.Generator().manual_seed(0)
    model_env = mbrl.models.ModelEnv(
        env,
        model,
        mbrl.env.termination_fns.hopper,
        None,  # rewards are learned (no hopper reward fn in mbrl.env.reward_fns)
        generator=gen,
    )
    agent = mbrl.planning.create_trajectory_optim_agent_for_model(
        model_env, cfg.algorithm.agent, num_particles=2
    )
    act = agent.act(obs)
    assert act.shape == (3,), act.shape

    # MBPO pieces: SAC agent exactly as mbrl.algorithms.mbpo.train builds it
    cfg = make_cfg("mbpo")
    mbrl.planning.complete_agent_cfg(env, cfg.algorithm.agent)
    sac = mbrl.planning.sac_wrapper.SACAgent(hydra.utils.instantiate(cfg.algorithm.agent))
    act = sac.act(obs, sample=True, batched=False)
    assert np.asarray(act).shape == (3,)
    env.close()


def train_check() -> None:
    torch.set_num_threads(1)
    term = mbrl.env.termination_fns.hopper
    with tempfile.TemporaryDirectory() as d:
        cfg = make_cfg("pets")
        env = gym.make(ENV_ID)
        env.reset(seed=0)
        mbrl.algorithms.pets.train(env, term, None, cfg, silent=True, work_dir=d)
        cfg = make_cfg("mbpo")
        env, test_env = gym.make(ENV_ID), gym.make(ENV_ID)
        env.reset(seed=0)
        test_env.reset(seed=1)
        mbrl.algorithms.mbpo.train(env, test_env, term, cfg, silent=True, work_dir=d)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--train", action="store_true", help="also run tiny pets/mbpo train loops")
    a = p.parse_args()
    quick_check()
    if a.train:
        train_check()
    v = {
        k: md.version(k)
        for k in ("mbrl", "torch", "gymnasium", "mujoco", "hydra-core", "omegaconf", "numpy")
    }
    print(
        "ok: mbrl "
        + " ".join(f"{k}={x}" for k, x in v.items())
        + f" env={ENV_ID}"
        + (" train=pets,mbpo" if a.train else "")
    )


if __name__ == "__main__":
    main()
