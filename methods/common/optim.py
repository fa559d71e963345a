"""Optimizers shared by the methods."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


def adam(params: Iterable[Any], lr: float = 1e-3) -> torch.optim.Optimizer:
    """Adam with the fused kernel where this torch build has it for the params' device (one
    kernel for all parameters instead of several per tensor: ~1 ms less per ensemble step on
    a 2-core CPU). ``params``: tensors or param-group dicts, as torch.optim.Adam takes."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)
