"""``tfnas-db populate``: score architectures into the store, idempotently and resumably.

Each architecture's scores (one row per requested scorer) are written in the same
transaction, and rows whose (run, architecture) is already stored are skipped, so an
interrupted job (Ctrl-C, kill -9) leaves no partial architecture and the same command
resumes where it stopped. Failures and non-finite values are stored with a status and
the job goes on.
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
    stored_arch_ids,
)
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine, needs_of, pick_device
from tfnas_db.scoring.minibatch import REAL, SYNTHETIC, load_minibatch
from tfnas_db.scoring.registry import (
    DEFAULT_SCORERS,
    REGISTRY,
    ScorerSpec,
    check_defined_on,
    defined_on,
)
from tfnas_db.scoring.spaces import DEFAULT_SPACE, get_space

COMMIT_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class PopulateConfig:
    space: str = DEFAULT_SPACE
    dataset: str = "cifar10"
    scorers: str | Sequence[str] = DEFAULT_SCORERS
    batch_size: int = 128
    seed: int = 0
    data_dir: Path | None = None  # None: synthetic minibatch
    limit: int | None = None
    sample: bool = False  # with limit: a seeded random sample instead of an index prefix
    archs: Sequence[str] | None = None  # explicit indices or arch strings
    device: str | None = None


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "targeted": self.targeted,
            "already_stored": self.already_stored,
            "scored": self.scored,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
            "runs": {
                name: {
                    "run_id": self.run_ids[name],
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


def _select_targets(
    all_archs: list[tuple[int, int, str]], config: PopulateConfig
) -> list[tuple[int, int, str]]:
    if config.limit is not None and config.limit < 1:
        raise TfnasError(f"--limit must be at least 1, got {config.limit}")
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
    """Score the targeted architectures with every requested scorer; see module doc."""
    started = time.perf_counter()
    space = get_space(config.space)
    dataset = get_dataset(config.dataset)
    specs = REGISTRY.resolve(config.scorers)
    if config.scorers in ("all", ["all"], ("all",)):
        specs = defined_on(specs, space)  # every scorer this space defines
    check_defined_on(specs, space)
    if config.batch_size < 2:
        raise TfnasError(f"--batch-size must be at least 2, got {config.batch_size}")
    needs = needs_of(specs)
    data_source = REAL if config.data_dir is not None else SYNTHETIC
    minibatch = None
    if needs.uses_data:
        minibatch = load_minibatch(dataset, config.batch_size, config.seed, config.data_dir)
    device = pick_device(config.device) if needs.uses_network else "none"
    torch_version = _torch_version() if needs.uses_network else None

    ensure_seeded(store, space.name)
    summary = PopulateSummary()
    with store.session() as session:
        space_id, dataset_id = space_and_dataset_ids(session, space.name, dataset.name)
        targets = _select_targets(architectures_of(session, space_id), config)
        runs: dict[str, int] = {}
        done: dict[str, set[int]] = {}
        for spec in specs:
            run = get_or_create_run(
                session,
                space_id=space_id,
                dataset_id=dataset_id,
                scorer=spec.name,
                scorer_version=spec.version,
                data_source=data_source if spec.needs.uses_data else "none",
                data_dir=str(config.data_dir) if spec.needs.uses_data and config.data_dir else None,
                batch_size=config.batch_size,
                seed=config.seed,
                device=device if spec.needs.uses_network else "none",
                torch_version=torch_version if spec.needs.uses_network else None,
            )
            runs[spec.name] = run.id
            done[spec.name] = stored_arch_ids(session, run.id)
    summary.run_ids = runs
    runs_on_network = {spec.name: spec.needs.uses_network for spec in specs}
    summary.targeted = len(targets)
    pending = [
        (arch_id, index, arch, [s for s in specs if arch_id not in done[s.name]])
        for arch_id, index, arch in targets
    ]
    pending = [item for item in pending if item[3]]
    summary.already_stored = summary.targeted - len(pending)

    engine = ScoringEngine(space, dataset, config.batch_size, config.seed, device, minibatch)
    buffer: list[dict[str, Any]] = []
    host = platform.node() or None
    last_commit = time.perf_counter()

    def flush() -> None:
        nonlocal last_commit
        with store.session() as session:
            insert_scores(session, buffer)
        buffer.clear()
        last_commit = time.perf_counter()

    label = f"{space.name} {dataset.name} [{','.join(s.name for s in specs)}]"
    try:
        with _progress(show_progress, console) as progress:
            task = progress.add_task(label, total=len(pending), rate="")
            loop_start = time.perf_counter()
            for n, (arch_id, _index, arch, todo) in enumerate(pending, start=1):
                outcomes = engine.score(arch, todo)
                for name, outcome in outcomes.items():
                    buffer.append(
                        {
                            "run_id": runs[name],
                            "architecture_id": arch_id,
                            "value": outcome.value,
                            "seconds": outcome.seconds,
                            "status": outcome.status,
                            "error": outcome.error,
                            "host": host,
                            "device": device if runs_on_network[name] else "none",
                        }
                    )
                    summary.statuses.setdefault(name, Counter())[outcome.status.value] += 1
                    summary.scorer_seconds[name] = (
                        summary.scorer_seconds.get(name, 0.0) + outcome.seconds
                    )
                summary.scored += 1
                if time.perf_counter() - last_commit >= COMMIT_EVERY_SECONDS:
                    flush()
                rate = n / max(time.perf_counter() - loop_start, 1e-9)
                shown = f"{rate:.1f} arch/s" if rate >= 1 else f"{1 / rate:.2f} s/arch"
                progress.update(task, advance=1, rate=shown)
            flush()
        with store.session() as session:
            mark_finished(session, runs.values())
        store.refresh_statistics()
    except KeyboardInterrupt:
        summary.interrupted = True
        summary.scored -= len({row["architecture_id"] for row in buffer})
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["PopulateConfig", "PopulateSummary", "ScoreStatus", "ScorerSpec", "populate"]
