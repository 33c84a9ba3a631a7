"""The Python API for notebooks: ``store = tfnas_db.open()``, then tables and searches.

A thin skin like the CLI and the dashboard: every method calls the same query layer
(:mod:`tfnas_db.db.tables`, :mod:`tfnas_db.db.queries`, :mod:`tfnas_db.search.runner`),
so a notebook and ``tfnas-db`` print the same numbers. Nothing here imports torch: a
notebook that only reads the store starts in about a second.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING

from tfnas_db.db.store import Store, open_store
from tfnas_db.scoring.spaces import DEFAULT_SPACE
from tfnas_db.search.penalties import DEFAULT_MU, DEFAULT_SIGMA
from tfnas_db.search.strategies import SearchOptions

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

    from tfnas_db.db.arch_detail import ArchDetail
    from tfnas_db.search.runner import SearchOutcome


def _labels(scorers: str | Iterable[str] | None) -> list[str] | None:
    """Scorer names or run labels (``naswot``, ``nwot@naslib``), comma-separated or listed."""
    from tfnas_db.scoring.registry import canonical_labels

    if scorers is None:
        return None
    text = scorers if isinstance(scorers, str) else ",".join(scorers)
    return canonical_labels(text)


class TfnasStore:
    """An open store. Datasets are NATS-Bench names (``cifar10``, ``cifar100``,
    ``ImageNet16-120``); scorers are tfnas-db names, aliases (``nwot``) or imported labels
    (``naswot@naslib``); errors are :class:`tfnas_db.errors.TfnasError` with the same
    one-line messages the CLI prints."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __repr__(self) -> str:
        return f"TfnasStore({self.url!r})"

    @property
    def url(self) -> str:
        return self._store.url

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._store.session() as session:
            yield session

    def table(
        self,
        dataset: str = "cifar10",
        scorers: str | Iterable[str] | None = None,
        space: str = DEFAULT_SPACE,
        *,
        all_archs: bool = False,
    ) -> pd.DataFrame:
        """One row per architecture, the columns of ``tfnas-db export``: identity, size,
        every benchmark column and each scorer's score and seconds. Only architectures
        with a score unless ``all_archs``."""
        from tfnas_db.db.tables import wide_table
        from tfnas_db.scoring.datasets import get_dataset

        with self._session() as session:
            frame, _ = wide_table(
                session,
                space,
                get_dataset(dataset).name,
                _labels(scorers),
                only_scored=not all_archs,
            )
        return frame

    def arch(
        self, arch: int | str | tuple[int, ...] | list[int], space: str = DEFAULT_SPACE
    ) -> ArchDetail:
        """One architecture, given as its index, arch string or the space's other spellings
        (a NASLib tuple, a ``[matrix, ops]`` pair): identity, and per dataset its size,
        benchmark figures and scores (``.frame()`` for a table)."""
        from tfnas_db.db.arch_detail import arch_detail
        from tfnas_db.scoring.spaces import get_space

        token = json.dumps(list(arch)) if isinstance(arch, tuple | list) else str(arch)
        index, _ = get_space(space).resolve_arch(token)
        with self._session() as session:
            return arch_detail(session, space, index)

    def search(
        self,
        strategy: str = "random",
        scorer: str | None = None,
        penalty: str = "none",
        n: int = 100,
        runs: int = 500,
        *,
        dataset: str = "cifar10",
        space: str = DEFAULT_SPACE,
        seed: int = 0,
        mu: float = DEFAULT_MU,
        sigma: float = DEFAULT_SIGMA,
        population: int = 20,
        sample: int = 5,
        cycles: int | None = None,
        budget_seconds: float = 12000.0,
        metric: str | None = None,
        epochs: int | None = None,
        max_params: float | None = None,
        max_flops: float | None = None,
        run_id: int | None = None,
    ) -> SearchOutcome:
        """Run a strategy over stored scores, as ``tfnas-db search`` does with the same
        options; returns what the CLI renders: ``.summary`` (accuracy mean/std, regret,
        top picks), ``.result`` (picks per run) and the ranking score column."""
        from tfnas_db.scoring.datasets import get_dataset
        from tfnas_db.search.runner import search_scorers, stored_search

        options = SearchOptions(
            n=n,
            runs=runs,
            seed=seed,
            penalty=penalty,
            mu=mu,
            sigma=sigma,
            population=population,
            sample=sample,
            cycles=cycles,
            budget_seconds=budget_seconds,
            max_params=max_params,
        )
        scorers = search_scorers(strategy, scorer, space, options)
        with self._session() as session:
            return stored_search(
                session,
                space=space,
                dataset=get_dataset(dataset).name,
                strategy=strategy,
                scorers=scorers,
                options=options,
                metric=metric,
                epochs=epochs,
                run_id=run_id,
                max_flops=max_flops,
            ).outcome

    def correlate(
        self,
        dataset: str = "cifar10",
        scorers: str | Iterable[str] | None = None,
        against: str | Iterable[str] | None = None,
        space: str = DEFAULT_SPACE,
    ) -> pd.DataFrame:
        """Kendall tau, Spearman rho and top-10 % tau of each scorer against every
        accuracy column, or against ``against`` (benchmark columns or other scorers:
        ``correlate(scorers="naswot@naslib", against="naswot")``), as ``tfnas-db correlate``;
        with naswot, logsynflow and loss_slope stored, a ``utopian`` row whose ``score_run``
        lists the three runs."""
        import pandas as pd

        from tfnas_db.db.tables import wide_table
        from tfnas_db.scoring.datasets import get_dataset
        from tfnas_db.search.correlation import correlation_rows, plan_correlation, source_run_ids

        plan = plan_correlation(scorers, against)
        with self._session() as session:
            table, runs = wide_table(session, space, get_dataset(dataset).name, plan.load)
        rows = correlation_rows(table, plan.labels or list(runs), plan.targets)
        frame = pd.DataFrame([asdict(row) for row in rows])
        if len(frame):
            frame["score_run"] = [source_run_ids(row.scorer, runs) for row in rows]
        return frame

    def runs(self, dataset: str | None = None) -> pd.DataFrame:
        """Score runs (provenance and status counts), labelled as tables name them."""
        import pandas as pd

        from tfnas_db.db.queries import list_runs

        with self._session() as session:
            found = list_runs(session, dataset=dataset)
        return pd.DataFrame([{"label": run.label, **asdict(run)} for run in found])

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> TfnasStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open(url: str | None = None) -> TfnasStore:
    """The store at ``url`` (a SQLite path or a database URL); by default
    ``$TFNAS_DB_URL`` or ``./tfnas.db``, as the CLI's ``--db``."""
    return TfnasStore(open_store(url))
