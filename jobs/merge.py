"""``tfnas-db db merge``: combine stores filled separately (``populate --shard i/n``).

Score runs are matched by their identity (space, dataset, scorer, scorer version, data
source, batch size, seed), not by id, and architectures by their index in the space
(their arch strings must agree). A score already in the destination is compared with
the incoming one: the same status and, for finite values, equal within ``rtol``;
anything else stops the merge with a line naming the run and architecture, and since
the whole merge is one transaction nothing is written. A stored ``error`` is a failure
to score, not a value: a source that has a value for it replaces it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tfnas_db.db.models import Architecture, Dataset, Score, ScoreRun, ScoreStatus, SearchSpace
from tfnas_db.db.scores import insert_scores
from tfnas_db.errors import TfnasError, check_finite

DEFAULT_RTOL = 1e-6
_RUN_COPIED = (
    "data_dir",
    "device",
    "torch_version",
    "package_version",
    "host",
    "started_at",
    "finished_at",
    "origin",
    "provenance",
)
_SCORE_COPIED = ("value", "seconds", "status", "error", "host", "device")

RunIdentity = tuple[str, str, str, int, str, int, int]


@dataclass
class MergeSummary:
    runs_created: int = 0
    runs_matched: int = 0
    scores_inserted: int = 0
    scores_identical: int = 0
    errors_replaced: int = 0


def _identity(run: ScoreRun, spaces: dict[int, str], datasets: dict[int, str]) -> RunIdentity:
    return (
        spaces[run.space_id],
        datasets[run.dataset_id],
        run.scorer,
        run.scorer_version,
        run.data_source,
        run.batch_size,
        run.seed,
    )


def _describe(identity: RunIdentity) -> str:
    space, dataset, scorer, version, data, batch, seed = identity
    return f"{scorer} v{version} on {space}/{dataset} ({data} data, batch {batch}, seed {seed})"


def _names(session: Session, model: type[SearchSpace] | type[Dataset]) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(model.id, model.name))}


def _architectures(session: Session) -> dict[tuple[str, int], tuple[int, str]]:
    """(space name, index) -> (id, arch string)."""
    rows = session.execute(
        select(
            SearchSpace.name, Architecture.arch_index, Architecture.id, Architecture.arch_str
        ).join(SearchSpace, SearchSpace.id == Architecture.space_id)
    )
    return {(space, index): (arch_id, arch) for space, index, arch_id, arch in rows}


def _agree(old: dict[str, Any], new: dict[str, Any], rtol: float) -> bool:
    if old["status"] != new["status"]:
        return False
    if old["value"] is None or new["value"] is None:
        return old["value"] is None and new["value"] is None
    return math.isclose(old["value"], new["value"], rel_tol=rtol, abs_tol=1e-12)


def merge_into(
    dest: Session, sources: Sequence[tuple[str, Session]], rtol: float = DEFAULT_RTOL
) -> MergeSummary:
    """Copy every score run and score of ``sources`` (name, session) into ``dest``."""
    check_finite(rtol, "--rtol")
    if rtol < 0:
        raise TfnasError(f"--rtol must not be negative, got {rtol}")
    summary = MergeSummary()
    dest_spaces = {name: i for i, name in _names(dest, SearchSpace).items()}
    dest_datasets = {name: i for i, name in _names(dest, Dataset).items()}
    dest_archs = _architectures(dest)
    dest_runs = {
        _identity(run, _names(dest, SearchSpace), _names(dest, Dataset)): run
        for run in dest.scalars(select(ScoreRun))
    }
    for source_name, src in sources:
        spaces, datasets = _names(src, SearchSpace), _names(src, Dataset)
        src_archs = {arch_id: key for key, (arch_id, _) in _architectures(src).items()}
        src_strs = {arch_id: arch for (arch_id, arch) in _architectures(src).values()}
        for run in src.scalars(select(ScoreRun).order_by(ScoreRun.id)):
            identity = _identity(run, spaces, datasets)
            if identity[0] not in dest_spaces or identity[1] not in dest_datasets:
                raise TfnasError(
                    f"{source_name} has scores on {identity[0]}/{identity[1]}, which the "
                    "destination does not hold; seed it first: tfnas-db db seed --db DST"
                )
            target = dest_runs.get(identity)
            if target is None:
                target = ScoreRun(
                    space_id=dest_spaces[identity[0]],
                    dataset_id=dest_datasets[identity[1]],
                    scorer=run.scorer,
                    scorer_version=run.scorer_version,
                    data_source=run.data_source,
                    batch_size=run.batch_size,
                    seed=run.seed,
                    **{name: getattr(run, name) for name in _RUN_COPIED},
                )
                dest.add(target)
                dest.flush()
                dest_runs[identity] = target
                summary.runs_created += 1
            else:
                summary.runs_matched += 1
            existing = {
                row.architecture_id: {"id": row.id, "value": row.value, "status": row.status}
                for row in dest.execute(
                    select(Score.id, Score.architecture_id, Score.value, Score.status).where(
                        Score.run_id == target.id
                    )
                )
            }
            inserts = []
            for score in src.scalars(select(Score).where(Score.run_id == run.id)):
                space, index = src_archs[score.architecture_id]
                if (space, index) not in dest_archs:
                    raise TfnasError(
                        f"{source_name}: architecture {index} of {space} is not in the destination"
                    )
                arch_id, arch = dest_archs[(space, index)]
                if arch != src_strs[score.architecture_id]:
                    raise TfnasError(
                        f"{source_name}: architecture {index} of {space} is "
                        f"{src_strs[score.architecture_id]} there but {arch} in the destination"
                    )
                new = {name: getattr(score, name) for name in _SCORE_COPIED}
                old = existing.get(arch_id)
                if old is None:
                    inserts.append({"run_id": target.id, "architecture_id": arch_id, **new})
                    existing[arch_id] = {"id": None, "value": new["value"], "status": new["status"]}
                elif _agree(old, new, rtol):
                    summary.scores_identical += 1
                elif old["status"] == ScoreStatus.ERROR and old["id"] is not None:
                    dest.execute(update(Score).where(Score.id == old["id"]).values(**new))
                    old.update(value=new["value"], status=new["status"])
                    summary.errors_replaced += 1
                elif new["status"] == ScoreStatus.ERROR:
                    summary.scores_identical += 1  # a failure elsewhere; the value stays
                else:
                    raise TfnasError(
                        f"{source_name} disagrees with the stores merged before it on "
                        f"{_describe(identity)}, architecture {index}: {new['status']} "
                        f"{new['value']!r} vs {old['status']} {old['value']!r} (beyond rtol "
                        f"{rtol:g}); nothing was merged"
                    )
            insert_scores(dest, inserts)
            summary.scores_inserted += len(inserts)
    return summary
