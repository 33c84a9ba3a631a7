"""Sizing torch's threads so that N workers on one machine do not oversubscribe its cores.

Each populate worker process registers itself in a per-user folder of this host (a file
it holds an exclusive ``flock`` on, released by the OS even after kill -9), and before
each chunk sets ``torch.set_num_threads(cores // live workers here)``. Three processes
on two cores each running torch with every core made naswot ~10x slower per
architecture than one process alone.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Cores divided among the workers of one machine, at least one thread each."""
    return max(1, (cores or available_cores()) // max(1, workers))


class HostWorkers:
    """This process's entry among the populate workers running on this host."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or Path(tempfile.gettempdir()) / f"tfnas-db-workers-{os.getuid()}"
        self._handle: IO[str] | None = None
        try:
            import fcntl

            self.folder.mkdir(parents=True, exist_ok=True)
            handle = (self.folder / f"{os.getpid()}.lock").open("w")
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._handle = handle
        except (ImportError, OSError):  # no flock (Windows) or no temp folder: count 1
            self._handle = None

    def count(self) -> int:
        """Live workers on this host, this one included (stale entries are removed)."""
        if self._handle is None:
            return 1
        import fcntl

        live = 1
        for path in self.folder.glob("*.lock"):
            if path.name == f"{os.getpid()}.lock":
                continue
            try:
                with path.open("r") as other:
                    try:
                        fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    except BlockingIOError:
                        live += 1
                        continue
                    path.unlink(missing_ok=True)  # its process is gone
            except OSError:
                continue
        return live

    def close(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                Path(self._handle.name).unlink(missing_ok=True)
            self._handle.close()
            self._handle = None


def apply_threads(explicit: int | None, workers: HostWorkers | None) -> int:
    """Set torch's intra-op threads: ``explicit``, else this host's share of the cores."""
    import torch

    n = explicit if explicit is not None else threads_per_worker(workers.count() if workers else 1)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
