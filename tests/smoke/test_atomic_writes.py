"""A run SIGKILLed at arbitrary moments never leaves a half-written file under a real name:
every file present parses whole, and meta.json (the finished-run mark) is absent."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from methods.common.errors import UserError
from methods.common.run_io import METRICS_COLUMNS, RETURNS_COLUMNS, atomic_write_text

ROOT = Path(__file__).resolve().parents[2]
# evaluations every 20 steps: the three CSVs are rewritten several times a second
SETS = ["env_steps=4000", "random_steps=50", "eval_every=20", "eval_episodes=1", "hidden=8",
        "batch_size=8", "checkpoint_every=400"]  # fmt: skip


def check_whole(run: Path) -> None:
    if not run.exists():  # killed before its first write (imports are slow on a busy machine)
        return
    names = {p.name for p in run.iterdir() if not p.name.endswith(".tmp")}
    assert "meta.json" not in names
    if "config.yaml" in names:
        assert isinstance(yaml.safe_load((run / "config.yaml").read_text())["params"], dict)
    for name, columns in (("returns.csv", RETURNS_COLUMNS), ("metrics.csv", METRICS_COLUMNS),
                          ("timings.csv", METRICS_COLUMNS)):  # fmt: skip
        if name in names:
            text = (run / name).read_text()
            assert text.endswith("\n"), f"{name} was cut"
            frame = pd.read_csv(run / name)
            assert tuple(frame.columns) == columns
            assert not frame.isna().any().any(), f"{name} has an incomplete row"
    if "checkpoint.pt" in names:
        import torch

        assert torch.load(run / "checkpoint.pt", weights_only=False)["format"] == 1


@pytest.mark.slow
def test_kills_at_random_moments_leave_only_whole_files(tmp_path):
    delays = np.random.default_rng(0).uniform(2.0, 7.0, size=6)
    for i, delay in enumerate(delays):
        run = tmp_path / f"run{i}"
        cmd = [sys.executable, "-m", "methods", "train", "--variant", "sac", "--env",
               "gym-Pendulum-v1", "--seed", str(i), "--out", str(run), "--threads", "1",
               "--device", "cpu"]  # fmt: skip
        for item in SETS:
            cmd += ["--set", item]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the run ended before the kill"
        check_whole(run)


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "returns.csv"
    atomic_write_text(target, "old\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(UserError, match="No space left on device"):
        atomic_write_text(target, "new and longer\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["returns.csv"]
