import os
import warnings

import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "disable")
warnings.filterwarnings("ignore", message=".*precision lowered.*")


@pytest.fixture(autouse=True)
def _torch_threads():
    torch.set_num_threads(1)
    yield
