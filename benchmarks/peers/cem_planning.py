"""PETS-style CEM planning, ms per action: mbrl-spectrum's MPCAgent vs mbrl-lib's
TrajectoryOptimizerAgent.

    python benchmarks/peers/cem_planning.py [--envs cartpole halfcheetah] [--actions 5]
        [--particles 20] [--iterations 5] [--threads 2] [--repeats 3] [--precision bf16]
        [--device cuda] [--cuda-graphs off]

``--precision bf16`` runs our side with ``planning_precision: bf16`` (the model's matmuls in
bfloat16 under autocast; mbrl-lib has no such mode and stays fp32). Its lines are named
``..._bf16`` and their ``*_frac_of_peak`` still divide by the fp32 matmul peak.

``--device cuda`` plans on the GPU on both sides; our planner then replays each action's
whole search as one CUDA graph unless ``--cuda-graphs off`` (mbrl-lib has no such mode).
Lines run with graphs off are named ``..._eager``.

Run it with mbrl-spectrum's venv. The mbrl-lib worker runs under $PEER_VENVS/mbrl (see
_bench.py; its configs carry ``_recursive_: false`` as check_mbrl.py explains).

Workload, the same on both sides:

- Model: an ensemble of E = 7 Gaussian MLPs, 4 x 200 SiLU. It is untrained, but the input
  normaliser is fitted on random transitions; planning cost does not depend on the weights.
- Propagation: TSinf over the first 5 members as elites (mbrl-lib: ``fixed_model``
  propagation plus ``set_elite``), with P x particles divisible by 5. Each particle-step is
  one member's forward, so the elite count does not change the FLOPs. mbrl-lib needs
  P x particles to be a multiple of the number of models in use, and 400 x 20 is not a
  multiple of 7.
- Rewards: learned; the model's output includes a reward.
- Termination: a function that never terminates on both sides (ours: ``never_terminates``;
  mbrl: ``termination_fns.no_termination``), so every rollout runs the full horizon.
- CEM: I = --iterations, population P, K elites (mbrl: ``elite_ratio`` chosen so that
  ceil(P ratio) = K), smoothing / alpha 0.1, an initial std of 0.5 in [-1, 1]
  (mbrl: variance (ub - lb)^2 / 16), truncated-normal samples, and the plan shifted by
  one step to warm-start the next action.
- Envs: dmc cartpole (obs 5, act 1; P 350, H 15, K 35) and HalfCheetah (obs 17, act 6;
  P 400, H 30, K 40).

Each worker plans --warmup actions untimed, then --actions timed actions from random
observations (the same sequence on both sides). Timed calls:

- ours: ``MPCAgent.plan_action(obs)``, which is ``cem()`` over ``MPCAgent.model_returns``,
  plus one extra scoring of the chosen plan (1 candidate; about 0.06 % of the work, not
  counted).
- mbrl: ``agent.act(obs)`` on a ``TrajectoryOptimizerAgent`` with ``CEMOptimizer``, built
  by ``create_trajectory_optim_agent_for_model`` over a ``ModelEnv``, as PETS does.

FLOPs per action, counted analytically from matmuls only (sampling, the CEM update and
activations are left out). Let S = (o + a) 200 + 3 * 200^2 + 200 * 2 (o + 1), the
forward matmuls of one member for one sample. Then

    FLOPs = 2 * I * P * particles * H * S

That is 129.8 GFLOP for cartpole and 316.3 GFLOP for HalfCheetah at the defaults.
frac_of_peak = FLOPs / seconds / peak.

Output: one JSON line per env. ``ratio_mbrl_over_ours`` = mbrl ms / our ms (> 1: ours is
faster). Peak memory is each worker's ru_maxrss (median over rounds). Real numbers need
an idle machine.
"""

from __future__ import annotations

import math
import time

import _bench

PEER = "mbrl"
E, LAYERS, HID, NUM_ELITES = 7, 4, 200, 5
SMOOTHING, INIT_STD = 0.1, 0.5
ENVS = {  # name: (our env id, obs, act, population, horizon, elites)
    "cartpole": ("dmc-cartpole-swingup", 5, 1, 350, 15, 35),
    "halfcheetah": ("gym-HalfCheetah-v5", 17, 6, 400, 30, 40),
}


def flops_per_action(spec: dict) -> int:
    o, a = spec["obs"], spec["act"]
    s = (o + a) * HID + (LAYERS - 1) * HID * HID + HID * 2 * (o + 1)
    return 2 * spec["iterations"] * spec["population"] * spec["particles"] * spec["horizon"] * s


