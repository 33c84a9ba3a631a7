"""NAS-Bench-Suite-Zero score files (NASLib's ``zc_nasbench201.json``): read and write.

The layout is ``{dataset: {key: record}}``; the key is ``str(tuple)`` of the NASLib op
tuple, and a record holds ``idx`` (NASLib's running index, a string), ``arch`` (the key
again), ``val_accuracy`` (percent) and one ``{"score": float, "time": float}`` per proxy.

An imported proxy becomes a score run with origin ``imported`` and data source
``naslib-zc``, so its label is ``<scorer>@naslib`` and it sits beside our own run of the
same scorer instead of replacing it. NASLib's values are kept as published (its sign and
scale; tfnas-db's "higher is better" convention is not applied to them) and the run's
provenance says so.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tfnas_db.db.bootstrap import ensure_seeded
from tfnas_db.db.imports import (
    architecture_ids,
    benchmark_values,
    imported_run,
    stored_scores,
    upsert_benchmark_results,
    upsert_scores,
)
from tfnas_db.db.models import ScoreStatus
from tfnas_db.db.queries import RunInfo, label_scorer, list_runs, pick_run, run_label
from tfnas_db.db.scores import space_and_dataset_ids
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import DATASETS
from tfnas_db.scoring.spaces import nats_tss

FORMAT = "NAS-Bench-Suite-Zero"
DATA_SOURCE = "naslib-zc"
SPACE = nats_tss.SPACE_NAME

# NASLib proxy name -> tfnas-db scorer name. Proxies not listed (l2_norm, plain, zen...) are
# stored under their own names: tfnas-db does not define them, but they are not dropped.
NASLIB_TO_TFNAS: dict[str, str] = {
    "nwot": "naswot",
    "jacov": "jacov",
    "epe_nas": "epe_nas",
    "synflow": "synflow",
    "snip": "snip",
    "grad_norm": "grad_norm",
    "grasp": "grasp",
    "fisher": "fisher",
    "flops": "flops",
    "params": "params",
}
TFNAS_TO_NASLIB: dict[str, str] = {ours: theirs for theirs, ours in NASLIB_TO_TFNAS.items()}
# The order NASLib's file lists proxies in; others follow alphabetically.
PROXY_ORDER = (
    "flops",
    "params",
    "synflow",
    "grasp",
    "fisher",
    "grad_norm",
    "l2_norm",
    "plain",
    "nwot",
    "epe_nas",
    "jacov",
    "snip",
)
RECORD_FIELDS = frozenset({"idx", "arch", "val_accuracy"})
# NASLib's val_accuracy (200 epochs) is stored as its own benchmark column, never over ours.
VAL_METRIC, VAL_EPOCHS = "naslib_val", 200
DIRECTION = (
    "as published by NAS-Bench-Suite-Zero: NASLib's sign and scale, not converted to "
    "tfnas-db's higher-is-better convention"
)


def scorer_of_proxy(proxy: str) -> str:
    return NASLIB_TO_TFNAS.get(proxy, proxy)


def proxy_of_scorer(scorer: str) -> str:
    return TFNAS_TO_NASLIB.get(scorer, scorer)


@dataclass(frozen=True)
class ProxyScore:
    arch_str: str
    value: float | None  # None: not finite (status nan)
    seconds: float


@dataclass
class ZcDataset:
    """One dataset's part of a file: per proxy, the scores; and NASLib's val_accuracy."""

    name: str
    proxies: dict[str, list[ProxyScore]] = field(default_factory=dict)
    val_accuracy: dict[str, float] = field(default_factory=dict)
    n_archs: int = 0
    ignored: set[str] = field(default_factory=set)  # fields that are not proxies


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TfnasError(f"{where} must be a number, found {value!r}")
    number = float(value)
    return number if math.isfinite(number) else None


def _parse_dataset(name: str, records: Any, path: Path) -> ZcDataset:
    where = f"{path.name}: {name}"
    if not isinstance(records, dict):
        raise TfnasError(f"{where} must map architecture keys to records, found {records!r:.60}")
    part = ZcDataset(name=name, n_archs=len(records))
    for key, record in records.items():
        try:
            arch = nats_tss.from_naslib_tuple(key)
        except TfnasError as exc:
            raise TfnasError(
                f"{where}: key {key!r} is not a NAS-Bench-201 op tuple ({exc}); tfnas-db "
                "imports zc_nasbench201.json files"
            ) from None
        if not isinstance(record, dict):
            raise TfnasError(f"{where}: record {key} must be an object, found {record!r:.60}")
        val = _number(record.get("val_accuracy"), f"{where}: {key} val_accuracy")
        if val is not None:
            part.val_accuracy[arch] = val
        for proxy, entry in record.items():
            if proxy in RECORD_FIELDS:
                continue
            if not isinstance(entry, dict):
                part.ignored.add(proxy)  # e.g. another accuracy: not a proxy, not ours to keep
                continue
            if "score" not in entry:
                raise TfnasError(
                    f"{where}: {key} field {proxy!r} is an object without a score; a proxy reads "
                    '{"score": ..., "time": ...}'
                )
            score = _number(entry["score"], f"{where}: {key} {proxy} score")
            seconds = _number(entry.get("time"), f"{where}: {key} {proxy} time")
            part.proxies.setdefault(proxy, []).append(ProxyScore(arch, score, seconds or 0.0))
    return part


def read_zc_file(path: Path) -> list[ZcDataset]:
    """Parse and check a whole file before anything is written."""
    if not path.is_file():
        raise TfnasError(f"no NAS-Bench-Suite-Zero file at {path}")
    try:
        document = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TfnasError(
            f"{path} is not a JSON file ({exc}); expected zc_nasbench201.json"
        ) from None
    if not isinstance(document, dict) or not document:
        raise TfnasError(
            f"{path} is not a NAS-Bench-Suite-Zero file: expected an object "
            "{dataset: {arch key: record}}"
        )
    unknown = [name for name in document if name not in DATASETS]
    if unknown:
        raise TfnasError(
            f"{path.name} holds dataset(s) {', '.join(map(repr, unknown))}; tfnas-db knows "
            f"{', '.join(DATASETS)}"
        )
    return [_parse_dataset(name, records, path) for name, records in document.items()]


@dataclass(frozen=True)
class ZcImportSummary:
    file: str
    datasets: dict[str, int]  # dataset -> architectures in the file
    runs: dict[str, dict[str, int]]  # dataset -> label -> run id
    ignored: dict[str, list[str]]  # dataset -> record fields that were not proxies


def import_zc_file(store: Store, path: Path) -> ZcImportSummary:
    """Import every dataset and proxy of a file in one transaction (all or nothing)."""
    parts = read_zc_file(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    ensure_seeded(store, SPACE)
    runs: dict[str, dict[str, int]] = {}
    source = f"imported: {path.name} ({FORMAT} val_accuracy)"[:255]
    with store.session() as session:
        for part in parts:
            space_id, dataset_id = space_and_dataset_ids(session, SPACE, part.name)
            ids = architecture_ids(session, space_id)
            runs[part.name] = {}
            for proxy, scores in part.proxies.items():
                scorer = scorer_of_proxy(proxy)
                run = imported_run(
                    session,
                    space_id=space_id,
                    dataset_id=dataset_id,
                    scorer=scorer,
                    data_source=DATA_SOURCE,
                    provenance={
                        "format": FORMAT,
                        "file": path.name,
                        "sha256": digest,
                        "proxy": proxy,
                        "direction": DIRECTION,
                    },
                )
                # keyed by architecture: two spellings of one key ("(0,1,...)") are one row
                rows = {
                    ids[s.arch_str]: {
                        "run_id": run.id,
                        "architecture_id": ids[s.arch_str],
                        "value": s.value,
                        "seconds": s.seconds,
                        "status": ScoreStatus.OK if s.value is not None else ScoreStatus.NAN,
                        "error": None,
                        "host": None,
                        "device": None,
                    }
                    for s in scores
                }
                upsert_scores(session, list(rows.values()))
                runs[part.name][run_label(scorer, "imported", DATA_SOURCE)] = run.id
            upsert_benchmark_results(
                session,
                [
                    {
                        "architecture_id": ids[arch],
                        "dataset_id": dataset_id,
                        "metric": VAL_METRIC,
                        "epochs": VAL_EPOCHS,
                        "value": value,
                        "n_seeds": None,
                        "source": source,
                    }
                    for arch, value in part.val_accuracy.items()
                ],
            )
    store.refresh_statistics()
    return ZcImportSummary(
        file=str(path),
        datasets={p.name: p.n_archs for p in parts},
        runs=runs,
        ignored={p.name: sorted(p.ignored) for p in parts if p.ignored},
    )


def _runs_to_export(
    session: Session, dataset: str, labels: Iterable[str] | None
) -> tuple[dict[str, RunInfo], list[str]]:
    """proxy name -> the run written under it, and notes on what was left out.

    Our run and an imported run of one scorer map to the same NASLib name; ours is written
    unless the labels ask for the imported one."""
    held = sorted({run.label for run in list_runs(session, SPACE, dataset) if run.n_scores})
    wanted = [label for label in (labels or held) if label in held]
    chosen: dict[str, RunInfo] = {}
    notes: list[str] = []
    for label in sorted(wanted, key=lambda name: ("@" in name, name)):
        proxy = proxy_of_scorer(label_scorer(label))
        if proxy in chosen:
            notes.append(
                f"{dataset}: {proxy} written from {chosen[proxy].label}, not {label} "
                f"(pass --scorers {label} to write that one)"
            )
            continue
        chosen[proxy] = _fullest(session, dataset, label)
    return chosen, notes


def _fullest(session: Session, dataset: str, label: str) -> RunInfo:
    runs = list_runs(session, SPACE, dataset, label)
    usable = [run for run in runs if run.n_ok > 0]
    return pick_run(session, SPACE, dataset, label) if usable else max(runs, key=lambda r: r.id)


def _proxy_rank(proxy: str) -> tuple[int, str]:
    return (PROXY_ORDER.index(proxy), "") if proxy in PROXY_ORDER else (len(PROXY_ORDER), proxy)


def zc_document(
    session: Session, datasets: Iterable[str] | None = None, labels: Iterable[str] | None = None
) -> tuple[dict[str, dict[str, dict[str, Any]]], list[str]]:
    """The NAS-Bench-Suite-Zero document of the store, and notes on runs left out.

    ``idx`` is written as the NATS-Bench index (the store does not keep NASLib's running
    index); ``val_accuracy`` is NASLib's imported figure where the store has one, else our
    200-epoch validation accuracy, else null.
    """
    names = list(datasets) if datasets else list(DATASETS)
    labels = list(labels) if labels else None
    document: dict[str, dict[str, dict[str, Any]]] = {}
    notes: list[str] = []
    for dataset in names:
        chosen, left_out = _runs_to_export(session, dataset, labels)
        notes += left_out
        if not chosen:
            continue
        space_id, dataset_id = space_and_dataset_ids(session, SPACE, dataset)
        naslib_val = benchmark_values(session, space_id, dataset_id, VAL_METRIC, VAL_EPOCHS)
        our_val = benchmark_values(session, space_id, dataset_id, "val", VAL_EPOCHS)
        proxy_of_run = {run.id: proxy for proxy, run in chosen.items()}
        by_arch: dict[int, tuple[str, dict[str, dict[str, float]]]] = {}
        for score in stored_scores(session, list(proxy_of_run)):
            if score.status == ScoreStatus.ERROR:
                continue  # NASLib leaves out what failed
            key = score.alt_key or ""
            entry = by_arch.setdefault(score.arch_index, (key, {}))[1]
            value = score.value if score.status == ScoreStatus.OK else float("nan")
            entry[proxy_of_run[score.run_id]] = {"score": value, "time": score.seconds}
        records: dict[str, dict[str, Any]] = {}
        for index in sorted(by_arch):
            key, proxies = by_arch[index]
            record: dict[str, Any] = {"idx": str(index), "arch": key}
            for proxy in sorted(proxies, key=_proxy_rank):
                record[proxy] = proxies[proxy]
            record["val_accuracy"] = naslib_val.get(index, our_val.get(index))
            records[key] = record
        document[dataset] = records
    return document, notes


def write_zc_document(document: dict[str, Any]) -> str:
    """JSON text as Python's json writes it (NaN for a non-finite score, as NASLib's is)."""
    return json.dumps(document) + "\n"
