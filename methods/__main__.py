"""Command line of the suite (user errors exit 2 with one line starting with `error:`):

  python -m methods train    train one variant on one env with one seed (a run directory)
  python -m methods chaos    true-simulator divergence and BPTT gradient norm vs horizon
  python -m methods heldout  collect held-out real trajectories (npz) for model-error curves
  python -m methods return-gap  J_model(H) - J_real(H) of a run's policy from real states
  python -m methods status   how far a tier's runs are (done, running, left, time left)
  python -m methods slim-checkpoint  a checkpoint without its model buffer, to commit or copy
  python -m methods handoff  move a part-done tier to another machine through git (pack,
                             then restore-mtimes after cloning)
  python -m methods verify   re-check run directories against the run-output contract
  python -m methods list     list the known envs and a config's variants

`python -m methods COMMAND --help` describes each command's options."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import warnings
from pathlib import Path

from methods.common.errors import UserError


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m methods",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train one variant on one env with one seed")
    train.add_argument("--variant", required=True, help="a variant name from the config")
    train.add_argument("--env", required=True, help="an env id, see `python -m methods list`")
    train.add_argument("--seed", required=True, type=int)
    train.add_argument("--config", default="config/config.yaml", help="YAML config file")
    train.add_argument("--out", required=True, help="run directory to write")
    train.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda[:N]")
    train.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    train.add_argument(
        "--restart-stale-checkpoint",
        action="store_true",
        help="delete a checkpoint that cannot be resumed (e.g. another config) and start over",
    )
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a resolved config key (repeatable)",
    )
    chaos = sub.add_parser("chaos", help="true-simulator divergence and BPTT gradient vs H")
    chaos.add_argument("--env", required=True)
    chaos.add_argument("--seed", required=True, type=int)
    chaos.add_argument("--out", required=True)
    chaos.add_argument("--run", default=None, help="finished run dir with model.pt/policy.pt")
    chaos.add_argument("--starts", type=int, default=32, help="start states")
    chaos.add_argument("--steps", type=int, default=200, help="divergence steps")
    chaos.add_argument("--horizons", default="1,2,5,10,20,50,100,200")
    chaos.add_argument("--random-steps", type=int, default=5000, help="model data without --run")
    chaos.add_argument("--device", default="auto")
    chaos.add_argument("--threads", type=int, default=None)
    held = sub.add_parser("heldout", help="collect held-out real trajectories (npz)")
    held.add_argument("--env", required=True)
    held.add_argument("--seed", required=True, type=int)
    held.add_argument("--out", required=True, help="output .npz file")
    held.add_argument("--policy-run", default=None, help="finished SAC-family run to act with")
    held.add_argument("--episodes", type=int, default=20)
    held.add_argument("--max-steps", type=int, default=200)
    from methods.return_gap import add_arguments as return_gap_arguments

    return_gap_arguments(
        sub.add_parser("return-gap", help="J_model(H) - J_real(H) of a run's policy vs H")
    )
    status = sub.add_parser("status", help="how far a tier's runs are: done, running, left")
    status.add_argument("--config", default="config/config.yaml", help="the tier's config")
    status.add_argument("--stale-minutes", type=float, default=10.0,
                        help="for a run trained on another host (no checkable process): "
                        "one whose files are older than this (or than twice the longest "
                        "gap between its variant and env's evaluations) is not "
                        "running")  # fmt: skip
    slim = sub.add_parser("slim-checkpoint",
                          help="drop a run checkpoint's model buffer so it can travel")  # fmt: skip
    slim.add_argument("run", help="run directory (or its checkpoint.pt)")
    handoff = sub.add_parser("handoff", help="move a part-done tier to another machine (git)")
    handoff_sub = handoff.add_subparsers(dest="handoff_command", required=True)
    pack = handoff_sub.add_parser(
        "pack", help="slim unfinished runs' checkpoints; print the files that must travel"
    )
    pack.add_argument("--config", default="config/config.yaml", help="the tier's config")
    pack.add_argument("--finished-only", action="store_true",
                      help="leave checkpoints alone; list finished runs' models whose "
                           "diagnostics have not run, and the held-out sets (safe while "
                           "the tier runs)")  # fmt: skip
    handoff_sub.add_parser(
        "restore-mtimes", help="give tracked files their last commit's time (after a clone)"
    )
    check = sub.add_parser("verify", help="re-check run directories against the contract")
    check.add_argument("root", help="results/ (or results/runs/)")
    listing = sub.add_parser("list", help="list variants of a config and known envs")
    listing.add_argument("--config", default="config/config.yaml")
    return parser


def resolve_device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device '{name}'; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but CUDA is not available")
    return device


def cmd_train(args: argparse.Namespace) -> None:
    import torch

    from methods.common import config as config_mod
    from methods.common.envs import get_spec, make_env
    from methods.common.liveness import running_marker
    from methods.common.resume import CHECKPOINT_NAME
    from methods.common.run_io import RunWriter
    from methods.common.seeding import derive_seeds
    from methods.common.training import RunContext
    from methods.registry import all_config_keys, get_method

    spec = get_spec(args.env)
    if args.seed < 0:
        raise UserError(f"--seed must be >= 0, got {args.seed}")
    if args.threads is not None and args.threads <= 0:
        raise UserError(f"--threads must be positive, got {args.threads}")
    file_cfg = config_mod.load_config_file(args.config)
    settings = config_mod.variant_settings(file_cfg, args.variant)
    method = get_method(settings["method"])
    overrides = config_mod.parse_set_options(args.overrides)
    cfg = config_mod.resolve(
        method.Config, args.env, args.variant, file_cfg, overrides, all_config_keys()
    )
    device = resolve_device(args.device)
    torch.set_flush_denormal(True)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    if (out / "meta.json").exists():
        raise UserError(f"{out} already holds a finished run; choose another --out or delete it")
    probe = make_env(args.env)
    obs_dim, act_dim = probe.observation_space.shape[0], probe.action_space.shape[0]
    probe.close()
    resolved = {
        "variant": args.variant,
        "method": settings["method"],
        "env": args.env,
        "seed": args.seed,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "params": dataclasses.asdict(cfg),
    }
    writer = RunWriter(out, resolved, device, args.seed)
    seeds = derive_seeds(args.seed, device)
    ctx = RunContext(args.env, spec, args.variant, args.seed, seeds, device, writer,
                     obs_dim, act_dim, args.restart_stale_checkpoint)  # fmt: skip
    with running_marker(out):  # what `methods status` reads to tell running from stopped
        method.train(cfg, ctx)
        writer.finish()
        (out / CHECKPOINT_NAME).unlink(missing_ok=True)  # finished: nothing to resume


def cmd_chaos(args: argparse.Namespace) -> None:
    import torch

    from methods.chaos import run_chaos
    from methods.common.envs import get_spec

    get_spec(args.env)
    if args.starts <= 0 or args.steps <= 0:
        raise UserError("--starts and --steps must be positive")
    try:
        horizons = tuple(int(h) for h in args.horizons.split(","))
    except ValueError:
        raise UserError(
            f"--horizons must be comma-separated integers, got {args.horizons!r}"
        ) from None
    run_dir = Path(args.run) if args.run else None
    if run_dir is not None and not (run_dir / "meta.json").is_file():
        raise UserError(f"--run {run_dir} is not a finished run directory")
    device = resolve_device(args.device)
    torch.set_flush_denormal(True)
    if args.threads:
        torch.set_num_threads(args.threads)
    summary = run_chaos(args.env, args.seed, Path(args.out), run_dir, args.starts, args.steps,
                        horizons, args.random_steps, device)  # fmt: skip
    print(summary)


def cmd_heldout(args: argparse.Namespace) -> None:
    from methods.common.envs import get_spec, make_env
    from methods.heldout import collect, load_policy, save_npz

    get_spec(args.env)
    if args.episodes <= 0 or args.max_steps <= 0:
        raise UserError("--episodes and --max-steps must be positive")
    policy = None
    if args.policy_run:
        run_dir = Path(args.policy_run)
        if not (run_dir / "meta.json").is_file():
            raise UserError(f"--policy-run {run_dir} is not a finished run directory")
        probe = make_env(args.env)
        policy = load_policy(run_dir, probe.observation_space.shape[0], probe.action_space.shape[0])
    save_npz(Path(args.out), collect(args.env, args.seed, args.episodes, args.max_steps, policy))


def cmd_verify(args: argparse.Namespace) -> int:
    from methods.verify import verify

    root = Path(args.root)
    if not root.is_dir():
        raise UserError(f"{root} is not a directory")
    n_runs, problems = verify(root)
    if n_runs == 0:
        raise UserError(f"no run directories ({{variant}}/{{env}}/s{{seed}}) under {root}; "
                        "give results/ or results/runs/")  # fmt: skip
    for line in problems:
        print(line)
    bad = len({line.split(": ")[0] for line in problems})
    print(f"checked {n_runs} runs: {n_runs - bad} ok, {bad} with problems")
    return 1 if problems else 0


def cmd_return_gap(args: argparse.Namespace) -> None:
    from methods.return_gap import gap_by_horizon, run_from_args

    table = run_from_args(args)
    print(gap_by_horizon(table).to_string(index=False, float_format="%.4g"))


def cmd_slim_checkpoint(args: argparse.Namespace) -> None:
    from methods.common.resume import slim_checkpoint

    before, after, dropped = slim_checkpoint(Path(args.run))
    what = ", ".join(dropped) or "nothing (already slim)"
    print(f"dropped {what}: {before / 2**20:.1f} MB -> {after / 2**20:.1f} MB")


def cmd_handoff(args: argparse.Namespace) -> None:
    from methods.handoff import pack, restore_mtimes

    if args.handoff_command == "pack":
        for path in pack(args.config, checkpoints=not args.finished_only):
            print(path)
    else:
        print(f"restored the commit time of {restore_mtimes()} files", file=sys.stderr)


def cmd_status(args: argparse.Namespace) -> None:
    from methods.status import print_status

    print_status(args.config, args.stale_minutes)


def cmd_list(args: argparse.Namespace) -> None:
    from methods.common.config import load_config_file
    from methods.common.envs import REGISTRY

    print("envs:")
    for env_id, spec in REGISTRY.items():
        print(f"  {env_id:28s} episode {spec.episode_length:5d}  default budget {spec.env_steps}")
    cfg = load_config_file(args.config) if Path(args.config).exists() else {}
    print(f"variants ({args.config}):")
    for name, settings in (cfg.get("variants") or {}).items():
        extra = {k: v for k, v in (settings or {}).items() if k != "method"}
        print(f"  {name:20s} method={settings.get('method')} {extra or ''}")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("MUJOCO_GL", "disable")
    warnings.filterwarnings("ignore", message=".*precision lowered.*")
    args = _build_parser().parse_args(argv)
    try:
        commands = {"train": cmd_train, "list": cmd_list, "chaos": cmd_chaos,
                    "heldout": cmd_heldout, "verify": cmd_verify,
                    "return-gap": cmd_return_gap, "status": cmd_status,
                    "slim-checkpoint": cmd_slim_checkpoint,
                    "handoff": cmd_handoff}  # fmt: skip
        status = commands[args.command](args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