def random_data(spec: dict, n: int = 2000, seed: int = 0):
    """Transitions to fit the normalisers, and the observations to plan from."""
    import numpy as np

    rng = np.random.default_rng(seed)
    o, a = spec["obs"], spec["act"]
    obs = rng.standard_normal((n, o)).astype(np.float32)
    act = rng.uniform(-1, 1, (n, a)).astype(np.float32)
    nxt = (obs + 0.1 * rng.standard_normal((n, o))).astype(np.float32)
    rew = rng.standard_normal(n).astype(np.float32)
    starts = rng.standard_normal((spec["warmup"] + spec["actions"], o)).astype(np.float32)
    return obs, act, nxt, rew, starts


def time_actions(act_fn, starts, warmup: int, sync) -> float:
    """Mean ms per planned action over the timed observations (``sync()`` waits for the
    device before the clock is read)."""
    for obs in starts[:warmup]:
        act_fn(obs)
    sync()
    start = time.perf_counter()
    for obs in starts[warmup:]:
        act_fn(obs)
    sync()
    return 1000.0 * (time.perf_counter() - start) / (len(starts) - warmup)


# ----- workers -----
def worker_ours(spec: dict) -> dict:
    torch = _bench.setup_torch(spec["threads"])
    from methods.common.envs import never_terminates
    from methods.common.training import offline_context
    from methods.mpc import Config, MPCAgent

    o, a, device = spec["obs"], spec["act"], spec.get("device", "cpu")
    cfg = Config(optimiser="cem", horizon=spec["horizon"], population=spec["population"],
                 cem_elites=spec["elites"], iterations=spec["iterations"],
                 smoothing=SMOOTHING, init_std=INIT_STD, particles=spec["particles"],
                 ensemble_size=E, num_elites=NUM_ELITES, model_hidden=HID,
                 model_layers=LAYERS, probabilistic=True,
                 planning_precision=spec.get("precision", "fp32"),
                 cuda_graphs=spec.get("cuda_graphs", True))  # fmt: skip
    ctx = offline_context(spec["env_id"], "peer-bench", o, a, 0, torch.device(device))
    agent = MPCAgent(ctx, cfg)
    agent.model_env.termination_fn = never_terminates  # no early ends: equal work
    agent.model_trained = True
    *transitions, starts = random_data(spec)
    obs, act, nxt, rew = (torch.from_numpy(x).to(device) for x in transitions)
    agent.model.input_norm.fit(torch.cat([obs, act], -1))
    agent.model.target_norm.fit(torch.cat([nxt - obs, rew[:, None]], -1))
    ms = time_actions(agent.plan_action, starts, spec["warmup"],
                      lambda: _bench.sync(torch, device))  # fmt: skip
    return {"ms_per_action": ms, "versions": _bench.versions("torch", "numpy")}


def mbrl_cfg(spec: dict):
    import omegaconf

    elite_ratio = (spec["elites"] - 0.5) / spec["population"]  # ceil(P * ratio) = K
    device = spec.get("device", "cpu")
    return omegaconf.OmegaConf.create({
        "seed": 0,
        "device": device,
        "dynamics_model": _bench.mbrl_gaussian_mlp_cfg(E, LAYERS, HID, device),
        "algorithm": {
            "learned_rewards": True,
            "target_is_delta": True,
            "normalize": True,
            "normalize_double_precision": True,
            "agent": {
                "_target_": "mbrl.planning.TrajectoryOptimizerAgent",
                "_recursive_": False,  # optimizer_cfg must reach the agent as a config
                "action_lb": "???",
                "action_ub": "???",
                "planning_horizon": spec["horizon"],
                "optimizer_cfg": {
                    "_target_": "mbrl.planning.CEMOptimizer",
                    "num_iterations": spec["iterations"],
                    "elite_ratio": elite_ratio,
                    "population_size": spec["population"],
                    "alpha": SMOOTHING,
                    "lower_bound": "???",
                    "upper_bound": "???",
                    "return_mean_elites": True,
                    "device": device,
                    "clipped_normal": False,
                },
                "replan_freq": 1,
                "verbose": False,
                "keep_last_solution": True,
            },
        },
        "overrides": {"num_elites": NUM_ELITES},
    })  # fmt: skip


