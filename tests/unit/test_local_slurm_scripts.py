"""tests/slurm/stop-local-slurm.sh stops exactly the processes start-local-slurm.sh
recorded, never a daemon of the same name that the machine runs itself (no SLURM needed:
copies of `sleep` named like the daemons stand in for them)."""

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STOP = ROOT / "tests/slurm/stop-local-slurm.sh"
START = ROOT / "tests/slurm/start-local-slurm.sh"
HELPERS = ROOT / "tests/slurm/daemon-pids.sh"


@pytest.fixture
def fake_daemon(tmp_path):
    """Start a process whose name (comm) is ``name``; all of them are killed afterwards."""
    started: list[subprocess.Popen] = []
    sleep = shutil.which("sleep")

    def start(name: str) -> subprocess.Popen:
        exe = tmp_path / "bin" / str(len(started)) / name
        exe.parent.mkdir(parents=True)
        shutil.copy(sleep, exe)
        proc = subprocess.Popen([str(exe), "300"])
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_stop_script_stops_only_what_the_start_script_recorded(tmp_path, fake_daemon):
    ours = {name: fake_daemon(name) for name in ("slurmd", "slurmctld", "munged")}
    theirs = {name: fake_daemon(name) for name in ("slurmd", "slurmctld", "slurmdbd",
                                                   "mariadbd", "munged")}  # fmt: skip
    reused = fake_daemon("sleep")  # a recorded daemon gone, its PID now another process's
    state = tmp_path / "state"
    state.mkdir()
    lines = [f"{name} {proc.pid}" for name, proc in ours.items()] + [f"slurmdbd {reused.pid}"]
    (state / "started.pids").write_text("\n".join(lines) + "\n")
    for marker in ("started-munged", "started-mariadbd"):  # what the older script wrote
        (state / marker).touch()
    proc = subprocess.run(["bash", str(STOP), str(state)], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for name, daemon in ours.items():
        assert daemon.wait(timeout=10) is not None, f"our {name} was not stopped"
    for name, daemon in theirs.items():
        assert daemon.poll() is None, f"the machine's own {name} was stopped"
    assert reused.poll() is None, "a process that reused a recorded PID was stopped"
    assert not (state / "started.pids").exists()


def test_stop_script_without_a_record_stops_nothing(tmp_path, fake_daemon):
    theirs = [fake_daemon(name) for name in ("slurmd", "slurmctld", "slurmdbd")]
    proc = subprocess.run(["bash", str(STOP), str(tmp_path / "never-started")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert all(p.poll() is None for p in theirs)


def test_start_records_the_daemons_it_starts_and_only_those(tmp_path, fake_daemon):
    """start-local-slurm.sh's start_daemon, under the script's `set -euo pipefail`: a
    daemon it starts (a fork that writes its pid file) is recorded; one that already runs
    is used and not recorded; stop-local-slurm.sh then stops exactly the recorded one.
    The daemons have names no machine runs: CI starts real SLURM daemons before the tests,
    and start_daemon rightly leaves a running slurmctld alone (and unrecorded)."""
    started, running = "mbrl-fakectld", "mbrl-faked"
    theirs = fake_daemon(running)
    state = tmp_path / "state"
    state.mkdir()
    exe = tmp_path / "fakebin" / started
    exe.parent.mkdir()
    shutil.copy(shutil.which("sleep"), exe)
    forks = f"{exe} 300 </dev/null >/dev/null 2>&1 & echo $! > {state}/{started}.pid"
    script = "\n".join([
        "set -euo pipefail", f". {HELPERS}",
        f"start_daemon {state} {started} {state}/{started}.pid bash -c '{forks}'",
        f"start_daemon {state} {running} {state}/{running}.pid false",  # runs already: not started
    ])  # fmt: skip
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    record = (state / "started.pids").read_text().split()
    try:
        assert record[0] == started and len(record) == 2, record
        pid = int(record[1])
        assert Path(f"/proc/{pid}/comm").read_text().strip() == started
        stop = subprocess.run(["bash", str(STOP), str(state)], capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert stop.returncode == 0, stop.stderr
        assert not _alive(pid), "the recorded daemon was not stopped"
        assert theirs.poll() is None, "a daemon the start script did not start was stopped"
    finally:  # the fake daemon, by its pid, if the test failed before stopping it
        pid_file = state / f"{started}.pid"
        if pid_file.exists() and _alive(pid := int(pid_file.read_text())):
            if Path(f"/proc/{pid}/exe").resolve() == exe.resolve():
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_scripts_never_signal_processes_by_name():
    for script in (START, STOP, HELPERS):
        text = script.read_text()
        for word in ("pkill", "killall"):
            assert word not in text, f"{script.name} uses {word}"
    assert "started.pids" in START.read_text()
