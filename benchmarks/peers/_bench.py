"""Shared plumbing of the side-by-side peer benchmarks (sac_updates, ensemble_train,
cem_planning).

Each benchmark script is both the driver and the worker. The driver runs under
mbrl-spectrum's venv. For every workload and every round it launches two workers, one
per side: ``ours`` under the driver's own python, and the peer under
``$PEER_VENVS/<peer>/bin/python``. Both get ``--worker SIDE --spec JSON``. A worker
imports only its own side's libraries, times the workload in-process and prints one JSON
line. That line includes the worker's ``ru_maxrss``, so each side's peak memory is
measured in a process of its own. The rounds alternate which side goes first (ABBA) so
that slow drift in machine load hits both sides alike. The driver reports medians over
rounds.

The driver also measures the machine's fp32 matmul peak with torch at the same thread
count: the best of a few ``n x n @ n x n`` products, 2 n^3 FLOPs each. It does this
before and after the rounds and reports the larger value. Both sides' analytical FLOP
rates are divided by this peak.

``--device cuda`` runs both sides' workloads on the GPU (the peak is then the GPU's fp32
matmul rate, TF32 off as torch's default, at n >= 8192); each worker also reports its
peak GPU memory (``torch.cuda.max_memory_allocated``). ``--ours-python`` and
``--peer-python`` pick the interpreters, e.g. wrapper scripts that set each side's
PYTHONPATH on a machine without the venvs.

This module only imports the standard library at module level, so it also loads under
the peer venvs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PEER_VENVS = Path(os.environ.get("PEER_VENVS", "/work/peer-venvs"))


# ----- worker side -----
def setup_torch(threads: int):
    """Same torch settings on both sides: intra-op threads, denormals flushed (as our CLI)."""
    import torch

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    return torch


def sync(torch, device: str) -> None:
    """Wait for queued GPU work (timers read host clocks); nothing on the CPU."""
    if device == "cuda":
        torch.cuda.synchronize()


def maxrss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def versions(*dists: str) -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for dist in dists:
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "n/a"
    return out


def worker_main(workers: dict[str, Callable[[dict], dict]]) -> None:
    """Entry point of ``SCRIPT --worker SIDE --spec JSON``: run ``workers[SIDE](spec)`` and
    print its result, plus ``maxrss_mib`` and ``python``, as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=sorted(workers), required=True)
    parser.add_argument("--spec", required=True, help="the workload as JSON")
    args = parser.parse_args()
    result = workers[args.worker](json.loads(args.spec))
    result["maxrss_mib"] = round(maxrss_mib(), 1)
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        result["gpu_max_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    result["python"] = platform.python_version()
    print(json.dumps(result), flush=True)


def median_time(fn: Callable[[], object], reps: int) -> float:
    """Median wall seconds of ``reps`` calls of ``fn``."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ----- driver side -----
def is_worker_call() -> bool:
    return "--worker" in sys.argv


def driver_parser(doc: str, default_peer: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads on both sides")
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="both sides' workloads"
    )
    parser.add_argument(
        "--ours-python",
        default=sys.executable,
        help="python of mbrl-spectrum's side (default: the driver's own)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument(
        "--peer-python",
        default=str(PEER_VENVS / default_peer / "bin/python"),
        help=f"python of the peer venv (default $PEER_VENVS/{default_peer}/bin/python)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per worker")
    parser.add_argument("--peak-n", type=int, default=2048, help="matmul size of the peak")
    return parser


def thread_env(threads: int) -> dict[str, str]:
    """The workers' environment: BLAS/OpenMP pools capped at ``threads`` (numpy as well)."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env.pop("PYTHONPATH", None)  # each worker sees only its own venv
    return env


def run_worker(python: str, script: str, side: str, spec: dict, args) -> dict:
    """Run one worker to completion; return its JSON result."""
    cmd = [python, script, "--worker", side, "--spec", json.dumps(spec)]
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=thread_env(args.threads),
        capture_output=True,
        text=True,
        timeout=args.timeout,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{side} worker failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- stderr (tail) ---\n{proc.stderr[-4000:]}"
        )
    return json.loads(lines[-1])


