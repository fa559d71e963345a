"""`python -m methods status` reads a tier's run directories: done, running, stopped (a
checkpoint to resume) or not started, and estimates the time left (issue 40.2)."""

import json
import os
import socket
import subprocess
import sys
import time

import yaml

from methods.common.liveness import MARKER_NAME, _own_cmdline
from methods.status import RunState, run_states, time_left

TIER = {"tier": "tiny", "envs": ["gym-Pendulum-v1"], "seeds": 2,
        "variants": {"sac": {"method": "sac"}, "mbpo-k5": {"method": "mbpo"}}}  # fmt: skip


def mark(run, host=None, pid=None, argv=None):
    """A ``.running.json`` marker: by default this test process's, so the run is alive."""
    record = {"host": host or socket.gethostname(), "pid": pid or os.getpid(),
              "argv": argv or _own_cmdline()}  # fmt: skip
    (run / MARKER_NAME).write_text(json.dumps(record))


def fake_run(root, variant, seed, step, budget, seconds, finished, age_s=0.0, marker=None):
    """A run directory; ``marker``: "here" (a live process on this host), "elsewhere" (written
    on another host, so status judges by file times) or None (no process)."""
    run = root / "results/tiny/runs" / variant / "gym-Pendulum-v1" / f"s{seed}"
    run.mkdir(parents=True)
    if marker is not None:
        mark(run, host="node-17" if marker == "elsewhere" else None)
    (run / "config.yaml").write_text(yaml.safe_dump({"params": {"env_steps": budget}}))
    (run / "returns.csv").write_text(f"env_step,eval_return_mean\n{step},-100\n")
    (run / "timings.csv").write_text(f"env_step,name,value\n{step},time/train_wall_s,{seconds}\n")
    if finished:
        (run / "meta.json").write_text(json.dumps({"wall_seconds": seconds}))
    for path in run.iterdir():
        os.utime(path, (time.time() - age_s, time.time() - age_s))


def test_states_and_time_left(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path, "sac", 0, 1000, 1000, 100.0, finished=True)
    fake_run(tmp_path, "sac", 1, 500, 1000, 50.0, finished=False, marker="here")  # running
    fake_run(tmp_path, "mbpo-k5", 0, 200, 1000, 400.0, finished=False, age_s=3600)  # stopped
    states = {(s.variant, s.seed): s for s in run_states(TIER, "config/tiny.yaml")}
    assert states[("sac", 0)].state == "done"
    assert states[("sac", 1)].state == "running" and states[("sac", 1)].step == 500
    assert states[("mbpo-k5", 0)].state == "stopped"
    assert states[("mbpo-k5", 1)].state == "not started"
    # sac: 0.1 s/step (both runs) -> 500 steps left = 50 s; mbpo: 2 s/step -> 800 + 1000
    # steps = 3600 s; one job running
    assert time_left(list(states.values())) == (3650.0, 0)


def test_a_run_slower_than_the_stale_window_between_writes_is_running(tmp_path, monkeypatch):
    """Runs marked on another host (a cluster node) are judged by their file times. A planner
    on cartpole writes every ~17 min (one eval per 1000 steps, one episode end per eval): 15
    min after its last write it is running, not stopped; so is a just-started seed of the
    same variant and env. An hour after, it is stopped."""
    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path, "sac", 0, 1000, 2000, 1000.0, False, age_s=900, marker="elsewhere")
    fake_run(tmp_path, "mbpo-k5", 0, 1000, 2000, 1000.0, False, age_s=3600, marker="elsewhere")
    states = {(s.variant, s.seed): s for s in run_states(TIER, "config/tiny.yaml")}
    assert states[("sac", 0)].state == "running"
    assert states[("mbpo-k5", 0)].state == "stopped"
    run = tmp_path / "results/tiny/runs/sac/gym-Pendulum-v1/s1"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"params": {"env_steps": 2000}}))
    mark(run, host="node-17")
    for path in run.iterdir():
        os.utime(path, (time.time() - 900, time.time() - 900))
    states = {(s.variant, s.seed): s for s in run_states(TIER, "config/tiny.yaml")}
    assert states[("sac", 1)].state == "running"


