"""``tfnas-db populate``: score architectures into the store, idempotently and resumably.

Each architecture's scores (one row per requested scorer) are written in the same
transaction, and rows whose (run, architecture) is already stored are skipped, so an
interrupted job (Ctrl-C, kill -9) leaves no partial architecture and the same command
resumes where it stopped. Non-finite values are stored as ``nan`` (a result) and
isolated failures as ``error``, and the job goes on; a later run retries the ``error``
rows (unless told not to). A failure that hits the first architectures of a run alike
stops it instead (jobs/failures.py).

Scale-out: the work comes from ``work.py`` (claims shared by any number of workers on
PostgreSQL, a single-writer queue on SQLite), is scored in this process or on Ray
actors (``executors.py``, ``ray_executor.py``), and is written through one
``Recorder``; ``--shard i/n`` cuts the targets for clusters without a shared store.
"""

from __future__ import annotations

import platform
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tfnas_db.db.bootstrap import ensure_seeded
from tfnas_db.db.models import ScoreStatus
from tfnas_db.db.scores import (
    architectures_of,
    get_or_create_run,
    mark_finished,
    space_and_dataset_ids,
)
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError, check_finite, check_seed
from tfnas_db.jobs import from_costs
from tfnas_db.jobs.executors import Recorder, run_sequential
from tfnas_db.jobs.failures import SystematicFailure
from tfnas_db.jobs.work import (
    ClaimedWork,
    JobSpec,
    StoreLock,
    errors_kept,
    lock_sqlite_store,
    open_work,
)
from tfnas_db.scoring.datasets import DatasetSpec, get_dataset
from tfnas_db.scoring.device import check_device_syntax, resolve_device
from tfnas_db.scoring.engine import ScoringEngine, SourcedEngine, needs_of
from tfnas_db.scoring.minibatch import NATURAL, REAL, Minibatch, load_minibatch
from tfnas_db.scoring.registry import (
    DEFAULT_SCORERS,
    REGISTRY,
    ScorerSpec,
    check_defined_on,
    defined_on,
)
from tfnas_db.scoring.spaces import DEFAULT_SPACE, SearchSpaceInfo, get_space
from tfnas_db.scoring.threads import HostWorkers, apply_threads

EXECUTORS = ("local", "ray")
DEFAULT_CHUNK_SIZE = 8
DEFAULT_LEASE_SECONDS = 60.0


@dataclass(frozen=True)
class PopulateConfig:
    space: str = DEFAULT_SPACE
    dataset: str = "cifar10"
    scorers: str | Sequence[str] = DEFAULT_SCORERS
    batch_size: int = 128
    seed: int = 0
    data_dir: Path | None = None  # folder of real data (with data_source None or "real")
    data_source: str | None = None  # None: each scorer's default (real if data_dir is given)
    limit: int | None = None
    sample: bool = False  # with limit: a seeded random sample instead of an index prefix
    archs: Sequence[str] | None = None  # explicit indices or arch strings
    device: str | None = None
    retry_errors: bool = True  # re-score stored error rows (nan rows are results, kept)
    shard: tuple[int, int] | None = None  # (i, n): the i-th of n deterministic parts
    executor: str = "local"  # local (this process) or ray
    workers: int = 1  # Ray actors
    ray_address: str | None = None
    gpus_per_worker: float | None = None
    threads: int | None = None  # torch threads (None: this host's share of the cores)
    chunk_size: int = DEFAULT_CHUNK_SIZE
    lease_seconds: float = DEFAULT_LEASE_SECONDS


