"""SAC gradient updates per second: mbrl-spectrum's SACAgent vs Stable-Baselines3's SAC.

    python benchmarks/peers/sac_updates.py [--hidden 256 512] [--updates 1000]
        [--buffer 100000] [--threads 2] [--repeats 3] [--device cuda]

Run it with mbrl-spectrum's venv. The SB3 worker runs under $PEER_VENVS/sb3 (see _bench.py).

Workload, the same on both sides: Hopper-v5 dims (obs o = 11, act a = 3). A tanh-Gaussian
actor and twin critics, each with two hidden layers of width h. Batch B = 256, automatic
temperature, Adam at lr 3e-4, tau 0.005, a target update every step. The replay buffer
holds --buffer random transitions (uniform actions in [-1, 1]). Each side warms up with
--warmup updates, then --updates updates are timed:

- ours: ``SACAgent.update(ReplayBuffer.sample(256))`` in a loop, then one ``pop_stats()``
  (the single host sync our training loop does). This is one backward and one fused Adam
  step per update.
- sb3: ``SAC("MlpPolicy", policy_kwargs={"net_arch": [h, h]})``. Its replay buffer arrays
  are filled directly, then ``model.train(gradient_steps=N, batch_size=256)`` is timed as
  SB3 runs it: three Adam optimizers, three backward passes and per-step ``.item()`` logging.

FLOPs per update are counted analytically, from matmuls only (bias, activations, losses and
Adam are O(params) or O(B h) and are left out). Let M = sum_i d_i d_(i+1) over a net's
layer widths. Then the actor has Ma = M(o, h, h, 2a) and one critic has
Mc = M(o + a, h, h, 1). The first-layer terms are Fa = o h and Fc = (o + a) h. One update is:

    FLOPs = 2 B (4 Ma - Fa + 12 Mc - 2 Fc)

Actor terms: a forward on next_obs, a forward on obs, and for the obs pass a weight
gradient plus an input gradient (none for layer 1). Critic terms: the target critics
forward; the critics forward, weight gradient, and input gradient (none for layer 1); then
the critics on the policy's action, forward plus input gradient. The input gradient flows
to the action through the whole first layer. No critic weight gradient comes from the
actor loss. SB3 computes that weight gradient anyway and then discards it; this extra
work is not counted. frac_of_peak = updates/s * FLOPs / peak.

Output: one JSON line per hidden width. ``ratio_ours_over_sb3`` = ours updates/s / sb3
updates/s (> 1: ours is faster). Peak memory is each worker's ru_maxrss (median over
rounds). Real numbers need an idle machine.
"""

from __future__ import annotations

import time

import _bench

OBS, ACT = 11, 3
PEER = "sb3"


def flops_per_update(hidden: int, batch: int, obs: int = OBS, act: int = ACT) -> int:
    """The analytical matmul FLOPs of one SAC update (see the module docstring)."""
    actor = obs * hidden + hidden * hidden + hidden * 2 * act
    critic = (obs + act) * hidden + hidden * hidden + hidden
    return 2 * batch * (4 * actor - obs * hidden + 12 * critic - 2 * (obs + act) * hidden)


def random_transitions(n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n, OBS)).astype(np.float32),
        rng.uniform(-1, 1, (n, ACT)).astype(np.float32),
        rng.standard_normal(n).astype(np.float32),
        rng.standard_normal((n, OBS)).astype(np.float32),
    )


# ----- workers -----
def worker_ours(spec: dict) -> dict:
    torch = _bench.setup_torch(spec["threads"])
    from methods.common.buffer import ReplayBuffer
    from methods.common.sac_agent import SACAgent, SACParams

    torch.manual_seed(0)
    device = spec.get("device", "cpu")
    gen = torch.Generator(device=device).manual_seed(0)
    params = SACParams(hidden=spec["hidden"], sac_precision=spec.get("precision", "fp32"))
    agent = SACAgent(OBS, ACT, params, device, gen)
    n = spec["buffer"]
    buf = ReplayBuffer(OBS, ACT, n, device, gen)
    obs, act, rew, nxt = (torch.from_numpy(x).to(device) for x in random_transitions(n))
    buf.add_batch(obs, act, rew, nxt, torch.zeros(n, device=device))

    def updates(k: int) -> None:
        for _ in range(k):
            agent.update(buf.sample(spec["batch"]))
        agent.pop_stats()
        _bench.sync(torch, device)

    updates(spec["warmup"])
    start = time.perf_counter()
    updates(spec["updates"])
    seconds = time.perf_counter() - start
    return {
        "updates_per_s": spec["updates"] / seconds,
        "versions": _bench.versions("torch", "numpy"),
    }


