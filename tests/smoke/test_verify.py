"""`python -m methods verify` passes a finished run and names each problem of a broken one."""

import json
from pathlib import Path

from methods.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_verify_reports_each_broken_run(tmp_path, capsys):
    runs = tmp_path / "results" / "runs"
    for seed in (0, 1):
        out = runs / "sac" / "gym-Pendulum-v1" / f"s{seed}"
        args = ["train", "--variant", "sac", "--env", "gym-Pendulum-v1", "--seed", str(seed),
                "--config", str(ROOT / "config/config.yaml"), "--out", str(out), "--threads",
                "1", "--set", "env_steps=120", "--set", "random_steps=60", "--set",
                "eval_every=120", "--set", "eval_episodes=1", "--set", "hidden=8"]  # fmt: skip
        assert main(args) == 0
    assert main(["verify", str(tmp_path / "results")]) == 0
    assert "checked 2 runs: 2 ok" in capsys.readouterr().out

    broken = runs / "sac" / "gym-Pendulum-v1" / "s1"
    (broken / "returns.csv").write_text("env_step,eval_return\n1,2\n")
    meta = json.loads((broken / "meta.json").read_text())
    del meta["git_commit"]
    (broken / "meta.json").write_text(json.dumps(meta))
    (broken / "timings.csv").unlink()
    moved = runs / "sac" / "gym-Pendulum-v1" / "s7"
    broken.rename(moved)
    assert main(["verify", str(tmp_path / "results")]) == 1
    out = capsys.readouterr().out
    for problem in ("returns.csv has columns", "meta.json lacks 'git_commit'",
                    "timings.csv is missing", "config.yaml says seed=1"):  # fmt: skip
        assert problem in out, problem
    assert "checked 2 runs: 1 ok, 1 with problems" in out