def parse_shard(text: str) -> tuple[int, int]:
    """``i/n`` with 0 <= i < n."""
    parts = text.split("/")
    try:
        i, n = (int(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        i, n = None, None
    if i is None or n is None or n < 1 or not 0 <= i < n:
        raise TfnasError(f"--shard must be I/N with 0 <= I < N (e.g. 0/3), got {text!r}")
    return i, n


def shard_of(targets: list[tuple[int, int, str]], shard: tuple[int, int] | None) -> list:
    """Every n-th target starting at the i-th, in index order: the n shards are disjoint,
    cover the targets, differ in size by at most one, and need no coordination."""
    if shard is None:
        return targets
    i, n = shard
    return sorted(targets, key=lambda row: row[1])[i::n]


@dataclass
class PopulateSummary:
    targeted: int = 0
    already_stored: int = 0
    scored: int = 0
    by_others: int = 0  # pending at start, scored by concurrent workers
    taken_over: int = 0  # chunks this worker took over from a worker whose lease expired
    seconds: float = 0.0
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    scorer_seconds: dict[str, float] = field(default_factory=dict)
    run_ids: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    retried: Counter[str] = field(default_factory=Counter)  # stored errors re-scored, per run
    still_failing: Counter[str] = field(default_factory=Counter)  # ... that failed again
    kept_errors: dict[str, int] = field(default_factory=dict)  # --no-retry-errors kept these

    def as_dict(self) -> dict[str, Any]:
        return {
            "targeted": self.targeted,
            "already_stored": self.already_stored,
            "scored": self.scored,
            "by_other_workers": self.by_others,
            "chunks_taken_over": self.taken_over,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
            "retried": sum(self.retried.values()),
            "still_failing": sum(self.still_failing.values()),
            "kept_errors": sum(self.kept_errors.values()),
            "runs": {
                name: {
                    "run_id": self.run_ids[name],
                    "retried": self.retried.get(name, 0),
                    "still_failing": self.still_failing.get(name, 0),
                    **{status: int(n) for status, n in self.statuses.get(name, {}).items()},
                    "seconds_per_arch": (
                        self.scorer_seconds.get(name, 0.0)
                        / max(1, sum(self.statuses[name].values()))
                        if name in self.statuses
                        else None
                    ),
                }
                for name in self.run_ids
            },
        }


def validate_config(
    config: PopulateConfig,
) -> tuple[SearchSpaceInfo, DatasetSpec, list[ScorerSpec]]:
    """Every check of the options that needs neither torch nor the store, so a mistake is
    one line before any row is written (any executor calls this first)."""
    space = get_space(config.space)
    dataset = get_dataset(config.dataset)
    space.check_dataset(dataset.name)
    specs = REGISTRY.resolve(config.scorers)
    if config.scorers in ("all", ["all"], ("all",)):
        specs = defined_on(specs, space)  # every scorer this space defines
    check_defined_on(specs, space)
    check_device_syntax(config.device)
    check_seed(config.seed)
    if config.batch_size < 2:
        raise TfnasError(f"--batch-size must be at least 2, got {config.batch_size}")
    if config.batch_size > dataset.train_images:
        raise TfnasError(
            f"--batch-size {config.batch_size} is larger than {dataset.name}'s "
            f"{dataset.train_images} training images; a minibatch is a few dozen to a few "
            "hundred images (the papers use 64-256)"
        )
    if config.limit is not None and config.limit < 1:
        raise TfnasError(f"--limit must be at least 1, got {config.limit}")
    if config.sample and config.limit is None:
        raise TfnasError(
            "--sample draws a seeded random sample of --limit N architectures: give --limit"
        )
    if config.archs is not None:
        for token in config.archs:
            space.resolve_arch(token)
    return space, dataset, specs


def _select_targets(
    all_archs: list[tuple[int, int, str]], config: PopulateConfig
) -> list[tuple[int, int, str]]:
    if config.archs is not None:
        space = get_space(config.space)
        by_index = {index: row for row in all_archs for index in [row[1]]}
        chosen: dict[int, tuple[int, int, str]] = {}
        for token in config.archs:
            index, _ = space.resolve_arch(token)
            chosen.setdefault(index, by_index[index])
        targets = sorted(chosen.values(), key=lambda row: row[1])
    else:
        targets = list(all_archs)
    if config.limit is not None:
        if config.limit > len(targets):
            raise TfnasError(
                f"--limit {config.limit} is larger than the {len(targets)} architectures available"
            )
        if config.sample:
            targets = sorted(
                random.Random(config.seed).sample(targets, config.limit), key=lambda r: r[1]
            )
        else:
            targets = targets[: config.limit]
    return targets


def source_of(spec: ScorerSpec, config: PopulateConfig) -> str:
    """The data source ``spec`` is scored on in this populate ("none" if it reads no data)."""
    if not spec.needs.uses_data:
        return "none"
    if config.data_source is not None:
        return config.data_source
    return REAL if config.data_dir is not None else spec.default_data


def group_by_source(specs: list[ScorerSpec], config: PopulateConfig) -> dict[str, list[ScorerSpec]]:
    """Scorers grouped by their data source: each group is scored on its own minibatch
    (data-free scorers join the first group, as they need none)."""
    groups: dict[str, list[ScorerSpec]] = {}
    for spec in specs:
        groups.setdefault(source_of(spec, config), []).append(spec)
    free = groups.pop("none", [])
    if not groups:
        return {"none": free}
    first = next(iter(groups))
    groups[first] = free + groups[first]
    return groups


def _provenance(source: str, dataset: str) -> dict[str, Any] | None:
    if source != NATURAL:
        return None
    from tfnas_db.scoring.natural import natural_provenance

    return natural_provenance(get_dataset(dataset))


def _torch_version() -> str | None:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return None
    return str(torch.__version__)


@contextmanager
def _progress(enabled: bool, console: Console | None) -> Iterator[Progress]:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not enabled,
        transient=False,
    )
    with progress:
        yield progress


def populate(
    store: Store,
    config: PopulateConfig,
    *,
    show_progress: bool = True,
    console: Console | None = None,
) -> PopulateSummary:
    """Score the targeted architectures with every requested scorer; see module doc.

    Raises :class:`SystematicFailure` (a :class:`TfnasError`) when a run's first attempts
    all fail the same way; what other runs scored before that is committed.
    """
    started = time.perf_counter()
    space, dataset, specs = validate_config(config)
    if config.executor not in EXECUTORS:
        raise TfnasError(
            f"--executor must be one of {', '.join(EXECUTORS)}, got {config.executor!r}"
        )
    if config.threads is not None and config.threads < 1:
        raise TfnasError(f"--threads must be at least 1, got {config.threads}")
    if config.executor == "ray":
        from tfnas_db.jobs.ray_executor import import_ray

        import_ray()  # before any work: say how to install it
    if config.chunk_size < 1:
        raise TfnasError(f"--chunk-size must be at least 1, got {config.chunk_size}")
    check_finite(config.lease_seconds, "--lease-seconds")
    if config.lease_seconds <= 0:
        raise TfnasError(f"--lease-seconds must be positive, got {config.lease_seconds}")
    lock = lock_sqlite_store(store)  # a second writer on SQLite stops here, nothing written
    try:
        return _populate_locked(
            store, config, space, dataset, specs, lock, started, show_progress, console
        )
    finally:
        if lock is not None:
            lock.close()


def _populate_locked(
    store: Store,
    config: PopulateConfig,
    space: SearchSpaceInfo,
    dataset: DatasetSpec,
    specs: list[ScorerSpec],
    lock: StoreLock | None,
    started: float,
    show_progress: bool,
    console: Console | None,
) -> PopulateSummary:
    needs = needs_of(specs)
    groups = group_by_source(specs, config)
    minibatches: dict[str, Minibatch | None] = {
        source: (
            load_minibatch(dataset, config.batch_size, config.seed, config.data_dir, source)
            if source != "none"
            else None
        )
        for source in groups
    }
    device = resolve_device(config.device) if needs.uses_network else "none"
    torch_version = _torch_version() if needs.uses_network else None
    ensure_seeded(store, space.name)
    summary = PopulateSummary()
    with store.session() as session:
        space_id, dataset_id = space_and_dataset_ids(session, space.name, dataset.name)
        targets = _select_targets(architectures_of(session, space_id), config)
        targets = shard_of(targets, config.shard)
        runs: dict[str, int] = {}
        for spec in specs:
            data_source = source_of(spec, config)
            run = get_or_create_run(
                session,
                space_id=space_id,
                dataset_id=dataset_id,
                scorer=spec.name,
                scorer_version=spec.version,
                data_source=data_source,
                data_dir=str(config.data_dir) if data_source == REAL else None,
                batch_size=config.batch_size,
                seed=config.seed,
                device=device if spec.needs.uses_network else "none",
                torch_version=torch_version if spec.needs.uses_network else None,
                provenance=_provenance(data_source, dataset.name),
            )
            runs[spec.name] = run.id
    summary.run_ids = runs
    summary.targeted = len(targets)
    job = JobSpec(runs, specs, targets, config.retry_errors)
    label = f"{space.name} {dataset.name} [{','.join(s.name for s in specs)}]"
    if from_costs.applies(specs, config.executor):
        return _populate_from_costs(
            store,
            job,
            (space_id, dataset_id),
            config,
            summary,
            label,
            started,
            show_progress,
            console,
        )
    work = open_work(
        store, job, chunk_size=config.chunk_size, lease_seconds=config.lease_seconds, lock=lock
    )
    pending = len(work.pending_at_start)
    summary.already_stored = summary.targeted - pending
    if not config.retry_errors:
        summary.kept_errors = errors_kept(store, job)
    recorder = Recorder(work, runs, {spec.name: spec.needs.uses_network for spec in specs})
    host_workers = HostWorkers() if needs.uses_network and config.executor == "local" else None
    source_of_scorer = {spec.name: source for source, group in groups.items() for spec in group}
    try:
        with _progress(show_progress, console) as progress:
            task = progress.add_task(label, total=pending, rate="")
            loop_start = time.perf_counter()
            done = [0]

            def advance(n: int) -> None:
                done[0] += n
                rate = done[0] / max(time.perf_counter() - loop_start, 1e-9)
                shown = f"{rate:.1f} arch/s" if rate >= 1 else f"{1 / rate:.2f} s/arch"
                progress.update(task, advance=n, rate=shown)

            if config.executor == "ray":
                from tfnas_db.jobs.ray_executor import RaySettings, run_on_ray

                run_on_ray(
                    work,
                    recorder,
                    RaySettings(
                        config.workers, config.ray_address, config.gpus_per_worker, config.threads
                    ),
                    engine_args={
                        "space": space.name,
                        "dataset": dataset.name,
                        "batch_size": config.batch_size,
                        "seed": config.seed,
                        "device": device,
                        "minibatches": minibatches,
                        "source_of": source_of_scorer,
                        "scorers": [spec.name for spec in specs],
                    },
                    advance=advance,
                )
            else:
                engine = SourcedEngine(
                    {
                        source: ScoringEngine(
                            space, dataset, config.batch_size, config.seed, device, batch
                        )
                        for source, batch in minibatches.items()
                    },
                    source_of_scorer,
                )
                run_sequential(
                    work,
                    engine,
                    {spec.name: spec for spec in specs},
                    recorder,
                    host=platform.node() or None,
                    device=device,
                    advance=advance,
                    before_chunk=lambda: (
                        apply_threads(config.threads, host_workers) if needs.uses_network else None
                    ),
                )
        recorder.finish(store)
        if work.all_done():
            with store.session() as session:
                mark_finished(session, runs.values(), scored_any=recorder.scored > 0)
        store.refresh_statistics()
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        work.close(interrupted=summary.interrupted)
        if host_workers is not None:
            host_workers.close()
    summary.scored = recorder.scored - (recorder.held_architectures() if summary.interrupted else 0)
    summary.statuses = recorder.statuses
    summary.scorer_seconds = recorder.scorer_seconds
    summary.retried, summary.still_failing = recorder.retried, recorder.still_failing
    if isinstance(work, ClaimedWork):
        summary.taken_over = work.taken_over
        if not summary.interrupted:
            summary.by_others = pending - summary.scored
    summary.seconds = time.perf_counter() - started
    return summary


def _populate_from_costs(
    store: Store,
    job: JobSpec,
    ids: tuple[int, int],
    config: PopulateConfig,
    summary: PopulateSummary,
    label: str,
    started: float,
    show_progress: bool,
    console: Console | None,
) -> PopulateSummary:
    """Scorers that are a function of the stored size, for every target in one pass
    (:mod:`tfnas_db.jobs.from_costs`): a whole space in seconds."""
    if not config.retry_errors:
        summary.kept_errors = errors_kept(store, job)
    with _progress(show_progress, console) as progress:
        task = progress.add_task(label, total=None, rate="")
        done = from_costs.score_from_costs(
            store,
            job,
            space_id=ids[0],
            dataset_id=ids[1],
            batch_size=config.batch_size,
            host=platform.node() or None,
            on_pending=lambda n: progress.update(task, total=n),
            advance=lambda n: progress.update(task, advance=n),
        )
    with store.session() as session:
        mark_finished(session, job.runs.values(), scored_any=done.scored > 0)
    store.refresh_statistics()
    summary.already_stored = summary.targeted - done.pending
    summary.scored = done.scored
    summary.statuses = done.statuses
    summary.scorer_seconds = done.scorer_seconds
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = [
    "PopulateConfig",
    "PopulateSummary",
    "ScoreStatus",
    "ScorerSpec",
    "SystematicFailure",
    "parse_shard",
    "populate",
    "validate_config",
]
