"""A run killed right after a mid-run checkpoint resumes, with the same command, to the
byte-identical returns.csv and metrics.csv of an uninterrupted run (every method family)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from methods.common.liveness import MARKER_NAME, marker_alive
from methods.common.resume import CHECKPOINT_NAME, KILL_AFTER_CHECKPOINT_ENV

ROOT = Path(__file__).resolve().parents[2]
RUN = ["random_steps=60", "eval_every=100", "eval_episodes=1"]
MODEL = ["model_hidden=16", "model_layers=2", "ensemble_size=3", "num_elites=2",
         "model_max_epochs=3", "model_train_freq=50"]  # fmt: skip
LEARNER = ["hidden=16", "batch_size=16", "updates_per_step=2"]
ROLLOUTS = ["rollout_batch_size=40", "rollout_transitions=0", "rollout_freq=25"]
PLANNER = ["population=10", "cem_elites=3", "particles=2", "iterations=2", "horizon=4"]
CASES = {
    # id: (variant, env, env_steps, overrides); Pendulum episodes are 200 steps long,
    # cartpole's 250, Hopper's end early under random actions (a MuJoCo health check)
    "sac-pendulum": ("sac", "gym-Pendulum-v1", 440, LEARNER),
    "sac-hopper": ("sac", "gym-Hopper-v5", 400, LEARNER),
    "sac-dmc-cartpole": ("sac", "dmc-cartpole-swingup", 540, LEARNER),
    "mbpo-k5": ("mbpo-k5", "gym-Pendulum-v1", 440, LEARNER + MODEL + ROLLOUTS),
    "dyna-h50": ("dyna-h50", "gym-Pendulum-v1", 440, LEARNER + MODEL + ROLLOUTS),
    "mpc-cem": ("mpc-cem", "gym-Pendulum-v1", 440, MODEL + PLANNER),
    "mpc-oracle": ("mpc-oracle", "gym-Pendulum-v1", 440, ["population=6", "cem_elites=2",
                                                          "iterations=1", "horizon=3"]),
    "bptt-h5": ("bptt-h5", "gym-Pendulum-v1", 440, LEARNER + MODEL + ["diagnostics_every=20"]),
}  # fmt: skip


def command(case: str, out: Path, extra: list[str]) -> list[str]:
    variant, env, steps, overrides = CASES[case]
    cmd = [sys.executable, "-m", "methods", "train", "--variant", variant, "--env", env,
           "--seed", "3", "--config", str(ROOT / "config/paper.yaml"), "--out", str(out),
           "--threads", "1", "--device", "cpu"]  # fmt: skip
    for item in [f"env_steps={steps}", *RUN, *overrides, *extra]:
        cmd += ["--set", item]
    return cmd


def run(cmd: list[str], kill_after_checkpoint: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != KILL_AFTER_CHECKPOINT_ENV}
    env["MUJOCO_GL"] = "disable"
    if kill_after_checkpoint:
        env[KILL_AFTER_CHECKPOINT_ENV] = "1"
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_killed_run_resumes_to_identical_outputs(tmp_path, case):
    plain, resumed = tmp_path / "plain", tmp_path / "resumed"
    assert run(command(case, plain, [])).returncode == 0
    assert not (plain / CHECKPOINT_NAME).exists() and not (plain / MARKER_NAME).exists()

    resumable = command(case, resumed, ["checkpoint_every=300"])
    killed = run(resumable, kill_after_checkpoint=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (resumed / CHECKPOINT_NAME).exists() and not (resumed / "meta.json").exists()
    assert marker_alive(resumed) is False  # the killed process's marker is stale: stopped

    again = run(resumable)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    for name in ("returns.csv", "metrics.csv"):
        assert (plain / name).read_bytes() == (resumed / name).read_bytes(), f"{case}: {name}"
    meta = json.loads((resumed / "meta.json").read_text())
    assert len(meta["resumed_at_steps"]) == 1 and meta["resumed_at_steps"][0] >= 300
    (first,) = meta["earlier_attempts"]  # the killed attempt's provenance is kept
    assert first["git_commit"] == meta["git_commit"] and first["start_time"] == meta["start_time"]
    assert not (resumed / CHECKPOINT_NAME).exists() and not (resumed / MARKER_NAME).exists()


def test_checkpoint_from_another_config_is_refused(tmp_path):
    out = tmp_path / "run"
    killed = run(command("sac-pendulum", out, ["checkpoint_every=300"]), True)
    assert killed.returncode == -signal.SIGKILL
    config_before = (out / "config.yaml").read_bytes()
    other = run(command("sac-pendulum", out, ["checkpoint_every=300", "gamma=0.9"]))
    assert other.returncode == 2
    assert other.stderr.strip().startswith("error:") and "another config (" in other.stderr
    assert "(params.gamma: 0.99 -> 0.9)" in other.stderr  # names what changed
    assert "rerun with the checkpoint's values to resume" in other.stderr
    assert "Traceback" not in other.stderr
    assert (out / CHECKPOINT_NAME).exists()  # the user decides; nothing is deleted
    # the refused attempt leaves the run's config.yaml as the checkpoint's (it once wrote
    # its own first, so the directory described a run it does not hold)
    assert (out / "config.yaml").read_bytes() == config_before


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    out = tmp_path / "run"
    assert run(command("sac-pendulum", out, ["checkpoint_every=300"]), True).returncode < 0
    path = out / CHECKPOINT_NAME
    path.write_bytes(path.read_bytes()[:1000])
    broken = run(command("sac-pendulum", out, ["checkpoint_every=300"]))
    assert broken.returncode == 2 and "cannot resume" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_stale_checkpoint_restarts_when_asked(tmp_path):
    """What the train rule does: Snakemake reruns a job whose settings changed, so a
    checkpoint of the old settings is deleted and the run starts over."""
    out, plain = tmp_path / "run", tmp_path / "plain"
    assert run(command("sac-pendulum", out, ["checkpoint_every=300"]), True).returncode < 0
    changed = ["checkpoint_every=300", "gamma=0.9"]
    again = run(command("sac-pendulum", out, changed) + ["--restart-stale-checkpoint"])
    assert again.returncode == 0, again.stderr
    deleted = "another config (params.gamma: 0.99 -> 0.9): deleted, starting the run over"
    assert deleted in again.stderr
    assert run(command("sac-pendulum", plain, ["gamma=0.9"])).returncode == 0
    assert (out / "returns.csv").read_bytes() == (plain / "returns.csv").read_bytes()


def test_slim_checkpoint_travels_and_resumes_with_a_rebuilt_model_buffer(tmp_path):
    """A slim checkpoint (no model buffer) is smaller, resumes, rebuilds the model buffer
    from the current model and policy, and says so in meta.json (valid, not identical)."""
    from methods.common.resume import slim_checkpoint

    out = tmp_path / "run"
    resumable = command("mbpo-k5", out, ["checkpoint_every=300", "rollout_batch_size=400"])
    assert run(resumable, kill_after_checkpoint=True).returncode == -signal.SIGKILL
    before, after, dropped = slim_checkpoint(out)
    assert dropped == ["model_buffer"] and after < before
    cli = subprocess.run([sys.executable, "-m", "methods", "slim-checkpoint", str(out)],
                         cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert cli.returncode == 0 and "dropped nothing (already slim)" in cli.stdout
    again = run(resumable)
    assert again.returncode == 0, again.stderr
    assert "rebuilt model_buffer (slim checkpoint)" in again.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["regenerated_at_steps"] == meta["resumed_at_steps"]
    sizes = [line.split(",") for line in (out / "metrics.csv").read_text().splitlines()]
    resumed_at = meta["resumed_at_steps"][0]
    after_resume = [float(v) for step, name, v in sizes[1:]
                    if name == "model_buffer/size" and int(step) > resumed_at]  # fmt: skip
    assert after_resume and min(after_resume) > 0


def test_checkpoint_keeps_the_training_time_since_the_last_evaluation(tmp_path):
    """time/train_wall_s (training wall time, evaluations excluded) was banked only at
    evaluations: a run resumed from a checkpoint taken between two lost the time from the
    last evaluation to the checkpoint (Hopper's cost table showed phases longer than wall)."""
    import torch

    out = tmp_path / "run"
    resumable = command("sac-pendulum", out, ["checkpoint_every=300"])
    assert run(resumable, kill_after_checkpoint=True).returncode == -signal.SIGKILL
    loop = torch.load(out / CHECKPOINT_NAME, weights_only=False)["loop"]
    rows = [line.split(",") for line in (out / "timings.csv").read_text().splitlines()[1:]]
    walls = {int(step): float(v) for step, name, v in rows if name == "time/train_wall_s"}
    last_eval = max(walls)
    assert loop.step > last_eval  # a checkpoint between two evaluations (400 vs 300)
    assert loop.train_seconds > walls[last_eval]
    assert run(resumable).returncode == 0
    rows = [line.split(",") for line in (out / "timings.csv").read_text().splitlines()[1:]]
    final = max((int(s), float(v)) for s, name, v in rows if name == "time/train_wall_s")
    assert final[1] > loop.train_seconds
