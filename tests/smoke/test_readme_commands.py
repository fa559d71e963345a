"""Every command the README shows runs as written (issue 40.5): `snakemake` commands as dry
runs (`-n` added; the real runs are the smoke-tier DAG test and CI), the `python -m` ones
for real (a temporary directory for `--out`). A command block this file does not know how
to run fails the test, so a new README command cannot go untested."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def readme_commands() -> list[str]:
    """The README's indented command blocks' lines, continuation lines joined, comments
    dropped; the output-layout block (a tree of paths, not commands) is left out."""
    blocks, block = [], []
    for line in (ROOT / "README.md").read_text().splitlines() + [""]:
        if line.startswith("    "):
            block.append(line.strip())
        elif block:
            blocks.append(block)
            block = []
    commands = []
    for block in blocks:
        if block[0].startswith("results"):
            continue
        current = ""
        for text in block:
            text = re.sub(r"\s+#.*$", "", text)
            current = f"{current} {text}".strip()
            if current.endswith("\\"):
                current = current[:-1].strip()
                continue
            commands.append(current)
            current = ""
    return commands


COMMANDS = readme_commands()


def run(cmd: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    env = {"PATH": path, "MUJOCO_GL": "disable", "HOME": str(tmp_path)}
    return subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)  # fmt: skip


def test_the_first_two_lines_set_up_and_run_the_main_job_and_the_tests():
    first, second = (ROOT / "README.md").read_text().splitlines()[:2]
    assert first.strip().endswith("snakemake --cores all all")
    assert second.strip().endswith("&& pytest")  # what .ci/run runs


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[:60])
def test_readme_command_runs_as_written(command, tmp_path):
    words = shlex.split(command)
    if command.startswith("python3 -m venv"):  # the two top lines: CI runs the second
        main_job = command.split("&& ")[-1]
        assert main_job in ("snakemake --cores all all", "pytest")
        if main_job == "pytest":
            return
        command = main_job
        words = shlex.split(command)
    if words[0] == "snakemake":
        if "--profile" in words:  # the SLURM command: tests/workflow runs it on a real SLURM
            assert "profiles/slurm" in words
            return
        dry = command.replace("snakemake", f"{SNAKEMAKE} -n", 1)
        proc = run(dry, tmp_path)
        assert proc.returncode == 0, (command, proc.stdout[-2000:], proc.stderr[-2000:])
        return
    if words[:3] == ["python", "-m", "methods"]:
        proc = run(command.replace("/tmp/run", str(tmp_path / "run")), tmp_path)
        assert proc.returncode == 0, (command, proc.stderr[-2000:])
        return
    if words[0] == "ruff":  # the lint line (also tests/unit/test_lint.py)
        proc = run(command, tmp_path)
        assert proc.returncode == 0, (command, proc.stdout[-2000:], proc.stderr[-2000:])
        return
    if words[0] == "pytest":  # the test suite itself: what CI runs
        return
    pytest.fail(f"the README shows a command this test does not know how to run: {command}")


def test_more_cores_than_the_machine_has_is_noted_once(tmp_path):
    """Issue 40.4: `--cores 8` on a 2-core machine oversubscribes it without a word."""
    proc = run(f"{SNAKEMAKE} -n --cores 1000 --configfile=config/smoke.yaml all", tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    notes = [line for line in proc.stderr.splitlines() if "note: --cores 1000" in line]
    assert len(notes) == 1 and "`--cores all` uses what this machine has" in notes[0]