def test_time_left_counts_the_runs_it_cannot_estimate(tmp_path, monkeypatch):
    """Runs of a (variant, env) with no started run have no rate: the estimate covers the
    others and says how many it leaves out, instead of no estimate at all."""
    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path, "sac", 0, 1000, 1000, 100.0, finished=True)
    fake_run(tmp_path, "sac", 1, 500, 1000, 50.0, finished=False)  # running
    states = run_states(TIER, "config/tiny.yaml")
    assert time_left(states) == (50.0, 2)  # mbpo-k5 s0 and s1: nothing to estimate from


def test_status_command_prints_a_summary(tmp_path, monkeypatch, capsys):
    from methods.__main__ import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config/tiny.yaml").write_text(yaml.safe_dump(TIER))
    fake_run(tmp_path, "sac", 0, 1000, 1000, 100.0, finished=True)
    assert main(["status", "--config", "config/tiny.yaml"]) == 0
    out = capsys.readouterr().out
    assert "tier 'tiny' (results/tiny/runs): 4 runs: 1 done, 3 not started" in out
    # sac s1 from sac s0's rate; the two mbpo-k5 runs have none yet
    assert "about 1m40s left for 1 run (0.03 core-hours); 2 runs not estimated" in out


def test_a_restarted_run_before_its_next_evaluation_shows_its_checkpoint_step(
    tmp_path, monkeypatch
):
    """Snakemake deletes a job's CSVs when it restarts it; until its next evaluation the run
    has only config.yaml and checkpoint.pt. Status reads the step and training seconds from
    the checkpoint (it showed 0 steps and estimated the whole budget as left); an unreadable
    checkpoint counts as no progress, never a traceback."""
    import torch

    from methods.common.resume import LoopState

    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path, "sac", 0, 1000, 1000, 100.0, finished=True)  # 0.1 s/step
    restarted = tmp_path / "results/tiny/runs/sac/gym-Pendulum-v1/s1"
    restarted.mkdir(parents=True)
    (restarted / "config.yaml").write_text(yaml.safe_dump({"params": {"env_steps": 1000}}))
    torch.save({"loop": LoopState(step=600, train_seconds=60.0)}, restarted / "checkpoint.pt")
    mark(restarted)
    broken = tmp_path / "results/tiny/runs/mbpo-k5/gym-Pendulum-v1/s0"
    broken.mkdir(parents=True)
    (broken / "config.yaml").write_text(yaml.safe_dump({"params": {"env_steps": 1000}}))
    (broken / "checkpoint.pt").write_bytes(b"half a checkpoint")
    states = {(s.variant, s.seed): s for s in run_states(TIER, "config/tiny.yaml")}
    assert states[("sac", 1)].state == "running"
    assert (states[("sac", 1)].step, states[("sac", 1)].seconds) == (600, 60.0)
    assert states[("mbpo-k5", 0)].step == 0
    # sac: 0.1 s/step from both runs -> 400 steps left = 40 s (the old reading: 100 s)
    assert time_left([states[("sac", 0)], states[("sac", 1)]]) == (40.0, 0)


def fake_profile(root, variant, seed, walls, budget, finished=False):
    """A run with one evaluation per 1000 env steps and cumulative training seconds ``walls``."""
    run = root / "results/tiny/runs" / variant / "gym-Pendulum-v1" / f"s{seed}"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"params": {"env_steps": budget}}))
    steps = [1000 * (i + 1) for i in range(len(walls))]
    (run / "returns.csv").write_text("env_step,eval_return_mean\n" +
                                     "".join(f"{s},-100\n" for s in steps))  # fmt: skip
    (run / "timings.csv").write_text("env_step,name,value\n" + "".join(
        f"{s},time/train_wall_s,{w}\n{s},time/policy_update_s,1\n"
        for s, w in zip(steps, walls, strict=True)))  # fmt: skip
    if finished:
        (run / "meta.json").write_text(json.dumps({"wall_seconds": walls[-1]}))
    else:
        mark(run)


