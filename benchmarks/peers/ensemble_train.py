"""Probabilistic-ensemble training: mbrl-spectrum's GaussianEnsemble vs mbrl-lib's GaussianMLP.

    python benchmarks/peers/ensemble_train.py [--sizes 10000 100000] [--steps 50]
        [--epochs 1] [--threads 2] [--repeats 3] [--device cuda]

Run it with mbrl-spectrum's venv. The mbrl-lib worker runs under $PEER_VENVS/mbrl (see
_bench.py; its configs carry ``_recursive_: false`` as check_mbrl.py explains).

Model, the same on both sides: E = 7 members, L = 4 hidden layers of H = 200 SiLU units,
Hopper dims. The input is obs + act = 14 wide; the output is the mean and log-variance of
delta-obs + reward, 2 x 12 wide. Gaussian NLL with soft log-variance bounds, Adam at
lr 1e-3 and weight decay 5e-5, batch B = 256 per member.

1. ``ensemble_train_step``: ms per batch step, forward + backward + Adam, on pre-made
   normalised (E, B, 14) inputs and (E, B, 12) targets.
   - ours: ``GaussianEnsemble.loss`` + ``zero_grad`` + ``backward`` + ``step``, with the
     optimizer from ``make_optimizer``. This is the body of ``GaussianEnsemble.fit``'s loop.
   - mbrl: ``GaussianMLP.update(x, trainer.optimizer, y)``, the per-batch call of its
     ``ModelTrainer``. After backward it also sums the grad norm with one ``.item()`` per
     parameter, and it returns ``loss.item()``. ``mbrl_core_ms`` additionally times its
     bare loss + backward + step.
2. ``ensemble_fit_epoch_n<N>``: seconds for one training epoch over N random transitions,
   via each library's real retrain path, with a 20 % holdout (no cap) on both sides:
   - ours: ``ModelTrainer.fit(buffer)`` (methods.common.dynamics) with
     ``model_max_epochs=1`` and ``model_max_holdout=N``. It fits the normalisers, draws the
     bootstrap, evaluates the holdout, runs one epoch, evaluates again, and finally restores
     each member's best weights and evaluates a third time.
   - mbrl: ``mbrl.util.common.train_model_and_save_model_and_data`` with
     ``num_epochs_train_model=1`` (PETS settings: double-precision input normaliser,
     bootstrap by resampling). It builds the iterators, fits the normaliser, evaluates the
     validation set, runs one epoch (``GaussianMLP.update`` per batch), and evaluates again.

FLOPs, counted analytically from matmuls only (activations, the NLL and Adam are
O(params) or O(E B width) and are left out). Let S = sum_l in_l out_l over the
member's layers: S = 14 H + (L - 1) H^2 + H 24 = 127,600, and F1 = 14 H, the first
layer. Then

    forward  = 2 E B S
    backward = 2 E B S (weight gradients) + 2 E B (S - F1) (input gradients, none for layer 1)
    step     = 2 E B (3 S - F1)                               = 1.362 GFLOP at B = 256
    epoch(N) = 2 E N_t (3 S - F1) + 2 * 2 E N_h S

Here N_h = int(0.2 N) is the holdout and N_t = N - N_h. The epoch term counts the training
pass plus two full-ensemble holdout evaluations (before and after the epoch), which both
libraries run. Our third evaluation is extra work and is not counted.
frac_of_peak = FLOPs / seconds / peak.

Output: one JSON line per measurement. ``ratio_mbrl_over_ours`` = mbrl time / our time
(> 1: ours is faster). Peak memory is each worker's ru_maxrss (median over rounds).
Real numbers need an idle machine.
"""

from __future__ import annotations

import time

import _bench

OBS, ACT = 11, 3
E, LAYERS, HID, NUM_ELITES = 7, 4, 200, 5
LR, WD, HOLDOUT = 1e-3, 5e-5, 0.2
PEER = "mbrl"


def layer_sum(obs: int = OBS, act: int = ACT, hid: int = HID, layers: int = LAYERS) -> int:
    """S = sum of in*out over one member's layers (head outputs mean and log-variance)."""
    return (obs + act) * hid + (layers - 1) * hid * hid + hid * 2 * (obs + 1)


def step_flops(batch: int) -> int:
    s, f1 = layer_sum(), (OBS + ACT) * HID
    return 2 * E * batch * (3 * s - f1)


