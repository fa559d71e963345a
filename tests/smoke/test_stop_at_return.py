"""``stop_at_return``: a run ends, finished (meta.json), at its first evaluation whose mean
return reaches the threshold; a threshold never reached changes nothing; and a checkpoint
taken under another value (here: none) resumes under a new one (the key is neutral for
resuming, like the checkpoint keys)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from methods.common.resume import CHECKPOINT_NAME, KILL_AFTER_CHECKPOINT_ENV

ROOT = Path(__file__).resolve().parents[2]
TINY = ["env_steps=440", "random_steps=60", "eval_every=100", "eval_episodes=1", "hidden=16",
        "batch_size=16", "updates_per_step=1"]  # fmt: skip


def train(out: Path, extra: list[str], kill_after_checkpoint: bool = False) -> int:
    cmd = [sys.executable, "-m", "methods", "train", "--variant", "sac", "--env",
           "gym-Pendulum-v1", "--seed", "2", "--out", str(out), "--threads", "1",
           "--device", "cpu"]  # fmt: skip
    for item in TINY + extra:
        cmd += ["--set", item]
    env = {k: v for k, v in os.environ.items() if k != KILL_AFTER_CHECKPOINT_ENV}
    if kill_after_checkpoint:
        env[KILL_AFTER_CHECKPOINT_ENV] = "1"
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True).returncode


def eval_steps(out: Path) -> list[int]:
    return pd.read_csv(out / "returns.csv").env_step.tolist()


def test_stops_at_first_evaluation_reaching_the_threshold(tmp_path):
    out = tmp_path / "stopped"
    assert train(out, ["stop_at_return=-1e9"]) == 0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["stopped_at_return"]["env_step"] == 100
    assert meta["stopped_at_return"]["threshold"] == -1e9
    assert eval_steps(out) == [100]
    assert not (out / CHECKPOINT_NAME).exists()


def test_unreached_threshold_runs_the_whole_budget(tmp_path):
    plain, unreached = tmp_path / "plain", tmp_path / "unreached"
    assert train(plain, []) == 0
    assert train(unreached, ["stop_at_return=1e9"]) == 0
    assert "stopped_at_return" not in json.loads((unreached / "meta.json").read_text())
    assert eval_steps(unreached) == [100, 200, 300, 400, 440]
    assert (plain / "returns.csv").read_bytes() == (unreached / "returns.csv").read_bytes()


def test_checkpoint_under_another_value_resumes_and_stops(tmp_path):
    out = tmp_path / "resumed"
    assert train(out, ["checkpoint_every=300"], kill_after_checkpoint=True) < 0
    assert (out / CHECKPOINT_NAME).exists()
    assert train(out, ["checkpoint_every=300", "stop_at_return=-1e9"]) == 0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["resumed_at_steps"] == [400]
    assert meta["stopped_at_return"]["env_step"] == 400
    assert eval_steps(out) == [100, 200, 300, 400]