def worker_sb3(spec: dict) -> dict:
    torch = _bench.setup_torch(spec["threads"])
    import gymnasium as gym
    from stable_baselines3 import SAC
    from stable_baselines3.common.logger import Logger

    n, device = spec["buffer"], spec.get("device", "cpu")
    env = gym.make("Hopper-v5")
    assert env.observation_space.shape == (OBS,) and env.action_space.shape == (ACT,)
    model = SAC(
        "MlpPolicy",
        env,
        learning_rate=3e-4,
        buffer_size=n,
        learning_starts=0,
        batch_size=spec["batch"],
        tau=0.005,
        gamma=0.99,
        ent_coef="auto",
        policy_kwargs={"net_arch": [spec["hidden"], spec["hidden"]]},
        device=device,
        seed=0,
        verbose=0,
    )
    model.set_logger(Logger(folder=None, output_formats=[]))
    rb = model.replay_buffer
    obs, act, rew, nxt = random_transitions(n)
    rb.observations[:n, 0] = obs
    rb.next_observations[:n, 0] = nxt
    rb.actions[:n, 0] = act
    rb.rewards[:n, 0] = rew
    rb.dones[:n] = 0.0
    rb.pos, rb.full = 0, True

    model.train(gradient_steps=spec["warmup"], batch_size=spec["batch"])
    _bench.sync(torch, device)
    start = time.perf_counter()
    model.train(gradient_steps=spec["updates"], batch_size=spec["batch"])
    _bench.sync(torch, device)
    seconds = time.perf_counter() - start
    return {
        "updates_per_s": spec["updates"] / seconds,
        "versions": _bench.versions("stable-baselines3", "torch", "numpy", "gymnasium"),
    }


# ----- driver -----
def main() -> None:
    parser = _bench.driver_parser(__doc__, PEER)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--updates", type=int, default=1000, help="timed updates per round")
    parser.add_argument("--warmup", type=int, default=20, help="untimed updates first")
    parser.add_argument("--buffer", type=int, default=100_000, help="random transitions")
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="our side's sac_precision (SB3 trains in fp32)",
    )
    args = parser.parse_args()
    peak = _bench.Peak(args)
    records = []
    for hidden in args.hidden:
        spec = {"threads": args.threads, "hidden": hidden, "batch": args.batch,
                "updates": args.updates, "warmup": args.warmup, "buffer": args.buffer,
                "precision": args.precision, "device": args.device}  # fmt: skip
        runs = _bench.alternate(__file__, PEER, spec, args)
        records.append((spec, runs))
    peak.finish()
    for spec, runs in records:
        hidden = spec["hidden"]
        flops = flops_per_update(hidden, args.batch)
        ours = _bench.median_of(runs["ours"], "updates_per_s")
        peer = _bench.median_of(runs[PEER], "updates_per_s")
        _bench.emit({
            "benchmark": f"sac_updates_hopper_{hidden}x{hidden}_b{args.batch}"
            + ("" if args.precision == "fp32" else f"_ours_{args.precision}"),
            "ours_updates_per_s": round(ours, 2),
            "sb3_updates_per_s": round(peer, 2),
            "ratio_ours_over_sb3": round(ours / peer, 3),
            "gflop_per_update": round(flops / 1e9, 4),
            "ours_frac_of_peak": round(ours * flops / 1e9 / peak.gflops, 4),
            "sb3_frac_of_peak": round(peer * flops / 1e9 / peak.gflops, 4),
            **_bench.maxrss_fields(runs),
            **peak.info(),
            "workload": spec,
            **_bench.round_fields(runs, "updates_per_s", 2, "per_round_updates_per_s"),
            **_bench.context(args),
        })  # fmt: skip


if __name__ == "__main__":
    if _bench.is_worker_call():
        _bench.worker_main({"ours": worker_ours, PEER: worker_sb3})
    else:
        main()
