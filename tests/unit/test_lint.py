"""Style gates that CI enforces: ruff (lint + format), snakefmt and snakemake --lint."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[dev]')")
    return str(path)


def test_ruff_check_and_format():
    check = run(tool("ruff"), "check", ".")
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = run(tool("ruff"), "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_snakefmt():
    proc = run(tool("snakefmt"), "--check", "Snakefile", "workflow")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakemake_lint():
    proc = run(tool("snakemake"), "--lint", "--configfile=config/smoke.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
