"""Moving a part-done tier through git: what `handoff pack` sends, and commit-time mtimes
that keep a clone's committed results up to date for Snakemake."""

import os
import re
import subprocess
from pathlib import Path

import pytest
import torch
import yaml

from methods.common.errors import UserError
from methods.common.resume import CHECKPOINT_NAME, FORMAT_VERSION
from methods.common.training import LoopState
from methods.handoff import pack, restore_mtimes

CONFIG = {"tier": "moving", "envs": ["gym-Pendulum-v1"], "seeds": 2,
          "heldout": {"policy_variant": "sac"}, "chaos": {"variant": "mbpo-k5"},
          "return_gap": {"variants": ["mbpo-k5"]},
          "variants": {"sac": {"method": "sac"},
                       "mbpo-k5": {"method": "mbpo", "rollout_length": 5}}}  # fmt: skip


def run_dir(root, variant, seed, finished, files=()):
    run = root / "results/moving/runs" / variant / "gym-Pendulum-v1" / f"s{seed}"
    run.mkdir(parents=True)
    if finished:
        (run / "meta.json").write_text("{}")
    for name in files:
        (run / name).write_bytes(b"x")
    return run


def test_pack_sends_unfinished_checkpoints_and_models_that_diagnostics_still_need(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config/moving.yaml").write_text(yaml.safe_dump(CONFIG))
    sac0 = run_dir(tmp_path, "sac", 0, True, ["policy.pt", "critic.pt"])  # held-out set due
    sac1 = run_dir(tmp_path, "sac", 1, True, ["policy.pt", "critic.pt"])  # nothing reads it
    mbpo0 = run_dir(tmp_path, "mbpo-k5", 0, True, ["model.pt", "policy.pt"])
    mbpo1 = run_dir(tmp_path, "mbpo-k5", 1, False)
    loop = LoopState()
    loop.step = 400
    torch.save({"format": FORMAT_VERSION, "agent": {}, "loop": loop},
               mbpo1 / CHECKPOINT_NAME)  # fmt: skip
    for done in ("model_error/mbpo-k5/gym-Pendulum-v1/s0.csv",
                 "return_gap/mbpo-k5/gym-Pendulum-v1/s0.csv"):  # fmt: skip
        path = tmp_path / "results/moving" / done
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("done")
    heldout = tmp_path / "results/moving/heldout/gym-Pendulum-v1/random.npz"
    heldout.parent.mkdir(parents=True)
    heldout.write_bytes(b"npz")  # git ignores a non-default tier's held-out sets
    travel = {p.relative_to("results/moving").as_posix() for p in
              pack("config/moving.yaml")}  # fmt: skip
    # mbpo-k5 s0 still feeds the chaos diagnostic of seed 0; sac s0 the policy's held-out set
    assert travel == {"runs/sac/gym-Pendulum-v1/s0/policy.pt",
                      "runs/sac/gym-Pendulum-v1/s0/critic.pt",
                      "runs/mbpo-k5/gym-Pendulum-v1/s0/model.pt",
                      "runs/mbpo-k5/gym-Pendulum-v1/s0/policy.pt",
                      "runs/mbpo-k5/gym-Pendulum-v1/s1/checkpoint.pt",
                      "heldout/gym-Pendulum-v1/random.npz"}  # fmt: skip
    assert sac0.exists() and sac1.exists() and mbpo0.exists()
    chaos = tmp_path / "results/moving/chaos/gym-Pendulum-v1/s0/summary.csv"
    chaos.parent.mkdir(parents=True)
    chaos.write_text("done")
    travel = {p.name for p in pack("config/moving.yaml") if "mbpo-k5/gym-Pendulum-v1/s0" in
              p.as_posix()}  # fmt: skip
    assert travel == set()


def test_pack_finished_only_leaves_running_checkpoints_alone(tmp_path, monkeypatch):
    """The interim commits made while the tier runs keep a finished run's models until its
    diagnostics have run (a machine lost before them cost 4.5 core-hours of reruns once),
    without touching a checkpoint that a running job is writing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config/moving.yaml").write_text(yaml.safe_dump(CONFIG))
    run_dir(tmp_path, "mbpo-k5", 0, True, ["model.pt", "policy.pt"])
    running = run_dir(tmp_path, "mbpo-k5", 1, False, [CHECKPOINT_NAME])
    before = (running / CHECKPOINT_NAME).read_bytes()
    travel = {p.relative_to("results/moving").as_posix() for p in
              pack("config/moving.yaml", checkpoints=False)}  # fmt: skip
    assert travel == {"runs/mbpo-k5/gym-Pendulum-v1/s0/model.pt",
                      "runs/mbpo-k5/gym-Pendulum-v1/s0/policy.pt"}  # fmt: skip
    assert (running / CHECKPOINT_NAME).read_bytes() == before


def test_diagnostics_that_read_a_runs_models_are_scheduled_before_more_training():
    """Snakemake runs the ready job of highest priority first: a finished run's diagnostics
    go before the next training job, so a stop finds few models still needed."""
    rules = (Path(__file__).resolve().parents[2] / "workflow/rules").glob("*.smk")
    text = "\n".join(path.read_text() for path in rules)

    def priority(rule: str) -> int:
        block = re.search(rf"^rule {rule}:\n(.*?)(?=^rule |\Z)", text, re.M | re.S)
        assert block, rule
        value = re.search(r"^    priority: (\d+)", block.group(1), re.M)
        return int(value.group(1)) if value else 0

    for rule in ("heldout_policy", "model_error", "return_gap", "chaos"):
        assert priority(rule) > priority("train"), rule


def git(root, *args, when=None):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    if when is not None:
        env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"] = f"@{when} +0000"
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def test_restore_mtimes_gives_each_file_its_last_commit_time(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "results/runs").mkdir(parents=True)
    (tmp_path / "results/chaos").mkdir()
    (tmp_path / "results/runs/meta.json").write_text("run")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "run", when=1_700_000_000)
    (tmp_path / "results/chaos/summary.csv").write_text("diagnostic")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "diagnostic", when=1_700_000_100)
    (tmp_path / "results/runs/meta.json").write_text("edited, not committed")
    for path in tmp_path.rglob("*.*"):
        os.utime(path, (1, 1))  # a clone's arbitrary times
    assert restore_mtimes(tmp_path) == 1
    assert (tmp_path / "results/chaos/summary.csv").stat().st_mtime == 1_700_000_100
    assert (tmp_path / "results/runs/meta.json").stat().st_mtime == 1  # modified: kept


def test_restore_mtimes_outside_git_is_one_error(tmp_path):
    with pytest.raises(UserError, match="needs a git checkout"):
        restore_mtimes(tmp_path)


def test_restore_mtimes_is_monotonic_along_history_and_reads_any_file_name(tmp_path):
    """A result committed on a machine whose clock lags is not dated before its run (review
    of 2026-12-04); names git quotes (non-ASCII, spaces) are found."""
    git(tmp_path, "init", "-q")
    (tmp_path / "run é.json").write_text("run")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "run", when=2_000_000_000)
    (tmp_path / "diag z.csv").write_text("diagnostic")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "diagnostic", when=1_000_000_000)  # a lagging clock
    assert restore_mtimes(tmp_path) == 2
    assert (tmp_path / "run é.json").stat().st_mtime == 2_000_000_000
    assert (tmp_path / "diag z.csv").stat().st_mtime == 2_000_000_000


def test_restore_mtimes_dates_a_jobs_outputs_together(tmp_path):
    """A diagnostic recomputed after its run was redone may write some files byte-identical
    to the committed ones: git sees no change there, so they kept the older commit's time,
    looked older than the new run, and a clone redid the diagnostic without its model (chaos
    Hopper s4's divergence.csv, 2026-12-06). A seed directory holds one job's outputs: its
    files take the newest time among them."""
    git(tmp_path, "init", "-q")
    chaos, run = tmp_path / "results/chaos/env/s4", tmp_path / "results/runs/v/env/s4"
    chaos.mkdir(parents=True)
    run.mkdir(parents=True)
    (run / "meta.json").write_text("first run")
    (chaos / "divergence.csv").write_text("same bytes both times")
    (chaos / "summary.csv").write_text("first")
    (tmp_path / "results/chaos/env/other.csv").write_text("not a seed directory")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "first", when=1_700_000_000)
    (run / "meta.json").write_text("run redone")
    (chaos / "summary.csv").write_text("recomputed")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "redone", when=1_700_000_100)
    restore_mtimes(tmp_path)
    assert (chaos / "divergence.csv").stat().st_mtime == 1_700_000_100
    assert (tmp_path / "results/chaos/env/other.csv").stat().st_mtime == 1_700_000_000
