"""A run's log shows how far it is: one line per evaluation with step / budget, return,
elapsed time and an estimate of the time left (issue 40.2), with or without a terminal."""

import re
import subprocess
import sys
from pathlib import Path

from methods.common.training import RunSettings

ROOT = Path(__file__).resolve().parents[2]


def test_every_evaluation_prints_a_progress_line(tmp_path):
    cmd = [sys.executable, "-m", "methods", "train", "--variant", "sac", "--env",
           "gym-Pendulum-v1", "--seed", "0", "--config", str(ROOT / "config/smoke.yaml"),
           "--out", str(tmp_path / "run"), "--threads", "1", "--device", "cpu",
           "--set", "env_steps=300", "--set", "eval_every=100", "--set", "random_steps=50",
           "--set", "eval_episodes=1", "--set", "hidden=16", "--set", "batch_size=16"]  # fmt: skip
    env = {"MUJOCO_GL": "disable", "PATH": "/usr/bin:/bin", "CI": "true"}  # no terminal
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if "sac gym-Pendulum-v1 s0: step" in ln]
    assert [re.search(r"step (\d+)/300", ln).group(1) for ln in lines] == ["100", "200", "300"]
    pattern = r"\(\d+%\)  return -?\d+\.\d  elapsed \d+m\d\ds  left ~(\d+m\d\ds|\?)"
    assert all(re.search(pattern, ln) for ln in lines), lines


def test_a_kill_loses_at_most_a_few_minutes_by_default():
    """Checkpoints come at the first episode end after checkpoint_minutes (was 30)."""
    assert 0 < RunSettings().checkpoint_minutes <= 5
