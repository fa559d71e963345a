"""Move a tier that is part-way done to another machine through git (or any copy that keeps
only small files), and pick it up there.

    python -m methods handoff pack --config config/config.yaml | xargs -r git add -f
    git add results/ figures/ && git commit -m "..."          # the runs' small files
    # on the other machine, after cloning:
    python -m methods handoff restore-mtimes && snakemake --cores all all

``pack`` (with the tier's Snakemake stopped) slims the checkpoint of every unfinished run
(its model buffer is rebuilt on resume; ``slim-checkpoint``) and prints the files that must
travel besides the small files that are committed anyway: those checkpoints, the models
and policies of finished runs whose diagnostics (model error, return gap, chaos, the
trained policy's held-out set) have not run yet, and the held-out sets. Everything else a
later job needs is in the committed CSVs.

``pack --finished-only`` touches no checkpoint and lists only the second and third kind: it
is safe while the tier runs, for the commits made as runs finish.

``restore-mtimes`` gives every file git tracks the time of the last commit that changed it.
A clone writes files in path order, so ``results/chaos/`` would look older than the
``results/runs/`` it was computed from and Snakemake would redo every diagnostic (without
the models, which do not travel). With commit times (a running maximum along history, so
that a machine whose clock lags cannot date a result before its inputs), a result is never
older than what it was computed from (both were committed together or in that order), and
a result older than a later change of its code is rightly redone. The files of one seed
directory (a run's, a chaos diagnostic's) take the newest time among them: a rerun that
wrote some of them byte-identical left those with an older commit. Files with uncommitted
changes keep theirs.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from methods.common.config import load_config_file
from methods.common.errors import UserError
from methods.common.resume import CHECKPOINT_NAME, slim_checkpoint
from methods.common.tiers import tier_paths, tier_seeds

MODEL_FILES = ("model.pt", "policy.pt", "critic.pt", "value.pt")
SEED_DIR = re.compile(r"s\d+")  # a run's or a per-seed diagnostic's output directory


def _pending_diagnostics(config: dict, results: Path, variant: str, env: str, seed: int,
                         first_seed: int, run: Path) -> list[Path]:  # fmt: skip
    """The diagnostic outputs of the DAG that read this finished run's .pt files and are
    missing."""
    wanted = []
    if (run / "model.pt").exists():
        wanted.append(results / "model_error" / variant / env / f"s{seed}.csv")
    if variant in (config.get("return_gap") or {}).get("variants", []):
        wanted.append(results / "return_gap" / variant / env / f"s{seed}.csv")
    if variant == (config.get("chaos") or {}).get("variant"):
        wanted.append(results / "chaos" / env / f"s{seed}" / "summary.csv")
    if variant == (config.get("heldout") or {}).get("policy_variant") and seed == first_seed:
        wanted.append(results / "heldout" / env / "policy.npz")
    return [p for p in wanted if not p.exists()]


def pack(config_file: str, checkpoints: bool = True) -> list[Path]:
    """Slim the unfinished runs' checkpoints; the files that must travel (see module doc).

    ``checkpoints=False`` leaves every checkpoint alone and lists only the finished runs'
    files and the held-out sets: safe while the tier runs, so that each interim commit
    keeps what a finished run's diagnostics need if the machine is lost before they run.
    """
    config = load_config_file(config_file)
    paths = tier_paths(config, config_file)
    results, runs = Path(paths.results), Path(paths.runs)
    seeds = tier_seeds(config)
    travel = []
    for run in sorted(runs.glob("*/*/s*")):
        variant, env, seed = run.parent.parent.name, run.parent.name, run.name[1:]
        if not seed.isdigit() or variant not in config.get("variants", {}):
            continue
        if not (run / "meta.json").exists():
            if checkpoints and (run / CHECKPOINT_NAME).exists():
                slim_checkpoint(run / CHECKPOINT_NAME)
                travel.append(run / CHECKPOINT_NAME)
            continue
        if _pending_diagnostics(config, results, variant, env, int(seed), seeds[0], run):
            travel += [run / name for name in MODEL_FILES if (run / name).exists()]
    # the held-out sets: a redrawn set would redo every model-error job (and the trained
    # policy's set cannot be redrawn without the policy); ignored by git outside the default
    travel += sorted((results / "heldout").glob("*/*.npz"))
    return travel


def _git(args: list[str], cwd: Path) -> str:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=True).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        raise UserError(
            f"restore-mtimes needs a git checkout: git {args[0]} failed ({exc})"
        ) from None


def restore_mtimes(root: Path = Path(".")) -> int:
    """Set each tracked, unmodified file's mtime to the time of the last commit that changed
    it, made monotonic along history (a commit's time is at least its ancestors', whatever
    the clock of the machine that made it); returns how many files were set."""
    root = Path(_git(["rev-parse", "--show-toplevel"], Path(root)).strip())
    modified = set(_git(["diff", "--name-only", "-z", "HEAD"], root).split("\0"))
    tracked = set(_git(["ls-files", "-z"], root).split("\0")) - modified - {""}
    log = _git(["log", "-z", "--reverse", "--topo-order", "--format=%x01%ct", "--name-only",
                "--no-renames", "--diff-merges=first-parent"], root)  # fmt: skip
    newest, when = {}, 0
    for token in log.split("\0"):
        token = token.lstrip("\n")
        if token.startswith("\x01"):
            when = max(when, int(token[1:]))  # oldest commit first: a running maximum
        elif token in tracked:
            newest[token] = when  # later commits overwrite earlier ones
    # a seed directory (runs/.../s3/, chaos/<env>/s3/) holds one job's outputs: a file that
    # a rerun wrote byte-identical kept an older commit's time, so date them together
    together: dict[str, int] = {}
    for name, t in newest.items():
        parent = name.rpartition("/")[0]
        if SEED_DIR.fullmatch(parent.rpartition("/")[2]):
            together[parent] = max(together.get(parent, 0), t)
    for name in newest:
        parent = name.rpartition("/")[0]
        if parent in together:
            newest[name] = together[parent]
    for name, t in newest.items():
        path = root / name
        if path.is_file() and not path.is_symlink():
            os.utime(path, (t, t))
    return len(newest)
