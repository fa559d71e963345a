import importlib.util
import os
import warnings
from pathlib import Path

import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "disable")
warnings.filterwarnings("ignore", message=".*precision lowered.*")


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
