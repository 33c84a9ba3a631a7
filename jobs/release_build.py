"""Writing the bundled score release (maintainers: scripts/build_release.py).

A release file is written from a store that ``populate`` filled with one finished run
over a whole space, or assembled from *parts*: the runs of ``populate --shard i/n``, each
in its own store, written one by one to a parts folder outside the repository and
joined when all n are there. Parts let a computation longer than one working session
land piece by piece; shards are independent (scores are seeded per architecture, not by
visiting order), so the assembled file equals what one populate over the whole space
writes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from tfnas_db.db.models import Architecture, Dataset, Score, ScoreRun, SearchSpace
from tfnas_db.db.release import ReleaseManifest, file_sha256, read_release_table
from tfnas_db.errors import TfnasError


def machine_cpu() -> str | None:
    try:
        with open("/proc/cpuinfo") as handle:
            return next(line.split(":", 1)[1].strip() for line in handle if "model name" in line)
    except (OSError, StopIteration):
        return None


def _is_default_source(run: ScoreRun) -> bool:
    """Whether populate picks this run's data source by itself (no ``--data`` needed)."""
    from tfnas_db.scoring.registry import REGISTRY  # numpy only: no torch is imported

    return run.data_source == "none" or run.data_source == REGISTRY.get(run.scorer).default_data


def shard_indices(n_archs: int, shard: tuple[int, int]) -> range:
    """The indices ``populate --shard i/n`` scores over a whole space: every n-th from i."""
    i, n = shard
    return range(i, n_archs, n)


def part_stem(scorer: str, shard: tuple[int, int]) -> str:
    """File stem of one shard's part: ``<scorer>.shard-<i>-of-<n>``."""
    return f"{scorer}.shard-{shard[0]}-of-{shard[1]}"


def _status_counts(statuses: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))


