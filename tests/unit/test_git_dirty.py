"""meta.json's git_dirty: whether the source differs from git_commit, not the results."""

import subprocess

import pytest
import torch

from methods.common import run_io


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A committed repo with one source file and one run's committed output files."""
    (tmp_path / "methods").mkdir()
    (tmp_path / "methods" / "train.py").write_text("x = 1\n")
    run = tmp_path / "results" / "tier" / "runs" / "sac" / "env" / "s0"
    run.mkdir(parents=True)
    (run / "returns.csv").write_text("env_step\n1\n")
    (tmp_path / "studies" / "s" / "results").mkdir(parents=True)
    (tmp_path / "studies" / "s" / "results" / "t.csv").write_text("a\n")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "f.png").write_text("png")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    monkeypatch.setattr(run_io, "REPO_ROOT", tmp_path)
    return tmp_path


def _dirty():
    return run_io.provenance(torch.device("cpu"), 0)["git_dirty"]


def test_a_clean_tree_is_not_dirty(repo):
    assert _dirty() is False


def test_deleted_or_changed_results_do_not_make_the_code_dirty(repo):
    # Snakemake deletes a resumed job's committed outputs before the run starts
    (repo / "results" / "tier" / "runs" / "sac" / "env" / "s0" / "returns.csv").unlink()
    (repo / "studies" / "s" / "results" / "t.csv").write_text("b\n")
    (repo / "figures" / "f.png").write_text("new")
    assert _dirty() is False


def test_a_changed_source_file_is_dirty(repo):
    (repo / "methods" / "train.py").write_text("x = 2\n")
    assert _dirty() is True
