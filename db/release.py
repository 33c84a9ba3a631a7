"""The bundled score release: scores this project computed, shipped as package data.

A release file holds one finished score run over a whole space: one Parquet file per
(space, dataset, scorer) with ``arch_index``, ``value`` (null where non-finite),
``seconds``, ``status`` and ``error``, and beside it a JSON manifest with the run's
provenance (scorer and version, data source, batch size, seed, device, CPU/GPU model,
torch and tfnas-db versions, when it ran), its row count and the file's sha256.

Loading turns each file into a score run whose ``origin`` is ``bundled`` and whose
``provenance`` is the manifest, so ``populate`` with the same options finds the run
already stored and ``runs --scores`` says where the numbers came from. A manifest whose
scorer version differs from the code's is not loaded: mixing two definitions of a score
under one name is worse than recomputing it (and a test fails on such a stale file).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import resources
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tfnas_db.db.bulk import bulk_insert
from tfnas_db.db.models import Architecture, Dataset, Score, ScoreRun, SearchSpace
from tfnas_db.errors import TfnasError

if TYPE_CHECKING:
    from tfnas_db.db.store import Store

FORMAT_VERSION = 1
ORIGIN_BUNDLED = "bundled"
SCORE_COLUMNS = (
    "run_id",
    "architecture_id",
    "value",
    "seconds",
    "status",
    "error",
    "host",
    "device",
)


RELEASE_DIR_ENV = "TFNAS_RELEASE_DIR"


def release_folder() -> Path:
    """``tfnas_db/data/release`` (in an editable install: the repository's ``data/release``).

    ``$TFNAS_RELEASE_DIR`` points elsewhere: a maintainer tries a new release before
    committing it, and the test suite uses an empty one except where it tests loading.
    """
    override = os.environ.get(RELEASE_DIR_ENV)
    if override is not None:
        return Path(override)
    return Path(str(resources.files("tfnas_db.data"))) / "release"


@dataclass(frozen=True)
class ReleaseManifest:
    """Provenance of one bundled file, as written beside it (``<scorer>.json``)."""

    space: str
    dataset: str
    scorer: str
    scorer_version: int
    data_source: str
    batch_size: int
    seed: int
    device: str
    cpu_model: str | None
    gpu_model: str | None
    torch_version: str | None
    tfnas_db_version: str
    host: str | None
    started_at: str
    finished_at: str | None
    row_count: int
    status_counts: dict[str, int]
    sha256: str
    file: str
    command: str
    format_version: int = FORMAT_VERSION
    notes: list[str] = field(default_factory=list)
    shard: str | None = None  # "i/n" on a part (a parts folder), None on a release file
    # torch threads of the scoring processes: oneDNN picks its convolution kernels by
    # thread count, so a recomputation is bit-exact only with the same count (and CPU)
    threads: int | None = None

    @classmethod
    def read(cls, path: Path) -> ReleaseManifest:
        try:
            raw = json.loads(path.read_text())
            return cls(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise TfnasError(f"bundled manifest {path} is unreadable: {exc}") from None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @property
    def identity(self) -> tuple[str, str, str, int, str, int, int]:
        return (
            self.space,
            self.dataset,
            self.scorer,
            self.scorer_version,
            self.data_source,
            self.batch_size,
            self.seed,
        )


def bundled_manifests(folder: Path | None = None) -> list[tuple[Path, ReleaseManifest]]:
    """Every ``<space>/<dataset>/<scorer>.json`` of the release, in a stable order."""
    root = folder or release_folder()
    if not root.is_dir():
        return []
    found = [(path, ReleaseManifest.read(path)) for path in sorted(root.glob("*/*/*.json"))]
    return [(path, m) for path, m in found if m.shard is None]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_release_table(manifest_path: Path, manifest: ReleaseManifest) -> dict[str, np.ndarray]:
    """The file's columns as arrays, after checking its sha256 and row count."""
    import pyarrow.parquet as pq

    path = manifest_path.with_name(manifest.file)
    if not path.is_file():
        raise TfnasError(f"bundled release file {path} is missing (its manifest names it)")
    digest = file_sha256(path)
    if digest != manifest.sha256:
        raise TfnasError(
            f"bundled release file {path} is corrupted (sha256 {digest[:12]}..., manifest "
            f"says {manifest.sha256[:12]}...); reinstall tfnas-db"
        )
    table = pq.read_table(path)
    if table.num_rows != manifest.row_count:
        raise TfnasError(
            f"bundled release file {path} holds {table.num_rows} rows, "
            f"its manifest says {manifest.row_count}"
        )
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


# -- loading a release into a store ------------------------------------------------------


@dataclass
class ReleaseLoad:
    """What loading the release did: runs added, skipped (already held, or stale)."""

    loaded: list[ReleaseManifest] = field(default_factory=list)
    already_held: list[ReleaseManifest] = field(default_factory=list)
    stale: list[tuple[ReleaseManifest, int]] = field(default_factory=list)  # (file, code version)
    rows: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.loaded)


