"""Mid-run checkpoints: everything a run needs to continue byte-identically after a kill.

A checkpoint is taken at an episode boundary, after the episode's last step and before the
env is reset, once ``checkpoint_minutes`` of wall time (or ``checkpoint_every`` env steps)
have passed since the last one. It holds, in one ``torch.save`` (so objects shared between
them stay shared after loading): the agent's attributes (networks, optimizers, model buffer,
statistics), the run's generators (torch and numpy), the real replay buffer, the loop's
counters, the train env's reset RNG, torch's global RNG and the rows logged so far.

Resuming rebuilds the env, restores its reset RNG and resets it: the same start state as in
the uninterrupted run, because a reset depends only on that RNG. The file is written
atomically as ``checkpoint.pt`` in the run directory and removed once the run is finished.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from methods.common.errors import UserError
from methods.common.run_io import atomic_torch_save

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT_VERSION = 1
# Keys that decide when checkpoints are taken or when the run ends, not what it computes up
# to there: a checkpoint taken under other values (or before the key existed) still resumes.
NEUTRAL_KEYS = ("checkpoint_minutes", "checkpoint_every", "stop_at_return")
# Agent state that an agent can rebuild after a resume (``agent.regenerate``): MBPO's and
# Dyna's model buffer, 100k x k synthetic transitions (hundreds of MB on Hopper).
REGENERABLE = ("model_buffer",)
# Test hook: SIGKILL this process right after a checkpoint is written (a kill mid-run).
KILL_AFTER_CHECKPOINT_ENV = "MBRL_SPECTRUM_KILL_AFTER_CHECKPOINT"


@dataclass
class LoopState:
    """The run loop's counters at an episode boundary (the env is about to be reset)."""

    step: int = 0  # env steps done
    train_returns: list[float] = field(default_factory=list)  # since the last evaluation
    env_rng: Any = None  # the train env's reset RNG (see envs.get_reset_rng)
    train_seconds: float = 0.0  # wall seconds of training so far, evaluations excluded


def comparable(config: dict) -> dict:
    """The resolved config without the checkpoint-timing keys."""
    params = {k: v for k, v in config.get("params", {}).items() if k not in NEUTRAL_KEYS}
    return {**{k: v for k, v in config.items() if k != "params"}, "params": params}


def config_differences(checkpoint: dict, current: dict, prefix: str = "") -> list[str]:
    """``key: checkpoint value -> current value`` for every (dotted) key whose values differ."""
    lines = []
    for key in sorted(set(checkpoint) | set(current), key=str):
        name = f"{prefix}{key}"
        old, new = checkpoint.get(key, "<unset>"), current.get(key, "<unset>")
        if isinstance(old, dict) and isinstance(new, dict):
            lines += config_differences(old, new, f"{name}.")
        elif old != new:
            lines.append(f"{name}: {old!r} -> {new!r}")
    return lines


def agent_state(agent) -> dict[str, Any]:
    """The agent's attributes that a checkpoint carries (all but the run context and the
    live env handles listed in ``agent.checkpoint_exclude``)."""
    skip = {"ctx", *getattr(agent, "checkpoint_exclude", ())}
    return {k: v for k, v in vars(agent).items() if k not in skip}


class Checkpointer:
    """Decides when to checkpoint, writes checkpoints and loads one to resume from."""

    def __init__(self, out_dir: Path, every_minutes: float, every_steps: int):
        self.path = Path(out_dir) / CHECKPOINT_NAME
        self.every_seconds = 60.0 * every_minutes
        self.every_steps = every_steps
        self.last_time = time.monotonic()
        self.last_step = 0

    def due(self, step: int) -> bool:
        by_steps = self.every_steps > 0 and step - self.last_step >= self.every_steps
        by_time = self.every_seconds > 0 and time.monotonic() - self.last_time >= self.every_seconds
        return by_steps or by_time

    def save(self, ctx, agent, buffer, loop: LoopState) -> None:
        writer = ctx.writer
        payload = {
            "format": FORMAT_VERSION,
            "config": comparable(writer.config),
            "agent": agent_state(agent),
            "seeds": ctx.seeds,
            "buffer": buffer,
            "loop": loop,
            "torch_rng": torch.get_rng_state(),
            "log": writer.log_state(),
        }
        start = time.monotonic()
        atomic_torch_save(payload, self.path)
        seconds = time.monotonic() - start
        size_mb = self.path.stat().st_size / 2**20
        print(f"checkpoint at env step {loop.step}: {size_mb:.1f} MB in {seconds:.2f} s",
              file=sys.stderr, flush=True)  # fmt: skip
        self.last_time, self.last_step = time.monotonic(), loop.step
        if os.environ.get(KILL_AFTER_CHECKPOINT_ENV):
            os.kill(os.getpid(), signal.SIGKILL)

    def load(self, config: dict, device: torch.device, restart_stale: bool = False) -> dict | None:
        """The checkpoint's payload, or None when the run directory holds none.

        A checkpoint that cannot be used (unreadable, another version, another config) is a
        UserError, or with ``restart_stale`` is deleted (saying so) and the run starts over.
        """
        if not self.path.exists():
            return None
        problem, payload = None, None
        try:
            payload = torch.load(self.path, map_location=device, weights_only=False)
        except Exception as exc:  # a truncated or foreign file: say which, never a traceback
            problem = f"cannot resume from {self.path} ({type(exc).__name__})"
        if problem is None and (not isinstance(payload, dict)
                                or payload.get("format") != FORMAT_VERSION):  # fmt: skip
            problem = f"{self.path} is not a checkpoint of this version"
        hint, current = "delete it to start the run over", comparable(config)
        if problem is None and payload["config"] != current:
            changed = "; ".join(config_differences(payload["config"], current))
            problem = f"{self.path} was written with another config ({changed})"
            hint = f"rerun with the checkpoint's values to resume, or {hint}"
        if problem is not None:
            if not restart_stale:
                raise UserError(f"{problem}; {hint}")
            print(f"{problem}: deleted, starting the run over", file=sys.stderr)
            self.remove()
            return None
        self.last_step = payload["loop"].step
        return payload

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def restore(payload: dict, ctx, agent) -> tuple[Any, LoopState]:
    """Put a loaded checkpoint back: returns (replay buffer, loop state)."""
    ctx.seeds = payload["seeds"]
    vars(agent).update(payload["agent"])
    torch.set_rng_state(payload["torch_rng"])
    ctx.writer.restore_log_state(payload["log"])
    return payload["buffer"], payload["loop"]


def slim_checkpoint(path: Path) -> tuple[int, int, list[str]]:
    """Rewrite the checkpoint at ``path`` without the agent state listed in ``REGENERABLE``,
    so that it is small enough to travel (commit it, copy it to another host).

    A run resumed from a slim checkpoint rebuilds that state with its current model and
    policy (``agent.regenerate``): a valid run, but not byte-identical to an uninterrupted
    one; its meta.json lists the env steps in ``regenerated_at_steps``.
    Returns (bytes before, bytes after, the attributes dropped).
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.exists():
        raise UserError(f"no checkpoint at {path}")
    before = path.stat().st_size
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a truncated or foreign file
        raise UserError(f"cannot read {path} ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise UserError(f"{path} is not a checkpoint of this version")
    dropped = [k for k in REGENERABLE if payload["agent"].get(k) is not None]
    for key in dropped:
        payload["agent"][key] = None
    payload["slim"] = sorted({*payload.get("slim", []), *dropped})
    atomic_torch_save(payload, path)
    return before, path.stat().st_size, dropped
