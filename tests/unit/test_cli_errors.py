"""User mistakes give one clear line on stderr and exit 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from methods.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "config/config.yaml")


def base(**changes):
    args = {"--variant": "sac", "--env": "gym-Pendulum-v1", "--seed": "0", "--config": CONFIG}
    args.update(changes)
    return [x for kv in args.items() for x in kv]


CASES = [
    (base(**{"--variant": "sacc"}), [], "unknown variant 'sacc'"),
    (base(**{"--env": "gym-Hoper-v5"}), [], "unknown env 'gym-Hoper-v5'"),
    (base(**{"--config": "/nonexistent.yaml"}), [], "does not exist"),
    (base(**{"--seed": "-1"}), [], "--seed must be >= 0"),
    (base(), ["env_steps=0"], "'env_steps' must be positive"),
    (base(), ["env_steps=-5"], "'env_steps' must be positive"),
    (base(), ["env_steps=abc"], "'env_steps' must be an integer"),
    (base(), ["env_stepz=100"], "unknown key 'env_stepz'"),
    (base(), ["gamma=true"], "'gamma' must be a number"),
    (base(), ["gamma=fast"], "'gamma' must be a number"),
    (base(), ["novalue"], "expects KEY=VALUE"),
    (base(**{"--device": "tpu"}), [], "unknown device"),
    (base(**{"--threads": "0"}), [], "--threads must be positive"),
]


@pytest.mark.parametrize(("args", "sets", "message"), CASES)
def test_bad_input_is_one_clear_line(tmp_path, capsys, args, sets, message):
    argv = ["train", *args, "--out", str(tmp_path / "out")]
    for item in sets:
        argv += ["--set", item]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("error: ")


def test_bad_yaml_and_variant_without_method(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("variants: [unclosed\n")
    assert main(["train", *base(**{"--config": str(bad)}), "--out", str(tmp_path / "o")]) == 2
    assert "not valid YAML" in capsys.readouterr().err
    bad.write_text("variants:\n  sac: {rollout_length: 3}\n")
    assert main(["train", *base(**{"--config": str(bad)}), "--out", str(tmp_path / "o")]) == 2
    assert "does not name its 'method'" in capsys.readouterr().err


def test_cli_process_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "methods", "train", *base(**{"--env": "nope"}), "--out",
         str(tmp_path / "o")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "unknown env 'nope'" in proc.stderr
    assert not (tmp_path / "o").exists()
