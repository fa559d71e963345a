"""Return gap CLI on a tiny trained Pendulum MBPO run: the table, determinism, bad inputs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from methods.__main__ import main as methods_main
from methods.return_gap import COLUMNS, main

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--starts", "6", "--stride", "20", "--episodes", "1", "--threads", "1",
        "--device", "cpu"]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("return_gap") / "mbpo-k5"
    args = ["train", "--variant", "mbpo-k5", "--env", "gym-Pendulum-v1", "--seed", "0",
            "--config", str(ROOT / "config/smoke.yaml"), "--out", str(out), "--threads", "1",
            "--device", "cpu", "--set", "env_steps=200", "--set", "eval_every=200"]  # fmt: skip
    assert methods_main(args) == 0
    return out


def test_cli_writes_the_gap_table(run, tmp_path):
    out = tmp_path / "gap.csv"
    assert main(["--run", str(run), "--out", str(out), *FAST]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == list(COLUMNS)
    assert sorted(table.H.unique()) == [1, 5, 15, 50, 200]  # 'episode' = Pendulum's 200
    assert len(table) == 6 * 5 and sorted(table.start.unique()) == list(range(6))
    assert np.isfinite(table[["j_model", "j_real", "gap", "abs_gap"]].to_numpy()).all()
    assert np.allclose(table.gap, table.j_model - table.j_real, atol=1e-6)
    assert np.allclose(table.abs_gap, table.gap.abs())
    # Pendulum never terminates: both rollouts are alive for all H steps
    assert (table.real_alive_steps == table.H).all() and (table.model_alive_steps == table.H).all()
    assert (table.j_real < 0).all()  # Pendulum's rewards are costs


def test_same_seed_same_bytes_and_custom_horizons(run, tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for path in paths:
        args = ["--run", str(run), "--out", str(path), "--horizons", "3,episode,1", *FAST]
        assert main(args) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert sorted(pd.read_csv(paths[0]).H.unique()) == [1, 3, 200]


def _without_model(run: Path, tmp: Path) -> Path:
    copy = tmp / "no-model"
    shutil.copytree(run, copy)
    (copy / "model.pt").unlink()
    return copy


def _unknown_env(run: Path, tmp: Path) -> Path:
    copy = tmp / "unknown-env"
    shutil.copytree(run, copy)
    config = copy / "config.yaml"
    config.write_text(config.read_text().replace("gym-Pendulum-v1", "gym-Pendulm-v1"))
    return copy


BAD = [
    ("missing-run", lambda run, tmp: tmp / "nowhere", [], "not a finished run directory"),
    ("no-model", _without_model, [], "has no model.pt"),
    ("unknown-env", _unknown_env, [], "unknown env 'gym-Pendulm-v1'"),
    ("horizon-zero", lambda run, tmp: run, ["--horizons", "0,5"], "--horizons"),
    ("horizon-too-long", lambda run, tmp: run, ["--horizons", "500"], "episode length"),
    ("horizon-text", lambda run, tmp: run, ["--horizons", "1,long"], "--horizons"),
    ("no-starts", lambda run, tmp: run, ["--starts", "0"], "--starts"),
    ("negative-seed", lambda run, tmp: run, ["--seed", "-1"], "--seed"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "extra", "message"), [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])  # fmt: skip
def test_bad_input_gives_one_error_line(run, tmp_path, capsys, make, extra, message):
    out = tmp_path / "gap.csv"
    status = main(["--run", str(make(run, tmp_path)), "--out", str(out), *FAST, *extra])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and message in err, err
    assert not out.exists()


def test_module_entry_point_exits_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "methods.return_gap", "--run", str(tmp_path / "nowhere"),
         "--out", str(tmp_path / "gap.csv")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: ") and len(proc.stderr.splitlines()) == 1