def epoch_flops(n: int) -> int:
    s, f1 = layer_sum(), (OBS + ACT) * HID
    n_hold = int(HOLDOUT * n)
    return 2 * E * (n - n_hold) * (3 * s - f1) + 2 * 2 * E * n_hold * s


def random_transitions(n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    obs = rng.standard_normal((n, OBS)).astype(np.float32)
    act = rng.uniform(-1, 1, (n, ACT)).astype(np.float32)
    nxt = (obs + 0.1 * rng.standard_normal((n, OBS))).astype(np.float32)
    rew = rng.standard_normal(n).astype(np.float32)
    return obs, act, nxt, rew


def step_tensors(torch, batch: int, device: str = "cpu"):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(E, batch, OBS + ACT, generator=gen)
    y = torch.randn(E, batch, OBS + 1, generator=gen)
    return x.to(device), y.to(device)


def timed_ms(torch, fn, steps: int, warmup: int, device: str) -> float:
    """Mean ms per call of ``fn`` over ``steps`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    _bench.sync(torch, device)
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    _bench.sync(torch, device)
    return 1000.0 * (time.perf_counter() - start) / steps


# ----- workers -----
def worker_ours(spec: dict) -> dict:
    torch = _bench.setup_torch(spec["threads"])
    from methods.common.buffer import ReplayBuffer
    from methods.common.dynamics import ModelSettings, ModelTrainer, build_model

    torch.manual_seed(0)
    device = spec.get("device", "cpu")
    out = {"versions": _bench.versions("torch", "numpy")}
    if spec["kind"] == "step":
        settings = ModelSettings(
            ensemble_size=E,
            num_elites=NUM_ELITES,
            model_hidden=HID,
            model_layers=LAYERS,
            model_lr=LR,
            model_weight_decay=WD,
        )
        model = build_model(settings, OBS, ACT, device)
        opt = model.make_optimizer(settings.fit_config())
        x, y = step_tensors(torch, spec["batch"], device)
        bf16 = spec.get("precision") == "bf16"

        def step() -> None:
            with torch.autocast(device, torch.bfloat16, enabled=bf16):
                loss = model.loss(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        out["step_ms"] = timed_ms(torch, step, spec["steps"], spec["warmup"], device)
        return out

    n = spec["n"]
    settings = ModelSettings(ensemble_size=E, num_elites=NUM_ELITES, model_hidden=HID,
                             model_layers=LAYERS, model_lr=LR, model_weight_decay=WD,
                             model_batch_size=spec["batch"], model_holdout_ratio=HOLDOUT,
                             model_max_holdout=n, model_max_epochs=1,
                             model_precision=spec.get("precision", "fp32"))  # fmt: skip
    model = build_model(settings, OBS, ACT, device)
    trainer = ModelTrainer(model, settings, torch.Generator(device=device).manual_seed(0))

    def filled(size: int) -> ReplayBuffer:
        buf = ReplayBuffer(OBS, ACT, size, device)
        obs, act, nxt, rew = (torch.from_numpy(a).to(device) for a in random_transitions(size))
        buf.add_batch(obs, act, rew, nxt, torch.zeros(size, device=device))
        return buf

    def fit(buf: ReplayBuffer) -> None:
        trainer.fit(buf)
        _bench.sync(torch, device)

    fit(filled(min(n, 2048)))  # warm-up on a small buffer
    buf = filled(n)
    out["epoch_s"] = _bench.median_time(lambda: fit(buf), spec["epochs"])
    return out


def mbrl_cfg(batch: int, device: str = "cpu"):
    import omegaconf

    return omegaconf.OmegaConf.create({
        "seed": 0,
        "device": device,
        "dynamics_model": _bench.mbrl_gaussian_mlp_cfg(E, LAYERS, HID, device),
        "algorithm": {
            "learned_rewards": True,
            "target_is_delta": True,
            "normalize": True,
            "normalize_double_precision": True,
        },
        "overrides": {
            "num_elites": NUM_ELITES,
            "model_lr": LR,
            "model_wd": WD,
            "model_batch_size": batch,
            "validation_ratio": HOLDOUT,
            "num_epochs_train_model": 1,
            "patience": 5,
            "improvement_threshold": 0.01,
            "bootstrap_permutes": False,
        },
    })  # fmt: skip


def worker_mbrl(spec: dict) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    torch = _bench.setup_torch(spec["threads"])
    import mbrl.models
    import mbrl.util.common
    from mbrl.util.replay_buffer import ReplayBuffer

    torch.manual_seed(0)
    device = spec.get("device", "cpu")
    cfg = mbrl_cfg(spec["batch"], device)
    out = {"versions": _bench.versions("mbrl", "torch", "numpy", "hydra-core", "omegaconf")}
    model = mbrl.util.common.create_one_dim_tr_model(cfg, (OBS,), (ACT,))
    trainer = mbrl.models.ModelTrainer(model, optim_lr=LR, weight_decay=WD)
    if spec["kind"] == "step":
        net = model.model  # the GaussianMLP
        x, y = step_tensors(torch, spec["batch"], device)
        opt = trainer.optimizer

        def update() -> None:
            net.update(x, opt, y)

        def core() -> None:
            opt.zero_grad()
            loss, _ = net.loss(x, y)
            loss.backward()
            opt.step()

        for fn, key in ((update, "step_ms"), (core, "core_ms")):
            out[key] = timed_ms(torch, fn, spec["steps"], spec["warmup"], device)
        return out

    def filled(size: int) -> ReplayBuffer:
        import numpy as np

        buf = ReplayBuffer(size, (OBS,), (ACT,), rng=np.random.default_rng(0))
        obs, act, nxt, rew = random_transitions(size)
        done = np.zeros(size, dtype=bool)
        buf.add_batch(obs, act, nxt, rew, done, done)
        return buf

    def fit(buf: ReplayBuffer) -> None:
        mbrl.util.common.train_model_and_save_model_and_data(
            model, trainer, cfg.overrides, buf, work_dir=None
        )
        _bench.sync(torch, device)

    fit(filled(min(spec["n"], 2048)))  # warm-up on a small buffer
    buf = filled(spec["n"])
    out["epoch_s"] = _bench.median_time(lambda: fit(buf), spec["epochs"])
    return out


# ----- driver -----
def main() -> None:
    parser = _bench.driver_parser(__doc__, PEER)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000],
                        help="transitions for the epoch timings (none: skip)")  # fmt: skip
    parser.add_argument("--batch", type=int, default=256, help="per member")
    parser.add_argument("--steps", type=int, default=50, help="timed batch steps per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed batch steps first")
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per round (median)")
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="our side's model_precision (mbrl-lib trains in fp32)",
    )
    args = parser.parse_args()
    peak = _bench.Peak(args)
    base = {"threads": args.threads, "batch": args.batch, "precision": args.precision,
            "device": args.device}  # fmt: skip
    specs = [{**base, "kind": "step", "steps": args.steps, "warmup": args.warmup}]
    specs += [{**base, "kind": "epoch", "n": n, "epochs": args.epochs} for n in args.sizes]
    records = [(spec, _bench.alternate(__file__, PEER, spec, args)) for spec in specs]
    peak.finish()
    for spec, runs in records:
        if spec["kind"] == "step":
            key, unit, scale = "step_ms", "ms", 1e-3
            name = f"ensemble_train_step_{E}x{LAYERS}x{HID}_b{args.batch}"
            flops = step_flops(args.batch)
        else:
            key, unit, scale = "epoch_s", "s", 1.0
            name = f"ensemble_fit_epoch_{E}x{LAYERS}x{HID}_b{args.batch}_n{spec['n']}"
            flops = epoch_flops(spec["n"])
        if args.precision != "fp32":
            name += f"_ours_{args.precision}"
        ours = _bench.median_of(runs["ours"], key)
        peer = _bench.median_of(runs[PEER], key)
        record = {
            "benchmark": name,
            f"ours_{unit}": round(ours, 4),
            f"mbrl_{unit}": round(peer, 4),
            "ratio_mbrl_over_ours": round(peer / ours, 3),
            "gflop": round(flops / 1e9, 4),
            "ours_frac_of_peak": round(flops / (ours * scale) / 1e9 / peak.gflops, 4),
            "mbrl_frac_of_peak": round(flops / (peer * scale) / 1e9 / peak.gflops, 4),
        }
        if spec["kind"] == "step":
            record["mbrl_core_ms"] = round(_bench.median_of(runs[PEER], "core_ms"), 4)
        else:
            record["holdout"] = int(HOLDOUT * spec["n"])
        _bench.emit({
            **record,
            **_bench.maxrss_fields(runs),
            **peak.info(),
            "workload": spec,
            **_bench.round_fields(runs, key, 4, f"per_round_{unit}"),
            **_bench.context(args),
        })  # fmt: skip


if __name__ == "__main__":
    if _bench.is_worker_call():
        _bench.worker_main({"ours": worker_ours, PEER: worker_mbrl})
    else:
        main()
