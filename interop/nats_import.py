"""``tfnas-db import nats-bench``: a user's NATS-Bench files into the benchmark table.

All architectures go in one transaction (a corrupted file half-way leaves nothing behind)
but rows are sent to the database in batches as they are read, so neither the archive nor
the rows are ever held whole in memory. Figures are upserted, so a re-import is
idempotent and a user's file replaces the bundled figure of the same meaning, with the
row's ``source`` saying it was imported and from which file.
"""

from __future__ import annotations

import time
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
from sqlalchemy import select

from tfnas_db.db.bootstrap import ensure_seeded
from tfnas_db.db.imports import architecture_ids, upsert_benchmark_results
from tfnas_db.db.models import Dataset, SearchSpace
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError
from tfnas_db.interop.nats_archive import READ_ERRORS, open_archive
from tfnas_db.interop.nats_metrics import figures

STORE_SPACE = {"tss": "nats-tss", "sss": "nats-sss"}
ROWS_PER_BATCH = 20_000


@dataclass
class NatsImportSummary:
    path: str
    space: str
    archs: int = 0
    rows: int = 0
    seconds: float = 0.0
    epochs: set[int] = field(default_factory=set)
    columns: dict[str, set[str]] = field(default_factory=dict)  # dataset -> metric@epochs

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "space": self.space,
            "architectures": self.archs,
            "rows": self.rows,
            "epochs": sorted(self.epochs),
            "columns": {name: sorted(cols) for name, cols in self.columns.items()},
            "seconds": round(self.seconds, 3),
        }


def store_space(space: str, path: Path) -> str:
    """The store's space for an archive's, refusing one this tfnas-db cannot hold yet."""
    from tfnas_db.scoring.spaces import get_space

    name = STORE_SPACE[space]
    try:
        get_space(name)
    except TfnasError:
        raise TfnasError(
            f"{path} holds NATS-Bench size-space (sss) data, but this tfnas-db version has no "
            f"{name} search space to import it into; it imports topology (tss) archives"
        ) from None
    return name


def _progress(enabled: bool, console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not enabled,
    )


def import_nats_bench(
    store: Store,
    path: Path,
    space: str | None = None,
    *,
    show_progress: bool = True,
    console: Console | None = None,
) -> NatsImportSummary:
    """Import every architecture, training budget and dataset the archive holds."""
    started = time.perf_counter()
    archive = open_archive(path, space, lambda found: store_space(found, path))
    name = store_space(archive.space, path)
    ensure_seeded(store, name)
    summary = NatsImportSummary(path=str(path), space=name)
    origin_file = path.name or str(path)
    with store.session() as session:
        space_id = session.scalar(select(SearchSpace.id).where(SearchSpace.name == name))
        if space_id is None:
            raise TfnasError(f"the store has no {name} architectures; run: tfnas-db db seed")
        dataset_ids = {row.name: row.id for row in session.scalars(select(Dataset))}
        ids = architecture_ids(session, space_id)
        rows: list[dict[str, Any]] = []
        with _progress(show_progress, console) as progress:
            task = progress.add_task(f"import {name} from {origin_file}", total=len(archive))
            for arch in archive:
                arch_id = ids.get(arch.arch_str)
                if arch_id is None:
                    raise TfnasError(
                        f"{path}: architecture {arch.index} ({arch.arch_str}) is not a {name} "
                        "architecture of this store; the archive is corrupted or of another space"
                    )
                for hp, results in arch.results.items():
                    try:
                        epochs = int(hp)
                        found = figures(results, epochs)
                    except READ_ERRORS as exc:
                        raise TfnasError(
                            f"{path}: architecture {arch.index} has unreadable hp={hp} results "
                            f"({type(exc).__name__}: {exc})"
                        ) from None
                    summary.epochs.add(epochs)
                    for figure in found:
                        rows.append(
                            {
                                "architecture_id": arch_id,
                                "dataset_id": dataset_ids[figure.dataset],
                                "metric": figure.metric,
                                "epochs": figure.epochs,
                                "value": figure.value,
                                "n_seeds": figure.n_seeds,
                                "source": f"imported: {origin_file} ({figure.origin}, hp={hp}, "
                                f"mean over seeds)"[:255],
                            }
                        )
                        summary.columns.setdefault(figure.dataset, set()).add(
                            f"{figure.metric}@{figure.epochs}"
                        )
                summary.archs += 1
                if len(rows) >= ROWS_PER_BATCH:
                    upsert_benchmark_results(session, rows)
                    summary.rows += len(rows)
                    rows.clear()
                progress.advance(task)
        upsert_benchmark_results(session, rows)
        summary.rows += len(rows)
    store.refresh_statistics()
    summary.seconds = time.perf_counter() - started
    return summary