def worker_mbrl(spec: dict) -> dict:
    import types
    import warnings

    warnings.filterwarnings("ignore")
    torch = _bench.setup_torch(spec["threads"])
    import gymnasium as gym
    import mbrl.env.termination_fns
    import mbrl.models
    import mbrl.planning
    import mbrl.util.common
    import numpy as np
    from mbrl.types import TransitionBatch

    torch.manual_seed(0)
    o, a, device = spec["obs"], spec["act"], spec.get("device", "cpu")
    cfg = mbrl_cfg(spec)
    model = mbrl.util.common.create_one_dim_tr_model(cfg, (o,), (a,))
    model.set_elite(list(range(NUM_ELITES)))
    obs, act, nxt, rew, starts = random_data(spec)
    done = np.zeros(len(obs), dtype=bool)
    model.update_normalizer(TransitionBatch(obs, act, nxt, rew, done, done))
    spaces = types.SimpleNamespace(  # ModelEnv reads only the spaces of the env
        observation_space=gym.spaces.Box(-np.inf, np.inf, (o,), np.float32),
        action_space=gym.spaces.Box(-1.0, 1.0, (a,), np.float32),
    )
    model_env = mbrl.models.ModelEnv(
        spaces, model, mbrl.env.termination_fns.no_termination, None,
        generator=torch.Generator(device=device).manual_seed(0),
    )  # fmt: skip
    agent = mbrl.planning.create_trajectory_optim_agent_for_model(
        model_env, cfg.algorithm.agent, num_particles=spec["particles"]
    )
    cem = agent.optimizer.optimizer
    assert cem.elite_num == spec["elites"], (cem.elite_num, spec["elites"])
    assert cem.population_size == spec["population"] and cem.num_iterations == spec["iterations"]
    ms = time_actions(agent.act, starts, spec["warmup"],
                      lambda: _bench.sync(torch, device))  # fmt: skip
    return {
        "ms_per_action": ms,
        "versions": _bench.versions("mbrl", "torch", "numpy", "hydra-core", "omegaconf"),
    }


# ----- driver -----
def main() -> None:
    parser = _bench.driver_parser(__doc__, PEER)
    parser.add_argument("--envs", nargs="+", choices=sorted(ENVS), default=list(ENVS))
    parser.add_argument("--actions", type=int, default=5, help="timed actions per round")
    parser.add_argument("--warmup", type=int, default=1, help="untimed actions first")
    parser.add_argument("--particles", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--population", type=int, default=None, help="override (smoke tests)")
    parser.add_argument("--horizon", type=int, default=None, help="override (smoke tests)")
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="our planning_precision (mbrl-lib always fp32)",
    )
    parser.add_argument(
        "--cuda-graphs",
        choices=("on", "off"),
        default="on",
        help="our planner's cuda_graphs (--device cuda only)",
    )
    args = parser.parse_args()
    specs = []
    for name in args.envs:
        env_id, obs, act, population, horizon, elites = ENVS[name]
        population = args.population or population
        elites = min(elites, max(1, math.ceil(0.1 * population)))
        spec = {"threads": args.threads, "env": name, "env_id": env_id, "obs": obs,
                "act": act, "population": population, "horizon": args.horizon or horizon,
                "elites": elites, "iterations": args.iterations, "particles": args.particles,
                "actions": args.actions, "warmup": args.warmup,
                "precision": args.precision, "device": args.device,
                "cuda_graphs": args.cuda_graphs == "on"}  # fmt: skip
        if (population * args.particles) % NUM_ELITES:
            parser.error(f"{name}: population x particles must be a multiple of {NUM_ELITES}")
        specs.append(spec)
    peak = _bench.Peak(args)
    records = [(spec, _bench.alternate(__file__, PEER, spec, args)) for spec in specs]
    peak.finish()
    for spec, runs in records:
        flops = flops_per_action(spec)
        ours = _bench.median_of(runs["ours"], "ms_per_action")
        peer = _bench.median_of(runs[PEER], "ms_per_action")
        _bench.emit({
            "benchmark": f"cem_ms_per_action_{spec['env']}"
            + ("_bf16" if spec["precision"] == "bf16" else "")
            + ("_eager" if args.device == "cuda" and not spec["cuda_graphs"] else ""),
            "ours_ms_per_action": round(ours, 2),
            "mbrl_ms_per_action": round(peer, 2),
            "ratio_mbrl_over_ours": round(peer / ours, 3),
            "gflop_per_action": round(flops / 1e9, 3),
            "ours_frac_of_peak": round(flops / (ours / 1000) / 1e9 / peak.gflops, 4),
            "mbrl_frac_of_peak": round(flops / (peer / 1000) / 1e9 / peak.gflops, 4),
            **_bench.maxrss_fields(runs),
            **peak.info(),
            "workload": spec,
            **_bench.round_fields(runs, "ms_per_action", 2, "per_round_ms_per_action"),
            **_bench.context(args),
        })  # fmt: skip


if __name__ == "__main__":
    if _bench.is_worker_call():
        _bench.worker_main({"ours": worker_ours, PEER: worker_mbrl})
    else:
        main()
