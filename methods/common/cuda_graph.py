"""Replay a fixed-shape tensor function as one CUDA graph (launch-bound GPU work).

A planner's search is hundreds of small kernels per action (iterations x horizon model
steps); on a GPU each costs more to launch than to run. Captured once, the whole search is
replayed with one launch. The function must be pure tensor work on its inputs and on
state that is updated in place (model parameters, normaliser buffers, the elite index):
no host syncs, no shape changes, no Python branches on tensor values. Random draws come
from the ``generators`` registered with the graph, so every replay draws fresh numbers
and the generators' states advance as in eager mode (checkpoints stay consistent).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

TensorFn = Callable[..., tuple[torch.Tensor, ...]]


def graphs_available(device: torch.device) -> bool:
    """CUDA graphs need a CUDA device (there is no CPU equivalent)."""
    return device.type == "cuda" and torch.cuda.is_available()


class CapturedFunction:
    """``fn(*inputs) -> tuple of tensors`` captured for inputs shaped like ``examples``.

    Calling copies the inputs into static buffers, replays the graph and returns the static
    outputs (overwritten by the next call: copy or consume them before calling again).
    """

    def __init__(
        self,
        fn: TensorFn,
        examples: Sequence[torch.Tensor],
        generators: Sequence[torch.Generator] = (),
        warmup: int = 1,
    ):
        self.inputs = [x.detach().clone() for x in examples]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # lazy initialisation (cuBLAS handles) outside capture
            for _ in range(warmup):
                fn(*self.inputs)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        for generator in generators:
            self.graph.register_generator_state(generator)
        with torch.cuda.graph(self.graph):
            self.outputs = fn(*self.inputs)

    def __call__(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        for static, value in zip(self.inputs, inputs, strict=True):
            static.copy_(value)
        self.graph.replay()
        return self.outputs
