"""Speed of the hot paths; prints one JSON line per measurement.

    python benchmarks/speed.py [--threads 2] [--device cpu] [--repeats 3]

- ensemble train step: 7 members x (4 x 200), batch 256 per member, Hopper dims (11 + 3)
- ensemble inference: all 7 members on 100k states
- SAC updates per second: Hopper dims, 256 x 256, batch 256
Run it when nothing else runs: the machine has 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from methods.common.buffer import ReplayBuffer
from methods.common.ensemble import FitConfig, GaussianEnsemble
from methods.common.sac_agent import SACAgent, SACParams

OBS, ACT = 11, 3


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


def ensemble_train_step(device: torch.device) -> float:
    model = GaussianEnsemble(OBS, ACT, members=7, elites=5, hidden=200, layers=4).to(device)
    opt = model.make_optimizer(FitConfig())
    x = torch.randn(7, 256, OBS + ACT, device=device)
    y = torch.randn(7, 256, OBS + 1, device=device)

    def step():
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


def sac_update(device: torch.device) -> float:
    gen = torch.Generator(device=device).manual_seed(0)
    agent = SACAgent(OBS, ACT, SACParams(), device, gen)
    buf = ReplayBuffer(OBS, ACT, 10_000, device, gen)
    n = 10_000
    buf.add_batch(torch.randn(n, OBS), torch.rand(n, ACT) * 2 - 1, torch.randn(n),
                  torch.randn(n, OBS), torch.zeros(n))  # fmt: skip

    def update():
        agent.update(buf.sample(256))

    return timed(update, 300, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    context = {"device": str(device), "threads": args.threads, "torch": torch.__version__}
    for name, fn, unit, scale in [
        ("ensemble_train_step_7x4x200_b256", ensemble_train_step, "ms", 1000.0),
        ("ensemble_inference_7_members_100k", ensemble_inference, "s", 1.0),
        ("sac_update_256x256_b256", sac_update, "updates_per_s", None),
    ]:
        values = [fn(device) for _ in range(args.repeats)]
        value = statistics.median(values)
        result = 1.0 / value if scale is None else value * scale
        print(json.dumps({"benchmark": name, unit: round(result, 4), **context}), flush=True)


if __name__ == "__main__":
    main()
