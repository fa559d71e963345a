"""`--help` of each command line names what it does: every subcommand, every figure."""

import subprocess
import sys
from pathlib import Path

from analysis.plots import FIGURES
from methods.__main__ import _build_parser

ROOT = Path(__file__).resolve().parents[2]


def help_text(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args, "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def subcommands() -> list[str]:
    parser = _build_parser()
    (action,) = [a for a in parser._actions if a.dest == "command"]
    return list(action.choices)


def test_methods_help_describes_every_subcommand():
    names = subcommands()
    assert set(names) == {
        "train",
        "chaos",
        "heldout",
        "verify",
        "list",
        "return-gap",
        "status",
        "slim-checkpoint",
        "handoff",
    }
    proc = help_text("methods")
    assert proc.returncode == 0 and proc.stderr == ""
    usage, description = proc.stdout.split("positional arguments:")[0].split("\n\n", 1)
    for name in names:  # in the description, not only in argparse's usage line
        assert f"python -m methods {name}" in description, (name, description)


def test_plots_help_lists_every_figure_and_its_inputs():
    proc = help_text("analysis.plots")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: python -m analysis.plots"), proc.stdout
    for name in FIGURES:
        assert name in proc.stdout, name
    assert "returns.parquet" in proc.stdout  # the inputs are named
