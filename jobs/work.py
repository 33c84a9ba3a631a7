"""Where a populate worker's architectures come from, and how its scores are written.

Two sources of work, one interface, so the sequential and Ray executors drive both:

- :class:`LocalWork` (SQLite): one writer per file. The pending architectures are cut
  into chunks in memory, and a lock file beside the store makes a second ``populate``
  on the same file stop at once with a line saying to use PostgreSQL for parallel
  workers, rather than score what the first one is scoring.
- :class:`ClaimedWork` (PostgreSQL): the job's chunks live in ``work_claim``; each worker
  claims one at a time (``db/claims.py``), a background thread renews its leases, and
  the scores of a chunk are written with its completion, checked against the claim's
  token, so nothing is scored twice by live workers and nothing is stored twice.

Scores are written as they come, at most every ``commit_every`` seconds, so an
interrupted worker keeps what it scored; the last write of a chunk also completes it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from tfnas_db.db import claims
from tfnas_db.db.scores import insert_scores, stored_arch_states
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.pending import StoredState, kept_errors, pending_archs
from tfnas_db.scoring.engine import ScoreOutcome
from tfnas_db.scoring.registry import ScorerSpec

Target = tuple[int, int, str]  # (architecture id, index in the space, arch string)


@dataclass(frozen=True)
class WorkItem:
    """One architecture and the requested scorers it still lacks (by name, so a Ray
    actor resolves them in its own registry)."""

    architecture_id: int
    arch_str: str
    scorers: tuple[str, ...]
    retries: frozenset[str] = frozenset()  # scorers whose stored error row this replaces


@dataclass
class Chunk:
    items: list[WorkItem]
    claim_id: int | None = None
    taken_over: bool = False


@dataclass(frozen=True)
class ScoredArch:
    """What a worker (local or a Ray actor) sends back for one architecture."""

    architecture_id: int
    outcomes: dict[str, ScoreOutcome]
    host: str | None
    device: str  # where the network scorers ran; data-free scorers record "none"


def this_host() -> str | None:
    return platform.node() or None


@dataclass(frozen=True)
class JobSpec:
    """What every worker of a job agrees on: the runs, the scorers and the targets."""

    runs: dict[str, int]  # scorer name -> run id
    specs: Sequence[ScorerSpec]
    targets: Sequence[Target]  # in index order
    retry_errors: bool = True


def missing_items(
    store: Store, job: JobSpec, targets: Sequence[Target] | None = None
) -> list[WorkItem]:
    """The targets that lack a score in some run (or hold an error to retry)."""
    targets = job.targets if targets is None else targets
    ids = [arch_id for arch_id, _, _ in targets]
    among = ids if len(ids) <= 1000 else None  # a whole-space job reads each run once
    with store.session() as session:
        stored = {
            name: StoredState(*stored_arch_states(session, run_id, among))
            for name, run_id in job.runs.items()
        }
    pending = pending_archs(targets, job.specs, stored, retry_errors=job.retry_errors)
    return [
        WorkItem(p.arch_id, p.arch_str, tuple(spec.name for spec in p.specs), p.retries)
        for p in pending
    ]


def errors_kept(store: Store, job: JobSpec) -> dict[str, int]:
    """Per scorer, the stored error rows among the targets (what --no-retry-errors keeps)."""
    with store.session() as session:
        stored = {
            name: StoredState(*stored_arch_states(session, run_id))
            for name, run_id in job.runs.items()
        }
    return {name: n for name, n in kept_errors(job.targets, stored).items() if n}


def chunked(values: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


class WorkSource(Protocol):
    pending_at_start: list[WorkItem]

    def try_claim(self) -> Chunk | None:
        """The next chunk to score, or None when none is free right now."""

    def requeue(self, chunk: Chunk) -> None:
        """Score this chunk again (its worker died before sending its results)."""

    def all_done(self) -> bool:
        """No chunk left to score by anyone (then the worker stops)."""

    def write(self, chunk: Chunk, rows: list[dict[str, Any]], *, final: bool) -> bool:
        """Store rows of the chunk (and, if final, its completion); False if the chunk
        was taken over by another worker, whose scores count instead."""

    def close(self, *, interrupted: bool) -> None: ...


@dataclass
class LocalWork:
    """All pending work of a single-writer store, in chunks, under a lock file."""

    store: Store
    job: JobSpec
    chunk_size: int
    lock: StoreLock | None = None  # from lock_sqlite_store, taken before the runs are made
    pending_at_start: list[WorkItem] = field(default_factory=list)
    _queue: list[Chunk] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pending_at_start = missing_items(self.store, self.job)
        self._queue = [Chunk(items) for items in chunked(self.pending_at_start, self.chunk_size)]

    def try_claim(self) -> Chunk | None:
        return self._queue.pop(0) if self._queue else None

    def requeue(self, chunk: Chunk) -> None:
        self._queue.insert(0, chunk)

    def all_done(self) -> bool:
        return not self._queue

    def write(self, chunk: Chunk, rows: list[dict[str, Any]], *, final: bool) -> bool:
        if rows:
            with self.store.session() as session:
                insert_scores(session, rows)
        return True

    def close(self, *, interrupted: bool) -> None:
        if self.lock is not None:
            self.lock.close()
            self.lock = None


@dataclass
class StoreLock:
    """The lock file a populate holds on a SQLite store; removed when released, so a
    finished (or refused) populate leaves no file behind."""

    path: Path
    handle: IO[str]

    def close(self) -> None:
        if not self.handle.closed:
            self.path.unlink(missing_ok=True)  # while still locked: see lock_sqlite_store
            self.handle.close()


def lock_sqlite_store(store: Store) -> StoreLock | None:
    """Hold ``<store>-populate.lock`` for the whole job (released by the OS even on kill -9).

    The holder removes the file before unlocking it, so a process that opened the old
    file meanwhile may lock a file no longer in the folder: it checks that the file it
    locked is the one at the path, and tries again otherwise.
    """
    database = store.engine.url.database
    if store.dialect != "sqlite" or not database or database == ":memory:":
        return None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: SQLite's own locking only
        return None
    path = Path(f"{database}-populate.lock")
    while True:
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise TfnasError(
                f"another tfnas-db populate ({owner}) is writing to the SQLite store "
                f"{database}; SQLite takes one writer at a time: wait for it to finish, or "
                "use a PostgreSQL store (--db postgresql://...) for parallel workers"
            ) from None
        try:
            current = path.stat().st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(handle.fileno()).st_ino:
            break
        handle.close()
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {this_host() or 'this host'}\n")
    handle.flush()
    return StoreLock(path, handle)


@dataclass
class ClaimedWork:
    """The job's chunks in ``work_claim``, shared by every worker with the same options."""

    store: Store
    job: JobSpec
    chunk_size: int
    lease_seconds: float
    pending_at_start: list[WorkItem] = field(default_factory=list)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    taken_over: int = 0
    lost: int = 0
    _targets: dict[int, Target] = field(default_factory=dict)
    _retry: list[Chunk] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _heartbeat: threading.Thread | None = None

    def __post_init__(self) -> None:
        if self.lease_seconds <= 0:
            raise TfnasError(f"--lease-seconds must be positive, got {self.lease_seconds}")
        self._targets = {target[0]: target for target in self.job.targets}
        ids = list(self._targets)
        run_ids = list(self.job.runs.values())
        self.key = claims.job_key(run_ids, ids, self.chunk_size)
        with self.store.session() as session:
            started = claims.server_now(session)
        self.pending_at_start = missing_items(self.store, self.job)
        pending_ids = {item.architecture_id for item in self.pending_at_start}
        with self.store.session() as session:
            claims.ensure_chunks(session, self.key, run_ids, chunked(ids, self.chunk_size))
        with self.store.session() as session:
            finished = claims.done_chunks(session, self.key)
            to_reopen = [
                i for i, arch_ids in finished.items() if pending_ids.intersection(arch_ids)
            ]
            claims.reopen_chunks(session, self.key, to_reopen, started)
        self._heartbeat = threading.Thread(target=self._renew, name="lease-renewal", daemon=True)
        self._heartbeat.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            # a missed renewal (server restarting) is retried at the next beat
            with contextlib.suppress(Exception), self.store.session() as session:
                claims.renew_leases(session, self.token, self.lease_seconds)

    def requeue(self, chunk: Chunk) -> None:
        """A chunk this worker still holds whose scoring was lost (a dead Ray actor)."""
        self._retry.insert(0, chunk)

    def try_claim(self) -> Chunk | None:
        if self._retry:
            return self._retry.pop(0)
        while True:
            with self.store.session() as session:
                claim = claims.claim_next(
                    session,
                    self.key,
                    token=self.token,
                    host=this_host(),
                    pid=os.getpid(),
                    lease_seconds=self.lease_seconds,
                )
            if claim is None:
                return None
            self.taken_over += claim.taken_over
            targets = [self._targets[i] for i in claim.architecture_ids]
            items = missing_items(self.store, self.job, targets)
            chunk = Chunk(items, claim.id, claim.taken_over)
            if items:
                return chunk
            self.write(chunk, [], final=True)  # scored meanwhile (an earlier job): done

    def all_done(self) -> bool:
        if self._retry:
            return False
        with self.store.session() as session:
            state = claims.job_state(session, self.key)
        return state.done == state.total

    def write(self, chunk: Chunk, rows: list[dict[str, Any]], *, final: bool) -> bool:
        assert chunk.claim_id is not None
        with self.store.session() as session:
            if not claims.still_owned(session, chunk.claim_id, self.token):
                self.lost += 1
                return False
            insert_scores(session, rows)
            if final:
                claims.complete(session, chunk.claim_id)
        return True

    def close(self, *, interrupted: bool) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        with contextlib.suppress(Exception), self.store.session() as session:
            claims.release(session, self.token)


def open_work(
    store: Store,
    job: JobSpec,
    *,
    chunk_size: int,
    lease_seconds: float,
    lock: StoreLock | None = None,
) -> LocalWork | ClaimedWork:
    """Claims on PostgreSQL (any number of workers); the single-writer queue elsewhere
    (``lock``: what :func:`lock_sqlite_store` returned)."""
    if store.dialect == "postgresql":
        return ClaimedWork(store, job, chunk_size, lease_seconds)
    return LocalWork(store, job, chunk_size, lock)
