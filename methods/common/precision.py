"""Mixed-precision helpers for the bf16 options (autocast regions with fp32 islands)."""

from __future__ import annotations

import torch

LOW_PRECISION = (torch.bfloat16, torch.float16)


def at_least_fp32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 if it is in a half type, else unchanged (float64 stays float64)."""
    return x.float() if x.dtype in LOW_PRECISION else x


def fp32_region(x: torch.Tensor) -> torch.autocast:
    """A block that runs in full precision inside an autocast region (no effect outside)."""
    return torch.autocast(x.device.type, enabled=False)
