"""A checkpoint of another config is refused with the keys that differ named."""

import pytest
import torch

from methods.common.errors import UserError
from methods.common.resume import (
    CHECKPOINT_NAME,
    FORMAT_VERSION,
    Checkpointer,
    comparable,
    config_differences,
)

CONFIG = {"variant": "mpc-cem", "threads": 1, "params": {"horizon": 30, "checkpoint_every": 250}}


def test_differences_name_nested_changed_added_and_removed_keys():
    new = {"variant": "mpc-cem", "threads": 2, "params": {"horizon": 15, "alpha": 0.1}}
    assert config_differences(CONFIG, new) == [
        "params.alpha: '<unset>' -> 0.1",
        "params.checkpoint_every: 250 -> '<unset>'",
        "params.horizon: 30 -> 15",
        "threads: 1 -> 2",
    ]
    assert config_differences(CONFIG, CONFIG) == []


def test_refusal_names_the_changed_key_and_keeps_the_checkpoint(tmp_path):
    path = tmp_path / CHECKPOINT_NAME
    torch.save({"format": FORMAT_VERSION, "config": comparable(CONFIG)}, path)
    other = {**CONFIG, "threads": 2, "params": {**CONFIG["params"], "checkpoint_every": 500}}
    with pytest.raises(UserError, match=r"another config \(threads: 1 -> 2\); rerun with"):
        Checkpointer(tmp_path, 0.0, 0).load(other, torch.device("cpu"))
    assert path.exists()
