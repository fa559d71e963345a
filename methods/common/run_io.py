"""Run output: atomic writes, tidy CSV logs and provenance (the run-output contract)."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import torch
import yaml

from methods.common.errors import UserError

RETURNS_COLUMNS = ("env_step", "eval_return_mean", "eval_return_std", "n_episodes")
METRICS_COLUMNS = ("env_step", "name", "value")
TRACKED_PACKAGES = ("torch", "numpy", "gymnasium", "mujoco", "dm_control", "scipy", "pandas",
                    "snakemake", "mbrl-spectrum")  # fmt: skip
REPO_ROOT = Path(__file__).resolve().parents[2]
# what runs and the DAG write, not what produces a run: git_dirty ignores changes there (a
# resumed job's committed CSVs are deleted by Snakemake before the run starts)
GENERATED_PATHSPECS = (
    ":(exclude)results",
    ":(exclude)figures",
    ":(exclude,glob)studies/*/results/**",
    ":(exclude)benchmarks/results",
)
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over ``path``.

    A failing write (disk full, read-only or missing directory) leaves ``path`` as it was
    and raises a UserError naming it.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o644 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        message = f"cannot write {path}: {exc.strerror or exc}; it was left as it was"
        raise UserError(message) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_torch_save(obj, path: Path) -> None:
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def format_value(value) -> str:
    """Deterministic text for a CSV cell (floats with 10 significant digits)."""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    lines = [",".join(columns)]
    lines += [",".join(format_value(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(device: torch.device, seed: int) -> dict:
    """What produced a run: code version, packages, hardware, threads, seed. ``git_dirty``:
    whether a tracked file outside the generated outputs differs from ``git_commit``."""
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
                  *GENERATED_PATHSPECS)  # fmt: skip
    return {
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "packages": package_versions(),
        "python": platform.python_version(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else
        platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "host": socket.gethostname(),
        "seed": seed,
    }  # fmt: skip


def clock(seconds: float) -> str:
    """``1h02m``, ``4m05s`` or ``?`` for a duration in seconds."""
    if not seconds == seconds or seconds == float("inf"):  # NaN or unbounded
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class RunWriter:
    """Writes one run directory: config.yaml, meta.json, returns.csv, metrics.csv, timings.csv.

    ``metrics.csv`` holds deterministic quantities; wall-clock measurements go to
    ``timings.csv`` (same long format) so that reruns compare byte for byte.
    The CSVs are rewritten atomically at every flush, so a killed run keeps its partial logs.
    """

    def __init__(self, out_dir: Path, config: dict, device: torch.device, seed: int):
        self.out_dir = Path(out_dir)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create output directory {self.out_dir}: {exc}") from None
        if not os.access(self.out_dir, os.W_OK):
            raise UserError(f"output directory {self.out_dir} is not writable")
        self.returns: list[tuple] = []
        self.metrics: list[tuple] = []
        self.timings: list[tuple] = []
        self._start = time.time()
        self._elapsed_before = 0.0  # wall seconds of earlier attempts (resumed runs)
        self._cpu_start = time.process_time()
        self._cpu_before: float | None = 0.0  # CPU seconds of earlier attempts; None: unknown
        self.config = config
        self.meta = provenance(device, seed)
        self.meta["start_time"] = datetime.now(timezone.utc).isoformat()
        self._attempt_start = self.meta["start_time"]

    def write_config(self) -> None:
        """Write config.yaml: once the directory is known to hold this config's run (a
        checkpoint of another config is refused before, so the file keeps describing it)."""
        text = yaml.safe_dump(self.config, sort_keys=True)
        atomic_write_text(self.out_dir / "config.yaml", text)

    def log_return(self, env_step: int, mean: float, std: float, n_episodes: int) -> None:
        self.returns.append((env_step, float(mean), float(std), n_episodes))

    def log_metrics(self, env_step: int, values: dict[str, float]) -> None:
        self.metrics.extend((env_step, k, float(v)) for k, v in sorted(values.items()))

    def log_timings(self, env_step: int, values: dict[str, float]) -> None:
        self.timings.extend((env_step, k, float(v)) for k, v in sorted(values.items()))

    def flush(self) -> None:
        atomic_write_text(self.out_dir / "returns.csv", csv_text(RETURNS_COLUMNS, self.returns))
        atomic_write_text(self.out_dir / "metrics.csv", csv_text(METRICS_COLUMNS, self.metrics))
        atomic_write_text(self.out_dir / "timings.csv", csv_text(METRICS_COLUMNS, self.timings))

    def log_state(self) -> dict:
        """What a mid-run checkpoint keeps of the logs (see resume.py)."""
        return {
            "returns": list(self.returns),
            "metrics": list(self.metrics),
            "timings": list(self.timings),
            "start_time": self.meta["start_time"],
            "resumed_at_steps": self.meta.get("resumed_at_steps", []),
            "regenerated_at_steps": self.meta.get("regenerated_at_steps", []),
            "elapsed_seconds": self.elapsed_seconds(),
            "cpu_seconds": self.cpu_seconds(),
            "attempts": [*self.meta.get("earlier_attempts", []), self._this_attempt()],
        }

    def _this_attempt(self) -> dict:
        """What ran this attempt (a resumed run may span commits, hosts or devices)."""
        keys = ("git_commit", "git_dirty", "host", "device", "threads")
        return {**{k: self.meta[k] for k in keys}, "start_time": self._attempt_start}

    def restore_log_state(self, state: dict) -> None:
        self.returns, self.metrics = list(state["returns"]), list(state["metrics"])
        self.timings = list(state["timings"])
        self.meta["start_time"] = state["start_time"]
        self.meta["resumed_at_steps"] = list(state.get("resumed_at_steps", []))
        if state.get("regenerated_at_steps"):  # resumed from a slim checkpoint before
            self.meta["regenerated_at_steps"] = list(state["regenerated_at_steps"])
        if "attempts" in state:  # meta.json: earlier_attempts[i] ran until resumed_at_steps[i]
            self.meta["earlier_attempts"] = list(state["attempts"])
        self._elapsed_before = state["elapsed_seconds"]
        self._start = time.time()
        self._cpu_before = state.get("cpu_seconds")  # None: a checkpoint from before it was kept
        self._cpu_start = time.process_time()

    def elapsed_seconds(self) -> float:
        """Wall seconds of this run, earlier attempts of a resumed run included."""
        return self._elapsed_before + time.time() - self._start

    def cpu_seconds(self) -> float | None:
        """CPU seconds (user + system, all threads) of the work this run kept, earlier
        attempts included up to their checkpoint; None where an earlier attempt's are unknown."""
        if self._cpu_before is None:
            return None
        return self._cpu_before + time.process_time() - self._cpu_start

    def mark_resumed(self, env_step: int) -> None:
        self.meta.setdefault("resumed_at_steps", []).append(env_step)

    def progress_line(self, env_step: int, budget: int, eval_return: float) -> str:
        """One line for the run's log: step / budget, return, elapsed, estimated time left
        (from this attempt's rate, evaluations included)."""
        attempt_start = (self.meta.get("resumed_at_steps") or [0])[-1]
        this_attempt = time.time() - self._start
        rate = (env_step - attempt_start) / this_attempt if this_attempt > 0 else 0.0
        left = (budget - env_step) / rate if rate > 0 else float("nan")
        return (f"step {env_step}/{budget} ({100 * env_step / budget:.0f}%)  return "
                f"{eval_return:.1f}  elapsed {clock(self.elapsed_seconds())}  "
                f"left ~{clock(left)}")  # fmt: skip

    def mark_regenerated(self, env_step: int) -> None:
        """A resume at ``env_step`` rebuilt state a slim checkpoint had left out."""
        self.meta.setdefault("regenerated_at_steps", []).append(env_step)

    def save_checkpoint(self, name: str, obj) -> None:
        atomic_torch_save(obj, self.out_dir / name)

    def finish(self) -> None:
        """Flush the logs, then write meta.json last: its presence marks a finished run."""
        self.flush()
        self.meta["end_time"] = datetime.now(timezone.utc).isoformat()
        self.meta["wall_seconds"] = round(self.elapsed_seconds(), 3)
        cpu = self.cpu_seconds()
        self.meta["cpu_seconds"] = None if cpu is None else round(cpu, 3)
        atomic_write_text(self.out_dir / "meta.json", json.dumps(self.meta, indent=2) + "\n")