def alternate(script: str, peer: str, spec: dict, args) -> dict[str, list[dict]]:
    """``args.repeats`` rounds of (ours, peer); odd rounds run the peer first."""
    if not Path(args.peer_python).exists():
        raise SystemExit(f"peer python not found: {args.peer_python} (see setup_{peer}.sh)")
    sides = [("ours", args.ours_python), (peer, args.peer_python)]
    runs: dict[str, list[dict]] = {"ours": [], peer: []}
    for rnd in range(args.repeats):
        for side, python in sides if rnd % 2 == 0 else sides[::-1]:
            runs[side].append(run_worker(python, script, side, spec, args))
    return runs


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def maxrss_fields(runs: dict[str, list[dict]]) -> dict[str, float]:
    """``<side>_maxrss_mib``: each side's worker peak RSS, median over rounds; on a GPU also
    ``<side>_gpu_max_allocated_mib``."""
    fields = {}
    for side, rs in runs.items():
        fields[f"{side}_maxrss_mib"] = round(median_of(rs, "maxrss_mib"), 1)
        if all("gpu_max_allocated_mib" in r for r in rs):
            fields[f"{side}_gpu_max_allocated_mib"] = median_of(rs, "gpu_max_allocated_mib")
    return fields


def round_fields(runs: dict[str, list[dict]], key: str, digits: int, name: str) -> dict:
    """``name``: each side's per-round ``key`` (rounded), and each side's library versions."""
    return {
        name: {side: [round(r[key], digits) for r in rs] for side, rs in runs.items()},
        "versions": {side: rs[0]["versions"] for side, rs in runs.items()},
    }


def matmul_peak_gflops(
    threads: int, n: int = 2048, reps: int = 5, seconds: float = 1.0, device: str = "cpu"
) -> float:
    """Best fp32 ``n x n`` matmul rate (2 n^3 FLOPs per product) at ``threads`` threads
    (on ``device``): the fastest of at least ``reps`` products spanning at least
    ``seconds``, after a warm-up."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    out = torch.empty(n, n, device=device)
    for _ in range(2):  # warm-up: thread pool, pages, kernel choice
        torch.mm(a, b, out=out)
    sync(torch, device)
    best, count, begin = float("inf"), 0, time.perf_counter()
    while count < reps or time.perf_counter() - begin < seconds:
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        sync(torch, device)
        best = min(best, time.perf_counter() - start)
        count += 1
    return 2.0 * n**3 / best / 1e9


class Peak:
    """The machine's matmul peak, measured at the start and (``finish``) at the end."""

    def __init__(self, args):
        self.threads, self.device = args.threads, args.device
        self.n = max(args.peak_n, 8192) if self.device == "cuda" else args.peak_n
        self.start = self.measure()
        self.end: float | None = None

    def measure(self) -> float:
        return matmul_peak_gflops(self.threads, self.n, device=self.device)

    def finish(self) -> None:
        self.end = self.measure()

    @property
    def gflops(self) -> float:
        return max(self.start, self.end or 0.0)

    def info(self) -> dict:
        return {
            "peak_matmul_gflops": round(self.gflops, 2),
            "peak_matmul_gflops_start_end": [
                round(self.start, 2),
                None if self.end is None else round(self.end, 2),
            ],
            "peak_matmul": f"fp32 torch.mm {self.n}x{self.n} on {self.device}, best over >= 1 s, "
            "driver process",
        }


def context(args) -> dict:
    """Run conditions: threads, rounds, CPU, load (real numbers need an idle machine)."""
    import torch

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else None
    return {
        "threads": args.threads,
        "repeats": args.repeats,
        "device": args.device,
        "gpu": gpu,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "torch": torch.__version__,
    }


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def mbrl_gaussian_mlp_cfg(members: int, layers: int, hidden: int, device: str = "cpu") -> dict:
    """mbrl-lib's ``dynamics_model`` config for a probabilistic ensemble with TSinf
    propagation (``fixed_model``), as both mbrl-lib benchmarks use it."""
    return {
        "_target_": "mbrl.models.GaussianMLP",
        "_recursive_": False,  # keep activation_fn_cfg a config (hydra >= 1.1)
        "device": device,
        "num_layers": layers,
        "in_size": "???",
        "out_size": "???",
        "ensemble_size": members,
        "hid_size": hidden,
        "deterministic": False,
        "propagation_method": "fixed_model",
        "learn_logvar_bounds": False,
        "activation_fn_cfg": {"_target_": "torch.nn.SiLU"},
    }


