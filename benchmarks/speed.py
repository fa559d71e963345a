"""Speed of the hot paths; prints one JSON line per measurement.

    python benchmarks/speed.py [--threads 2] [--device cpu] [--repeats 3]

- ensemble train step: 7 members x (4 x 200), batch 256 per member, Hopper dims (11 + 3),
  fp32 and bf16 (``model_precision``)
- ensemble inference: all 7 members on 100k states
- SAC updates per second: Hopper dims, 256 x 256, batch 256, fp32 and bf16 (``sac_precision``);
  on CUDA also replayed as CUDA graphs (``cuda_graphs``)
- MBPO env steps per second: mbpo-sched on Hopper-v5 at the paper tier's config
  (config/paper.yaml: G = 20, 7/5 ensemble, 100k rollouts per 250 steps), over two windows
  of 1000 steps after the 5000 random warm-up steps: the first holds the from-scratch model
  fit, the second only warm-started refits (four model retrains in each), with the time per
  phase (--mbpo). env_steps_per_s is the window's whole training wall time (the difference
  of the run's cumulative ``time/train_wall_s``; evaluations left out); the phase-sum rate
  of earlier sessions is kept as env_steps_per_s_phases_only
Run it when nothing else runs: the machine has 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import pandas as pd
import torch

from methods.common.buffer import ReplayBuffer
from methods.common.ensemble import FitConfig, GaussianEnsemble
from methods.common.sac_agent import SACAgent, SACParams

OBS, ACT = 11, 3
TRAIN_WALL = "time/train_wall_s"  # cumulative training seconds in timings.csv


def timed(fn, n: int, device: torch.device) -> float:
    """Seconds per call, after two warm-up calls."""
    for _ in range(2):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / n


def ensemble_train_step(device: torch.device, precision: str = "fp32") -> float:
    """One batch step of the model fit (``precision``: as FitConfig's, bf16 = autocast)."""
    model = GaussianEnsemble(OBS, ACT, members=7, elites=5, hidden=200, layers=4).to(device)
    opt = model.make_optimizer(FitConfig())
    x = torch.randn(7, 256, OBS + ACT, device=device)
    y = torch.randn(7, 256, OBS + 1, device=device)

    def step():
        with torch.autocast(device.type, torch.bfloat16, enabled=precision == "bf16"):
            loss = model.loss(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return timed(step, 50, device)


def ensemble_inference(device: torch.device) -> float:
    model = GaussianEnsemble(OBS, ACT, members=7, elites=5, hidden=200, layers=4).to(device)
    obs, act = torch.randn(100_000, OBS, device=device), torch.randn(100_000, ACT, device=device)

    @torch.no_grad()
    def infer():
        model.predict(obs, act)

    return timed(infer, 3, device)


def sac_update(device: torch.device, precision: str = "fp32", graphs: bool = False) -> float:
    gen = torch.Generator(device=device).manual_seed(0)
    params = SACParams(sac_precision=precision, cuda_graphs=graphs)
    agent = SACAgent(OBS, ACT, params, device, gen)
    buf = ReplayBuffer(OBS, ACT, 10_000, device, gen)
    n = 10_000
    buf.add_batch(torch.randn(n, OBS), torch.rand(n, ACT) * 2 - 1, torch.randn(n),
                  torch.randn(n, OBS), torch.zeros(n))  # fmt: skip

    def update():
        agent.update(buf.sample(256))

    return timed(update, 300, device)


def window_seconds(timings: pd.DataFrame, end: int, window: int) -> tuple[float, dict[str, float]]:
    """Training wall seconds of the env steps ``(end - window, end]`` (the difference of the
    cumulative ``time/train_wall_s``, evaluations left out) and that window's phase seconds
    (``time/*_s`` logged per evaluation interval)."""
    wall = timings[timings.name == TRAIN_WALL].set_index("env_step").value
    if end - window not in wall.index or end not in wall.index:
        raise ValueError(f"timings.csv has no {TRAIN_WALL} at env steps {end - window} and {end}")
    seconds = float(wall[end] - wall[end - window])
    rows = timings[(timings.env_step == end) & timings.name.str.endswith("_s")
                   & (timings.name != TRAIN_WALL)]  # fmt: skip
    return seconds, {row.name: round(row.value, 2) for row in rows.itertuples()}


def mbpo_env_steps_per_second(
    threads: int, device: str, window: int = 1000, overrides: tuple[str, ...] = ()
) -> list[dict]:
    """Run mbpo-sched (paper tier, plus ``overrides`` KEY=VALUE) on Hopper through the CLI;
    time the two windows after the random warm-up from the run's per-evaluation timings."""
    root = Path(__file__).resolve().parents[1]
    warmup = 5000
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "methods", "train", "--variant", "mbpo-sched", "--env",
               "gym-Hopper-v5", "--seed", "0", "--out", str(out), "--threads", str(threads),
               "--device", device, "--config", "config/paper.yaml",
               "--set", f"env_steps={warmup + 2 * window}", "--set", f"eval_every={window}",
               "--set", "eval_episodes=1"]  # fmt: skip
        for item in overrides:
            cmd += ["--set", item]
        subprocess.run(cmd, cwd=root, check=True)
        timings = pd.read_csv(out / "timings.csv")
        metrics = pd.read_csv(out / "metrics.csv")
        wall = json.loads((out / "meta.json").read_text())["wall_seconds"]
    results = []
    for end, label in ((warmup + window, "incl_first_fit"), (warmup + 2 * window, "refits_only")):
        seconds, phases = window_seconds(timings, end, window)
        fits = metrics[(metrics.env_step > end - window) & (metrics.env_step <= end)
                       & metrics.name.isin(["model/epochs", "model/holdout_mse"])]  # fmt: skip
        model_stats = {"retrains": int((fits.name == "model/epochs").sum()),
                       **fits.groupby("name").value.mean().round(4).to_dict()}  # fmt: skip
        results.append({
            "benchmark": f"mbpo_sched_hopper_paper_config_{label}",
            "env_steps_per_s": round(window / seconds, 3),  # whole training wall of the window
            "env_steps_per_s_phases_only": round(window / sum(phases.values()), 3),
            "window_train_wall_s": round(seconds, 2),
            "window": [end - window, end],
            "overrides": list(overrides),
            "phase_seconds": phases,
            "model_fits": model_stats,  # retrains in the window, mean epochs / holdout MSE
            "run_wall_seconds_incl_warmup_and_eval": wall,
        })  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mbpo", action="store_true", help="also time MBPO on Hopper (~5 min)")
    parser.add_argument(
        "--mbpo-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override of the MBPO run, e.g. model_precision=bf16",
    )
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    context = {"device": str(device), "threads": args.threads, "torch": torch.__version__}

    graphed = [  # the SAC update replayed as one CUDA graph (``cuda_graphs``), CUDA only
        ("sac_update_256x256_b256_graph", partial(sac_update, graphs=True), "updates_per_s", None),
        ("sac_update_256x256_b256_bf16_graph", partial(sac_update, precision="bf16", graphs=True),
         "updates_per_s", None),
    ] if device.type == "cuda" else []  # fmt: skip
    for name, fn, unit, scale in [
        ("ensemble_train_step_7x4x200_b256", ensemble_train_step, "ms", 1000.0),
        ("ensemble_train_step_7x4x200_b256_bf16", partial(ensemble_train_step, precision="bf16"),
         "ms", 1000.0),
        ("ensemble_inference_7_members_100k", ensemble_inference, "s", 1.0),
        ("sac_update_256x256_b256", sac_update, "updates_per_s", None),
        ("sac_update_256x256_b256_bf16", partial(sac_update, precision="bf16"), "updates_per_s",
         None),
        *graphed,
    ]:  # fmt: skip
        values = [fn(device) for _ in range(args.repeats)]
        value = statistics.median(values)
        result = 1.0 / value if scale is None else value * scale
        print(json.dumps({"benchmark": name, unit: round(result, 4), **context}), flush=True)
    if args.mbpo:
        for result in mbpo_env_steps_per_second(
            args.threads, args.device, overrides=tuple(args.mbpo_set)
        ):
            print(json.dumps({**result, **context}), flush=True)


if __name__ == "__main__":
    main()
