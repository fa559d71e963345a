"""Seeding through explicit generators: one run seed -> independent streams per consumer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

_STREAMS = ("env", "eval_env", "buffer", "policy", "model", "explore", "rollout")


@dataclass
class Seeds:
    """Derived integer seeds and generators of one run.

    ``torch_gen[name]`` lives on the compute device; ``numpy_gen`` drives host-side choices.
    """

    seed: int
    ints: dict[str, int]
    torch_gen: dict[str, torch.Generator]
    numpy_gen: np.random.Generator


def derive_seeds(seed: int, device: torch.device | str = "cpu") -> Seeds:
    """Split ``seed`` into one independent stream per consumer (SeedSequence spawning).

    Also seeds torch's global generator, which initialises network weights.
    """
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS) + 1)
    ints = {
        name: int(child.generate_state(1, dtype=np.uint32)[0])
        for name, child in zip(_STREAMS, children, strict=False)
    }
    torch.manual_seed(ints["policy"])
    gens = {}
    for name, value in ints.items():
        gen = torch.Generator(device=device)
        gen.manual_seed(value)
        gens[name] = gen
    return Seeds(seed, ints, gens, np.random.default_rng(children[-1]))
