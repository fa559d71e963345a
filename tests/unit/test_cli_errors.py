"""User mistakes give one clear line on stderr and exit 2, never a traceback.

The table of bad inputs is tests/smoke/test_bad_inputs.py; this checks the real process."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "config/config.yaml")


def base(**changes):
    args = {"--variant": "sac", "--env": "gym-Pendulum-v1", "--seed": "0", "--config": CONFIG}
    args.update(changes)
    return [x for kv in args.items() for x in kv]


def test_cli_process_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "methods", "train", *base(**{"--env": "nope"}), "--out",
         str(tmp_path / "o")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "unknown env 'nope'" in proc.stderr
    assert not (tmp_path / "o").exists()