def mbrl_mbpo_config(overrides_name: str, seed: int, edit: Callable[[Any, Any], None]):
    """mbrl-lib 0.2.0's MBPO config as its ``examples/conf`` composes it: ``algorithm/mbpo``,
    the ``gaussian_mlp_ensemble`` model and ``overrides/<overrides_name>.yaml``, with
    ``_recursive_: false`` where hydra >= 1.1 needs it (see README). ``edit(algorithm,
    overrides)`` adjusts the workload before the config is built. Peer venv only."""
    import mbrl
    import omegaconf

    conf = Path(mbrl.__file__).parent / "examples" / "conf"
    load = omegaconf.OmegaConf.load
    algorithm = load(conf / "algorithm" / "mbpo.yaml")
    algorithm.agent["_recursive_"] = False
    dynamics = load(conf / "dynamics_model" / "gaussian_mlp_ensemble.yaml")
    dynamics["_recursive_"] = False
    overrides = load(conf / "overrides" / f"{overrides_name}.yaml")
    edit(algorithm, overrides)
    return omegaconf.OmegaConf.create({
        "seed": seed, "device": "cpu", "log_frequency_agent": 1000, "save_video": False,
        "debug_mode": False, "algorithm": algorithm, "dynamics_model": dynamics,
        "overrides": overrides,
    })  # fmt: skip


def mbrl_paper_hopper_edits(algorithm, overrides) -> None:
    """Edit mbrl-lib's ``mbpo_hopper`` config to jannerm/mbpo's Hopper settings (the MBPO
    paper's): G = 20, 256-wide SAC, target critic every update, learned temperature with
    target entropy -1, real data ratio 0.05, uniformly random exploration."""
    overrides.num_sac_updates_per_step = 20
    overrides.sac_hidden_size = 256
    overrides.sac_target_update_interval = 1
    overrides.sac_automatic_entropy_tuning = True
    overrides.sac_target_entropy = -1
    algorithm.real_data_ratio = 0.05
    algorithm.random_initial_explore = True


class Reached(Exception):
    """Raised inside a peer's loop once an evaluation reaches the clock's threshold."""


class ThresholdClock:
    """Training seconds (evaluation episodes left out) and env steps at each evaluation.

    The clock starts at the training env's first step. An evaluation is ``eval_episodes``
    finished episodes of the eval env; each is kept in ``evals`` and passed to ``on_eval``.
    """

    def __init__(
        self,
        eval_episodes: int,
        threshold: float | None = None,
        on_eval: Callable[[dict], None] | None = None,
    ):
        self.eval_episodes = eval_episodes
        self.threshold = threshold
        self.on_eval = on_eval
        self.start: float | None = None
        self.train_steps = 0
        self.eval_seconds = 0.0
        self.episode_returns: list[float] = []
        self.evals: list[dict] = []  # {env_step, train_seconds, return, wall_seconds}
        self._episode_start = 0.0
        self._episode_return = 0.0

    def train_step(self) -> None:
        if self.start is None:
            self.start = time.perf_counter()
        self.train_steps += 1

    def eval_reset(self) -> None:
        self._episode_start, self._episode_return = time.perf_counter(), 0.0

    def eval_step(self, reward: float, done: bool) -> bool:
        """Count one eval step; True when this completes an evaluation at the threshold."""
        self._episode_return += float(reward)
        if not done:
            return False
        self.eval_seconds += time.perf_counter() - self._episode_start
        self.episode_returns.append(self._episode_return)
        if len(self.episode_returns) < self.eval_episodes:
            return False
        mean = statistics.fmean(self.episode_returns)
        self.episode_returns = []
        now = time.perf_counter()
        wall = now - (self.start or now)
        entry = {"env_step": self.train_steps, "train_seconds": round(wall - self.eval_seconds, 2),
                 "return": round(mean, 1), "wall_seconds": round(wall, 1)}  # fmt: skip
        self.evals.append(entry)
        if self.on_eval is not None:
            self.on_eval(entry)
        return self.threshold is not None and mean >= self.threshold

    def result(self) -> dict:
        """The first evaluation at the threshold (env steps, training seconds) and the curve."""
        hit = None
        if self.threshold is not None:
            hit = next((e for e in self.evals if e["return"] >= self.threshold), None)
        return {"reached": hit is not None,
                "seconds_to_threshold": hit["train_seconds"] if hit else None,
                "env_steps_to_threshold": hit["env_step"] if hit else None,
                "curve": self.evals}  # fmt: skip


def clocked(env, clock: ThresholdClock, is_eval: bool, stop_at_threshold: bool):
    """Wrap ``env.step`` / ``env.reset`` (gym 0.26+ or gymnasium) to feed ``clock``; with
    ``stop_at_threshold`` an evaluation at the threshold raises ``Reached``."""
    step, reset = env.step, env.reset

    def stepped(action):
        out = step(action)
        if is_eval:
            done = bool(out[2] or out[3]) if len(out) == 5 else bool(out[2])
            if clock.eval_step(out[1], done) and stop_at_threshold:
                raise Reached
        else:
            clock.train_step()
        return out

    def reset_(*args, **kwargs):
        if is_eval:
            clock.eval_reset()
        return reset(*args, **kwargs)

    env.step, env.reset = stepped, reset_
    return env