def _write_table(path: Path, columns: dict[str, list[Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "arch_index": pa.array(columns["arch_index"], pa.int32()),
            "value": pa.array(columns["value"], pa.float64()),
            # 0.1 ms is finer than the timing noise; coarser values compress far better
            "seconds": pa.array([round(s, 4) for s in columns["seconds"]], pa.float32()),
            "status": pa.array(columns["status"], pa.string()).dictionary_encode(),
            "error": pa.array(columns["error"], pa.string()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=19,
        use_dictionary=["value", "status", "error"],
        column_encoding={"arch_index": "DELTA_BINARY_PACKED", "seconds": "BYTE_STREAM_SPLIT"},
    )


def write_release_file(
    session: Session,
    run_id: int,
    out_root: Path,
    *,
    gpu_model: str | None = None,
    cpu_model: str | None = None,
    shard: tuple[int, int] | None = None,
    threads: int | None = None,
) -> ReleaseManifest:
    """Write one finished run as ``<space>/<dataset>/<scorer>``: the whole space, or with
    ``shard`` exactly the indices ``populate --shard i/n`` scores, as one *part*
    (``<scorer>.shard-i-of-n``) that ``assemble_release`` later joins with the others.

    Parts let a computation longer than one working session land piece by piece: each
    shard is independent (scores are seeded per architecture, not by visiting order).
    """
    run = session.get(ScoreRun, run_id)
    if run is None:
        raise TfnasError(f"no score run {run_id} in the store")
    space = session.get(SearchSpace, run.space_id)
    dataset = session.get(Dataset, run.dataset_id)
    assert space is not None and dataset is not None
    rows = session.execute(
        select(Architecture.arch_index, Score.value, Score.seconds, Score.status, Score.error)
        .join(Architecture, Architecture.id == Score.architecture_id)
        .where(Score.run_id == run_id)
        .order_by(Architecture.arch_index)
    ).all()
    expected = (
        list(range(space.n_archs)) if shard is None else list(shard_indices(space.n_archs, shard))
    )
    if [r.arch_index for r in rows] != expected:
        what = "all" if shard is None else f"shard {shard[0]}/{shard[1]}, i.e."
        raise TfnasError(
            f"run {run_id} ({run.scorer} on {dataset.name}) holds {len(rows)} architectures; "
            f"a release file must cover {what} exactly {len(expected)} of {space.name}"
        )
    statuses = [str(getattr(r.status, "value", r.status)) for r in rows]
    columns = {
        "arch_index": [r.arch_index for r in rows],
        "value": [r.value for r in rows],
        "seconds": [r.seconds for r in rows],
        "status": statuses,
        "error": [r.error for r in rows],
    }
    stem = run.scorer if shard is None else part_stem(run.scorer, shard)
    path = out_root / space.name / dataset.name / f"{stem}.parquet"
    _write_table(path, columns)
    option = "" if _is_default_source(run) else f" --data {run.data_source}"
    shard_option = "" if shard is None else f" --shard {shard[0]}/{shard[1]}"
    manifest = ReleaseManifest(
        space=space.name,
        dataset=dataset.name,
        scorer=run.scorer,
        scorer_version=run.scorer_version,
        data_source=run.data_source,
        batch_size=run.batch_size,
        seed=run.seed,
        device=run.device,
        cpu_model=cpu_model if cpu_model is not None else machine_cpu(),
        gpu_model=gpu_model,
        torch_version=run.torch_version,
        tfnas_db_version=run.package_version,
        host=run.host,
        started_at=run.started_at.isoformat(),
        finished_at=run.finished_at.isoformat() if run.finished_at else None,
        row_count=len(rows),
        status_counts=_status_counts(statuses),
        sha256=file_sha256(path),
        file=path.name,
        command=(
            f"tfnas-db populate --space {space.name} --dataset {dataset.name} "
            f"--scorers {run.scorer} --batch-size {run.batch_size} --seed {run.seed}{option}"
            f"{'' if threads is None else f' --threads {threads}'}{shard_option}"
        ),
        shard=None if shard is None else f"{shard[0]}/{shard[1]}",
        threads=threads,
    )
    manifest.write(path.with_suffix(".json"))
    return manifest


def _joined(values: list[str | None]) -> str | None:
    distinct = sorted({v for v in values if v})
    return ", ".join(distinct) if distinct else None


def _parse_part_shard(path: Path, m: ReleaseManifest) -> tuple[int, int]:
    i, _, n = (m.shard or "").partition("/")
    if not (i.isdigit() and n.isdigit()):
        raise TfnasError(f"part {path.name} names no shard (its manifest's shard is {m.shard!r})")
    return int(i), int(n)


def name_shards(indices: list[int], shown: int = 10) -> str:
    """The missing shards, capped: a campaign's log repeats this line after every part."""
    if len(indices) <= shown:
        return str(indices)
    head = ", ".join(str(i) for i in indices[:shown])
    return f"[{head}, ... {len(indices) - shown} more]"


def assemble_release(
    parts_folder: Path, scorer: str, out_root: Path, n_archs: int
) -> ReleaseManifest:
    """Join the parts of ``scorer`` in ``parts_folder`` (one space and dataset) into its
    release file, once all n shards are there and agree on the run's identity."""
    found = sorted(parts_folder.glob(f"{scorer}.shard-*-of-*.json"))
    if not found:
        raise TfnasError(f"no release parts of {scorer} in {parts_folder}")
    parts = [(path, ReleaseManifest.read(path)) for path in found]
    first = parts[0][1]
    shards = [_parse_part_shard(path, m) for path, m in parts]
    n = shards[0][1]

    def key(m: ReleaseManifest) -> tuple[Any, ...]:
        return (m.identity, m.tfnas_db_version, m.torch_version, m.device, m.threads)

    for (path, m), (_, n_of) in zip(parts, shards, strict=True):
        if key(m) != key(first) or n_of != n:
            raise TfnasError(
                f"part {path.name} was computed with other options than {found[0].name}"
            )
    held = sorted(i for i, _ in shards)
    if held != list(range(n)):
        missing = sorted(set(range(n)) - set(held))
        raise TfnasError(
            f"{first.scorer} on {first.space}/{first.dataset}: {len(held)} of {n} parts are "
            f"here, missing shards {name_shards(missing)}"
        )
    merged: dict[str, list[Any]] = {
        c: [] for c in ("arch_index", "value", "seconds", "status", "error")
    }
    for path, m in parts:
        table = read_release_table(path, m)
        for name in merged:
            merged[name].extend(table[name].tolist())
    order = np.argsort(np.asarray(merged["arch_index"]), kind="stable")
    columns = {name: [values[k] for k in order] for name, values in merged.items()}
    if columns["arch_index"] != list(range(n_archs)):
        raise TfnasError(
            f"the parts of {first.scorer} on {first.dataset} do not cover each of the "
            f"{n_archs} architectures once"
        )
    columns["value"] = [None if v is None or not np.isfinite(v) else v for v in columns["value"]]
    columns["error"] = [e if isinstance(e, str) else None for e in columns["error"]]
    columns["status"] = [str(s) for s in columns["status"]]
    path = out_root / first.space / first.dataset / f"{first.scorer}.parquet"
    _write_table(path, columns)
    manifests = [m for _, m in parts]
    command = first.command.rsplit(" --shard ", 1)[0]
    manifest = replace(
        first,
        cpu_model=_joined([m.cpu_model for m in manifests]),
        gpu_model=_joined([m.gpu_model for m in manifests]),
        host=_joined([m.host for m in manifests]),
        started_at=min(m.started_at for m in manifests),
        finished_at=max((m.finished_at for m in manifests if m.finished_at), default=None),
        row_count=n_archs,
        status_counts=_status_counts(columns["status"]),
        sha256=file_sha256(path),
        file=path.name,
        command=command,
        shard=None,
        notes=[
            f"assembled from {n} shards, each scored by `{command} --shard i/{n}` in its own store"
        ],
    )
    manifest.write(path.with_suffix(".json"))
    return manifest


def copy_release_file(
    source_path: Path, source: ReleaseManifest, dataset: str, out_root: Path, check: str
) -> ReleaseManifest:
    """Write ``source``'s values as the same scorer's file for ``dataset``.

    Only for a scorer whose computation never touches the dataset with these options
    (loss_slope on the synthetic minibatch: same inputs, same cell weights, classifier
    dropped), so ``populate`` on ``dataset`` computes the very same bits: copying saves
    the CPU-hours of scoring them twice. ``check`` says how that was established (the
    caller re-scores a sample on both datasets); it goes into the manifest's notes, with
    the source file's sha256, and the seconds column stays the source run's.
    """
    target = out_root / source.space / dataset / source.file
    if target.exists():
        raise TfnasError(f"{target} exists; a copied set never replaces a computed one")
    table = read_release_table(source_path, source)
    columns = {
        "arch_index": table["arch_index"].tolist(),
        "value": [None if v is None or not np.isfinite(v) else float(v) for v in table["value"]],
        "seconds": table["seconds"].astype(float).tolist(),
        "status": [str(s) for s in table["status"]],
        "error": [e if isinstance(e, str) else None for e in table["error"]],
    }
    _write_table(target, columns)
    manifest = replace(
        source,
        dataset=dataset,
        sha256=file_sha256(target),
        command=source.command.replace(f" --dataset {source.dataset} ", f" --dataset {dataset} "),
        notes=[
            *source.notes,
            f"values (and seconds) copied from {source.space}/{source.dataset}/{source.file} "
            f"(sha256 {source.sha256}): {source.scorer} with these options computes the "
            f"same bits on {dataset} as on {source.dataset}; {check}",
        ],
    )
    manifest.write(target.with_suffix(".json"))
    return manifest