def test_time_left_follows_a_cost_that_grows_with_the_steps(tmp_path, monkeypatch):
    """MBPO's steps get dearer as data and rollouts grow. A run at 5000 of 10000 steps whose
    k-th 1000 steps cost 100 k seconds (1500 s so far): the average rate (0.3 s/step) priced
    the rest at 1500 s and an unstarted seed at 3000 s. Now the unstarted seed's first 5000
    steps cost what the run's did (1500 s) and every step beyond the run costs what its last
    20 % cost (0.5 s/step): 2500 s for each run, 6500 s in all."""
    monkeypatch.chdir(tmp_path)
    fake_profile(tmp_path, "mbpo-k5", 0, [100, 300, 600, 1000, 1500], 10_000)
    states = [s for s in run_states(TIER, "config/tiny.yaml") if s.variant == "mbpo-k5"]
    assert [s.state for s in states] == ["running", "not started"]
    assert time_left(states) == (6500.0, 0)


def test_time_left_averages_the_runs_that_cover_a_stretch(tmp_path, monkeypatch):
    """Two runs covered 0-2000 steps at 0.1 and 0.3 s/step (mean 0.2), only the faster one went
    on to 3000 (its 3rd 1000 steps at 0.5 s/step): an unstarted seed of 3000 steps costs
    400 + 500 s; the slower run's last 1000 steps cost 500 s."""
    monkeypatch.chdir(tmp_path)
    fake_profile(tmp_path, "sac", 0, [100, 200, 700], 3000)
    fake_profile(tmp_path, "sac", 1, [300, 600], 3000)
    states = [s for s in run_states(TIER, "config/tiny.yaml") if s.variant == "sac"]
    sac2 = RunState("sac", "gym-Pendulum-v1", 2, "not started", 0, 0, 0.0)
    # sac s0: 0 left; s1: 500; s2: 900; two jobs running
    assert time_left([*states, sac2]) == (700.0, 0)


def test_a_stopped_run_with_fresh_files_is_stopped(tmp_path, monkeypatch):
    """After a clone, ``handoff restore-mtimes`` gives a stopped run's files its last commit's
    time: minutes old, inside the stale window. Without a live process marked in it, the run
    is stopped (it read "running" for up to twice its longest gap between evaluations)."""
    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path, "sac", 0, 500, 1000, 50.0, finished=False, age_s=60)
    (state,) = [s for s in run_states(TIER, "config/tiny.yaml") if (s.variant, s.seed) ==
                ("sac", 0)]  # fmt: skip
    assert state.state == "stopped"


def test_a_marker_left_by_a_killed_process_or_a_reused_pid_is_stale(tmp_path, monkeypatch):
    """A killed run leaves its marker: its pid no longer runs (or runs another command)."""
    monkeypatch.chdir(tmp_path)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    fake_run(tmp_path, "sac", 0, 500, 1000, 50.0, finished=False)
    mark(tmp_path / "results/tiny/runs/sac/gym-Pendulum-v1/s0", pid=int(ended.stdout))
    fake_run(tmp_path, "sac", 1, 500, 1000, 50.0, finished=False)
    mark(tmp_path / "results/tiny/runs/sac/gym-Pendulum-v1/s1", argv=["python", "other.py"])
    states = {(s.variant, s.seed): s.state for s in run_states(TIER, "config/tiny.yaml")}
    assert states[("sac", 0)] == "stopped" and states[("sac", 1)] == "stopped"


def test_the_marker_lives_as_long_as_the_block(tmp_path):
    from methods.common.liveness import marker_alive, running_marker

    with running_marker(tmp_path):
        assert marker_alive(tmp_path) is True
    assert marker_alive(tmp_path) is False and not (tmp_path / MARKER_NAME).exists()
    (tmp_path / MARKER_NAME).write_text("{half")
    assert marker_alive(tmp_path) is None  # being written: unknown, never a traceback
