"""``tfnas-db populate``: score architectures into the store, idempotently and resumably.

Each architecture's scores (one row per requested scorer) are written in the same
transaction, and rows whose (run, architecture) is already stored are skipped, so an
interrupted job (Ctrl-C, kill -9) leaves no partial architecture and the same command
resumes where it stopped. Non-finite values are stored as ``nan`` (a result) and
isolated failures as ``error``, and the job goes on; a later run retries the ``error``
rows (unless told not to). A failure that hits the first architectures of a run alike
stops it instead (scoring/failures.py).
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

from tfnas_db.db.models import ScoreStatus
from tfnas_db.db.scores import (
    architectures_of,
    get_or_create_run,
    insert_scores,
    mark_finished,
    space_and_dataset_ids,
    stored_arch_states,
)
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import DatasetSpec, get_dataset
from tfnas_db.scoring.device import check_device_syntax, resolve_device
from tfnas_db.scoring.engine import ScoringEngine, needs_of
from tfnas_db.scoring.failures import FailureGate, SystematicFailure
from tfnas_db.scoring.minibatch import NATURAL, REAL, Minibatch, load_minibatch
from tfnas_db.scoring.pending import StoredState, kept_errors, pending_archs
from tfnas_db.scoring.registry import (
    DEFAULT_SCORERS,
    REGISTRY,
    ScorerSpec,
    check_defined_on,
    defined_on,
)
from tfnas_db.scoring.spaces import DEFAULT_SPACE, SearchSpaceInfo, get_space

COMMIT_EVERY_SECONDS = 1.0


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


@dataclass
class PopulateSummary:
    targeted: int = 0
    already_stored: int = 0
    scored: int = 0
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


def ensure_seeded(store: Store, space: str) -> bool:
    """The space's architectures and sizes (nats-tss: with the benchmark table and the
    bundled scores), loaded if the store lacks them."""
    from tfnas_db.db.bootstrap import bootstrap_store

    info = get_space(space)
    notes = bootstrap_store(store, info.name)
    store.notes.extend(notes)
    return bool(notes)


def validate_config(
    config: PopulateConfig,
) -> tuple[SearchSpaceInfo, DatasetSpec, list[ScorerSpec]]:
    """Every check of the options that needs neither torch nor the store, so a mistake is
    one line before any row is written (any executor calls this first)."""
    space = get_space(config.space)
    dataset = get_dataset(config.dataset)
    specs = REGISTRY.resolve(config.scorers)
    if config.scorers in ("all", ["all"], ("all",)):
        specs = defined_on(specs, space)  # every scorer this space defines
    check_defined_on(specs, space)
    check_device_syntax(config.device)
    if config.seed < 0:
        raise TfnasError(f"--seed must be 0 or more, got {config.seed}")
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
        runs: dict[str, int] = {}
        stored: dict[str, StoredState] = {}
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
            stored[spec.name] = StoredState(*stored_arch_states(session, run.id))
    summary.run_ids = runs
    runs_on_network = {spec.name: spec.needs.uses_network for spec in specs}
    summary.targeted = len(targets)
    pending = pending_archs(targets, specs, stored, retry_errors=config.retry_errors)
    summary.already_stored = summary.targeted - len(pending)
    if not config.retry_errors:
        summary.kept_errors = {k: v for k, v in kept_errors(targets, stored).items() if v}

    engines = {
        source: ScoringEngine(space, dataset, config.batch_size, config.seed, device, batch)
        for source, batch in minibatches.items()
    }
    source_of_scorer = {spec.name: source for source, group in groups.items() for spec in group}
    gate = FailureGate()  # holds a run's rows while its first attempts all fail alike
    buffer: list[dict[str, Any]] = []
    host = platform.node() or None
    last_commit = time.perf_counter()

    def flush(rows: list[dict[str, Any]]) -> None:
        nonlocal last_commit
        with store.session() as session:
            insert_scores(session, rows)
        rows.clear()
        last_commit = time.perf_counter()

    label = f"{space.name} {dataset.name} [{','.join(s.name for s in specs)}]"
    try:
        with _progress(show_progress, console) as progress:
            task = progress.add_task(label, total=len(pending), rate="")
            loop_start = time.perf_counter()
            for n, item in enumerate(pending, start=1):
                outcomes = {}
                for source, engine in engines.items():
                    mine = [spec for spec in item.specs if source_of_scorer[spec.name] == source]
                    if mine:
                        outcomes.update(engine.score(item.arch_str, mine))
                for name, outcome in outcomes.items():
                    failed = outcome.status == ScoreStatus.ERROR
                    row = {
                        "run_id": runs[name],
                        "architecture_id": item.arch_id,
                        "value": outcome.value,
                        "seconds": outcome.seconds,
                        "status": outcome.status,
                        "error": outcome.error,
                        "host": host,
                        "device": device if runs_on_network[name] else "none",
                    }
                    buffer.extend(gate.admit(name, row, failed, outcome.error))
                    summary.statuses.setdefault(name, Counter())[outcome.status.value] += 1
                    summary.scorer_seconds[name] = (
                        summary.scorer_seconds.get(name, 0.0) + outcome.seconds
                    )
                    if name in item.retries:
                        summary.retried[name] += 1
                        summary.still_failing[name] += int(failed)
                if gate.detector.failure() is not None:
                    flush(buffer)  # what other runs scored is valid; the failed rows are not
                    gate.raise_if_systematic()
                summary.scored += 1
                if time.perf_counter() - last_commit >= COMMIT_EVERY_SECONDS:
                    flush(buffer)
                rate = n / max(time.perf_counter() - loop_start, 1e-9)
                shown = f"{rate:.1f} arch/s" if rate >= 1 else f"{1 / rate:.2f} s/arch"
                progress.update(task, advance=1, rate=shown)
            buffer.extend(gate.release())  # runs too short to judge keep their errors
            flush(buffer)
        with store.session() as session:
            mark_finished(session, runs.values())
        store.refresh_statistics()
    except KeyboardInterrupt:
        summary.interrupted = True
        lost = {row["architecture_id"] for row in buffer}
        lost |= {row["architecture_id"] for row in gate.held_rows()}
        summary.scored -= len(lost)
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = [
    "PopulateConfig",
    "PopulateSummary",
    "ScoreStatus",
    "ScorerSpec",
    "SystematicFailure",
    "populate",
    "validate_config",
]
