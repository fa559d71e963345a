import importlib.util
import os
import shutil
import warnings
from pathlib import Path

import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "disable")
warnings.filterwarnings("ignore", message=".*precision lowered.*")


ROOT = Path(__file__).resolve().parents[1]
# what `python -m methods` and the DAG read: a copy of these is a working repository
REPO_PARTS = ("Snakefile", "config", "workflow", "profiles", "methods", "analysis",
              "reference", "pyproject.toml")  # fmt: skip


def fresh_copy(workdir: Path, parts: tuple[str, ...] = REPO_PARTS) -> Path:
    """Copy the repository's ``parts`` into ``workdir`` (created) and return it; tests that
    change code or configs, or run the DAG, work there (`from conftest import fresh_copy`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in parts:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, workdir / name)
    return workdir


@pytest.fixture(autouse=True)
def _torch_threads():
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def load_benchmark():
    """Import a script under ``benchmarks/`` or ``studies/`` (not packages) by its path from the
    repo root."""
    root = Path(__file__).resolve().parents[1]

    def load(relative: str):
        path = root / relative
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