def _code_versions() -> dict[str, int]:
    from tfnas_db.scoring.registry import REGISTRY

    return {spec.name: spec.version for spec in REGISTRY.specs()}


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _find_run(session: Session, space_id: int, dataset_id: int, m: ReleaseManifest) -> bool:
    return (
        session.scalar(
            select(func.count(ScoreRun.id)).where(
                ScoreRun.space_id == space_id,
                ScoreRun.dataset_id == dataset_id,
                ScoreRun.scorer == m.scorer,
                ScoreRun.scorer_version == m.scorer_version,
                ScoreRun.data_source == m.data_source,
                ScoreRun.batch_size == m.batch_size,
                ScoreRun.seed == m.seed,
            )
        )
        or 0
    ) > 0


def _score_rows(
    run_id: int, columns: dict[str, np.ndarray], arch_ids: np.ndarray, m: ReleaseManifest
) -> Iterator[tuple[Any, ...]]:
    index = columns["arch_index"].astype(np.int64)
    ids = arch_ids[index]
    if (ids < 0).any():
        raise TfnasError(
            f"bundled {m.scorer} file for {m.dataset} names architectures the store lacks"
        )
    values = columns["value"].astype(np.float64)
    finite = np.isfinite(values)
    value_list = [v if ok else None for v, ok in zip(values.tolist(), finite.tolist(), strict=True)]
    errors = [e if isinstance(e, str) else None for e in columns["error"].tolist()]
    return zip(
        repeat(run_id),
        ids.tolist(),
        value_list,
        columns["seconds"].astype(np.float64).tolist(),
        [str(status) for status in columns["status"].tolist()],
        errors,
        repeat(m.host),
        repeat(m.device),
    )


def load_release(session: Session, folder: Path | None = None) -> ReleaseLoad:
    """Add every bundled run the store does not hold yet, inside the caller's transaction.

    Runs are matched by identity (space, dataset, scorer, version, data source, batch
    size, seed): a store that already holds such a run, computed or bundled, keeps it.
    """
    result = ReleaseLoad()
    manifests = bundled_manifests(folder)
    if not manifests:
        return result
    versions = _code_versions()
    spaces = {row.name: row for row in session.scalars(select(SearchSpace))}
    datasets = {row.name: row.id for row in session.scalars(select(Dataset))}
    arch_maps: dict[int, np.ndarray] = {}
    for path, m in manifests:
        space = spaces.get(m.space)
        if space is None or m.dataset not in datasets:
            continue  # a space this store has not seeded
        code_version = versions.get(m.scorer)
        if code_version != m.scorer_version:
            result.stale.append((m, code_version or 0))
            continue
        dataset_id = datasets[m.dataset]
        if _find_run(session, space.id, dataset_id, m):
            result.already_held.append(m)
            continue
        if space.id not in arch_maps:
            table = np.full(space.n_archs, -1, dtype=np.int64)
            for arch_index, arch_id in session.execute(
                select(Architecture.arch_index, Architecture.id).where(
                    Architecture.space_id == space.id
                )
            ):
                table[arch_index] = arch_id
            arch_maps[space.id] = table
        columns = read_release_table(path, m)
        run = ScoreRun(
            space_id=space.id,
            dataset_id=dataset_id,
            scorer=m.scorer,
            scorer_version=m.scorer_version,
            data_source=m.data_source,
            data_dir=None,
            batch_size=m.batch_size,
            seed=m.seed,
            device=m.device,
            torch_version=m.torch_version,
            package_version=m.tfnas_db_version,
            host=m.host,
            started_at=_parse_time(m.started_at),
            finished_at=_parse_time(m.finished_at),
            origin=ORIGIN_BUNDLED,
            provenance={"release": asdict(m)},
        )
        session.add(run)
        session.flush()
        result.rows += bulk_insert(
            session,
            Score.__table__,
            SCORE_COLUMNS,
            _score_rows(run.id, columns, arch_maps[space.id], m),
        )
        result.loaded.append(m)
    return result


def describe_load(result: ReleaseLoad) -> list[str]:
    """Lines for the CLI: what was loaded and what was skipped, and why."""
    lines = []
    if result.loaded:
        by_dataset: dict[str, list[str]] = {}
        for m in result.loaded:
            by_dataset.setdefault(f"{m.space}/{m.dataset}", []).append(m.scorer)
        for where, scorers in by_dataset.items():
            lines.append(f"loaded bundled scores on {where}: {', '.join(scorers)}")
        lines.append(f"({result.rows} score rows)")
    for m, code_version in result.stale:
        lines.append(
            f"skipped the bundled {m.scorer} on {m.dataset}: computed by version "
            f"{m.scorer_version}, this tfnas-db defines version {code_version}; recompute: "
            f"{m.command}"
        )
    return lines


def ensure_release_loaded(store: Store) -> ReleaseLoad:
    """Load what the release holds and the store lacks (one transaction)."""
    with store.session() as session:
        result = load_release(session)
    if result.changed:
        store.refresh_statistics()
    return result
