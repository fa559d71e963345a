"""Whether a run is being trained now: a marker file the training process writes in its run
directory and removes when it ends.

``.running.json`` holds the host, pid and command line of the process. On the host that
wrote it, the run is alive while that pid runs that command (a marker left by a killed process
is stale); on another host (a cluster's shared disk) the marker cannot be checked and the
caller falls back to how recently the run wrote its files.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from methods.common.run_io import atomic_write_text

MARKER_NAME = ".running.json"


@contextlib.contextmanager
def running_marker(run_dir: Path) -> Iterator[None]:
    """Mark ``run_dir`` as being trained by this process for the duration of the block."""
    marker = Path(run_dir) / MARKER_NAME
    record = {"host": socket.gethostname(), "pid": os.getpid(), "argv": _own_cmdline()}
    atomic_write_text(marker, json.dumps(record) + "\n")
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


def marker_alive(run_dir: Path) -> bool | None:
    """True: a process on this host is training the run; False: none is (no marker, or one
    whose process has ended); None: the marker was written on another host, so it is
    unknown."""
    try:
        record = json.loads((Path(run_dir) / MARKER_NAME).read_text())
        host, pid, argv = record["host"], int(record["pid"]), record["argv"]
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):
        return None  # being replaced, or unreadable: unknown
    if host != socket.gethostname():
        return None
    return _process_runs(pid, argv)


def _own_cmdline() -> list[str]:
    cmdline = _cmdline(os.getpid())
    return cmdline if cmdline is not None else [sys.executable, *sys.argv]


def _cmdline(pid: int) -> list[str] | None:
    """The command line of ``pid`` (Linux /proc), or None where it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.decode(errors="replace").split("\0")[:-1] if raw else None


def _process_runs(pid: int, argv: list[str]) -> bool:
    """Whether ``pid`` is alive and (where /proc tells) still runs ``argv`` (a reused pid
    runs another command)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    except OSError:
        return False
    cmdline = _cmdline(pid)
    return cmdline is None or cmdline == argv
