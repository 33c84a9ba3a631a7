"""What a store holds and what is missing, with the ``populate`` command that fills each gap.

The dashboard's overview page and ``tfnas-db db status`` read this; it answers the first
question a new user has ("is my store complete, and what do I run if not?") without
opening a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tfnas_db.db.models import ArchCost, Architecture, Dataset, SearchSpace
from tfnas_db.db.queries import RunInfo, list_runs
from tfnas_db.scoring.spaces import DEFAULT_SPACE

REAL = "real"  # ScoreRun.data_source of a run on a --data-dir minibatch


@dataclass(frozen=True)
class RunCoverage:
    run: RunInfo
    n_archs: int  # architectures of the run's space

    @property
    def fraction(self) -> float:
        return self.run.n_scores / self.n_archs if self.n_archs else 0.0

    @property
    def complete(self) -> bool:
        return self.run.n_scores >= self.n_archs


@dataclass(frozen=True)
class Gap:
    """A piece of the store that is missing or incomplete, and the command that fills it."""

    space: str
    dataset: str
    scorers: tuple[str, ...]
    reason: str
    command: str


@dataclass(frozen=True)
class StoreOverview:
    spaces: dict[str, int]  # space -> architectures seeded
    datasets: list[str]  # datasets with seeded sizes/accuracies
    coverage: list[RunCoverage]
    gaps: list[Gap]

    @property
    def empty(self) -> bool:
        return not self.coverage

    def scored_datasets(self, space: str) -> list[str]:
        """Datasets holding at least one score run on ``space``."""
        return sorted({c.run.dataset for c in self.coverage if c.run.space == space})


def populate_command(run: RunInfo | None, space: str, dataset: str, scorers: list[str]) -> str:
    """The command that creates or resumes a run (resuming needs its exact configuration)."""
    parts = ["tfnas-db populate", f"--dataset {dataset}", f"--scorers {','.join(scorers)}"]
    if space != DEFAULT_SPACE:
        parts.append(f"--space {space}")
    if run is not None:
        if run.batch_size != 128:
            parts.append(f"--batch-size {run.batch_size}")
        if run.seed != 0:
            parts.append(f"--seed {run.seed}")
        flag = data_flag(run)
        if flag:
            parts.append(flag)
    return " ".join(parts)


def data_flag(run: RunInfo) -> str:
    """The ``--data`` option a populate needs to resume ``run``: none where the run used its
    scorer's default source (``tfnas-db scorers``), which populate picks by itself."""
    if run.data_source == REAL:
        return "--data real --data-dir DIR"
    if run.data_source == "none":
        return ""
    from tfnas_db.errors import TfnasError
    from tfnas_db.scoring.registry import REGISTRY  # numpy only: no torch is imported

    try:
        default = REGISTRY.get(run.scorer).default_data
    except TfnasError:  # a scorer this version does not know: name the source explicitly
        default = None
    return "" if run.data_source == default else f"--data {run.data_source}"


def _seeded(session: Session) -> tuple[dict[str, int], dict[str, list[str]]]:
    spaces = dict(
        session.execute(
            select(SearchSpace.name, func.count(Architecture.id))
            .join(Architecture, Architecture.space_id == SearchSpace.id)
            .group_by(SearchSpace.name)
        ).all()
    )
    per_space: dict[str, list[str]] = {name: [] for name in spaces}
    rows = session.execute(
        select(SearchSpace.name, Dataset.name)
        .select_from(ArchCost)
        .join(Architecture, Architecture.id == ArchCost.architecture_id)
        .join(SearchSpace, SearchSpace.id == Architecture.space_id)
        .join(Dataset, Dataset.id == ArchCost.dataset_id)
        .distinct()
    ).all()
    for space, dataset in rows:
        per_space[space].append(dataset)
    return spaces, {k: sorted(v) for k, v in per_space.items()}


def _incomplete_runs(coverage: list[RunCoverage]) -> list[Gap]:
    """One gap per group of incomplete runs that one populate filled (same configuration
    and extent), so a resume is a single command."""
    groups: dict[tuple[str, str, int, int, str, int], list[RunCoverage]] = {}
    for item in coverage:
        run = item.run
        if not item.complete and run.origin != "imported":  # populate cannot fill those
            key = (
                run.space,
                run.dataset,
                run.batch_size,
                run.seed,
                data_flag(run),
                run.n_scores,
            )
            groups.setdefault(key, []).append(item)
    gaps = []
    for (space, dataset, *_), items in groups.items():
        names = [c.run.scorer for c in items]
        counts = ", ".join(f"{c.run.scorer} #{c.run.id}: {c.run.n_scores}" for c in items)
        gaps.append(
            Gap(
                space=space,
                dataset=dataset,
                scorers=tuple(names),
                reason=f"incomplete runs ({counts} of {items[0].n_archs} architectures)",
                command=populate_command(items[0].run, space, dataset, names),
            )
        )
    return gaps


def _absent_defaults(
    coverage: list[RunCoverage], datasets: dict[str, list[str]], default_scorers: tuple[str, ...]
) -> list[Gap]:
    """Per seeded (space, dataset): the default scorers without any run."""
    gaps = []
    for space, names in datasets.items():
        for dataset in names:
            held = {
                c.run.label for c in coverage if (c.run.space, c.run.dataset) == (space, dataset)
            }
            absent = tuple(name for name in default_scorers if name not in held)
            if absent:
                gaps.append(
                    Gap(
                        space=space,
                        dataset=dataset,
                        scorers=absent,
                        reason=f"no {', '.join(absent)} scores on {dataset}",
                        command=populate_command(None, space, dataset, list(absent)),
                    )
                )
    return gaps


def store_overview(session: Session, default_scorers: tuple[str, ...]) -> StoreOverview:
    """Coverage of every score run, and the gaps: incomplete runs and, per seeded dataset,
    default scorers with no run at all."""
    spaces, datasets = _seeded(session)
    coverage = [
        RunCoverage(run=run, n_archs=spaces.get(run.space, 0)) for run in list_runs(session)
    ]
    gaps = _incomplete_runs(coverage) + _absent_defaults(coverage, datasets, default_scorers)
    all_datasets = sorted({d for names in datasets.values() for d in names})
    return StoreOverview(spaces=spaces, datasets=all_datasets, coverage=coverage, gaps=gaps)
