"""Running one configured search over a loaded :class:`ScoreTable`.

Shared by ``tfnas-db search`` and the dashboard's search page, so both apply hard size
limits, validate N against the candidates and summarise the picks the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from tfnas_db.db.queries import (
    AccuracyColumn,
    ScoreTable,
    best_accuracy,
    load_score_table,
    optional_accuracy_column,
)
from tfnas_db.errors import ScoresNeeded, TfnasError, check_finite, check_seed
from tfnas_db.scoring.spaces import get_space
from tfnas_db.search.penalties import check_mu_sigma, get_penalty
from tfnas_db.search.random_search import SearchResult
from tfnas_db.search.strategies import SearchInputs, SearchOptions, get_strategy
from tfnas_db.search.summary import SearchSummary, summarise


@dataclass(frozen=True)
class SearchOutcome:
    """A search's picks with what the reports need beside them.

    ``score`` is the column the strategy ranks by (its first scorer; the 12-epoch
    validation accuracy for the training baselines) and ``seconds`` its stored cost.
    """

    result: SearchResult
    summary: SearchSummary
    score: np.ndarray
    seconds: np.ndarray
    with_accuracy: int  # candidates the search could pick from that hold an accuracy
    note: str | None = None  # what a reader must know to read the figures (shown by callers)


def check_options(options: SearchOptions) -> None:
    """What every caller checks before loading anything (the CLI and the Python API)."""
    if options.n < 1:
        raise TfnasError(f"--n must be at least 1, got {options.n}")
    if options.runs < 1:
        raise TfnasError(f"--runs must be at least 1, got {options.runs}")
    check_seed(options.seed)
    check_finite(options.mu, "--mu")
    check_finite(options.sigma, "--sigma")
    get_penalty(options.penalty)
    check_mu_sigma(options.mu, options.sigma)


def search_scorers(
    strategy: str, scorer: str | None, space: str, options: SearchOptions
) -> list[str]:
    """Everything a search checks before it touches the store; the stored labels it ranks by."""
    from tfnas_db.scoring.registry import canonical_label

    chosen = get_strategy(strategy)
    check_strategy_space(strategy, space)
    check_options(options)
    return [canonical_label(name) for name in chosen.scorers(scorer)]


@dataclass(frozen=True)
class StoredSearch:
    """A search run on one query's candidates, with what its reports name beside it."""

    outcome: SearchOutcome
    table: ScoreTable
    column: AccuracyColumn | None  # None: the store holds no accuracy (score-only results)
    best: float
    load_seconds: float
    search_seconds: float


def stored_search(
    session: Session,
    *,
    space: str,
    dataset: str,
    strategy: str,
    scorers: list[str],
    options: SearchOptions,
    metric: str | None = None,
    epochs: int | None = None,
    run_id: int | None = None,
    max_flops: float | None = None,
) -> StoredSearch:
    """Load the candidates in one query and run the search: ``tfnas-db search`` and the
    Python API call this, so both read the same column and pick the same architectures."""
    started = time.perf_counter()
    column = optional_accuracy_column(session, space, dataset, metric, epochs)
    on_demand = get_strategy(strategy).on_demand
    table = load_score_table(session, space, dataset, scorers, column, run_id, on_demand)
    best = best_accuracy(session, space, dataset, column)
    loaded = time.perf_counter()
    outcome = run_search(table, space, strategy, options, max_flops=max_flops, best_accuracy=best)
    return StoredSearch(
        outcome, table, column, best, loaded - started, time.perf_counter() - loaded
    )


def search_inputs(table: ScoreTable, space: str, eligible: np.ndarray) -> SearchInputs:
    info = get_space(space)
    return SearchInputs(
        scores=table.scores,
        seconds=table.seconds,
        params_m=table.params_m,
        val_acc_12ep=table.val_acc_12ep,
        train_seconds_full=table.train_seconds_full,
        full_schedule_epochs=info.benchmark.full_schedule_epochs,
        codes=info.codes(np.asarray(table.arch_index, dtype=np.int64)),
        neighbour_codes=info.neighbour_codes,
        eligible=eligible,
    )


def check_strategy_space(strategy: str, space: str) -> None:
    """Refuse, before any query, a strategy built on a notion the space does not define
    (ET-NAS filters children by their cell's Degree: nats-tss only)."""
    chosen = get_strategy(strategy)
    info = get_space(space)
    if chosen.requires is not None and not info.supports(chosen.requires):
        raise TfnasError(
            f"strategy {strategy!r} is not defined on {space}: {info.why_not(chosen.requires)}"
        )


def eligible_rows(
    table: ScoreTable, max_params: float | None, max_flops: float | None
) -> np.ndarray:
    eligible = np.ones(len(table), dtype=bool)
    if max_params is not None:
        eligible &= table.params_m <= max_params
    if max_flops is not None:
        eligible &= table.flops_m <= max_flops
    return eligible


def run_search(
    table: ScoreTable,
    space: str,
    strategy: str,
    options: SearchOptions,
    *,
    max_flops: float | None = None,
    best_accuracy: float = float("nan"),
) -> SearchOutcome:
    """Run ``strategy`` on the table's candidates and summarise its picks.

    ``options.max_params`` is a hard limit for every strategy but ``pareto``, for which
    it is the size budget of the pick (the front itself spans all sizes).
    """
    chosen = get_strategy(strategy)
    check_strategy_space(strategy, space)
    if options.penalty != "none" and not chosen.penalisable:
        raise TfnasError(
            f"--penalty applies to strategies that rank by a score; {strategy} ranks by "
            "12-epoch validation accuracy"
        )
    if (
        not chosen.penalisable
        and not (np.isfinite(table.val_acc_12ep) & np.isfinite(table.train_seconds_full)).any()
    ):
        raise TfnasError(
            f"{strategy} simulates training from 12-epoch validation accuracy and recorded "
            f"training seconds, which the store does not hold for {space}; bring them in "
            f"with: {get_space(space).accuracy_hint}"
        )
    hard_params = None if strategy == "pareto" else options.max_params
    eligible = eligible_rows(table, hard_params, max_flops)
    size_limited = bool((~eligible).any())
    note = None
    has_accuracy = np.isfinite(table.accuracy)
    held = int(has_accuracy.sum())
    if table.column is not None and 0 < held < len(table):
        # an import covering part of the space: picks without an accuracy would make the
        # mean a mean over whichever few picks happen to have one; search those that do
        eligible &= has_accuracy
        note = (
            f"{table.column.key} is stored for {held} of the {len(table)} candidates (an "
            f"import covering part of {space}); the search ran over those {held}"
        )
    available = int(eligible.sum())
    what = ", ".join(table.scores) or "benchmark"
    if available == 0:
        raise TfnasError(f"no architecture with stored {what} scores fits the size limits")
    if chosen.uses_n and options.n > available:
        limits = " within the size limits" if size_limited else ""
        if note is not None and table.column is not None:
            limits = f" that also hold {table.column.key}{limits}"
        raise TfnasError(
            f"--n {options.n} is larger than the {available} architectures with a stored "
            f"{what} score{limits}; lower --n or populate more architectures"
        )
    try:
        result = chosen.run(search_inputs(table, space, eligible), options)
    except ScoresNeeded as needed:
        raise needed.located(table.arch_index) from None
    primary = next(iter(table.scores), None)
    score = table.scores[primary] if primary else table.val_acc_12ep
    seconds = table.seconds[primary] if primary else np.zeros(len(table))
    summary = summarise(
        result,
        arch_index=table.arch_index,
        arch_str=table.arch_str,
        score=score,
        params_m=table.params_m,
        accuracy=table.accuracy,
        seconds=seconds,
        best_accuracy=best_accuracy,
    )
    return SearchOutcome(
        result=result,
        summary=summary,
        score=score,
        seconds=seconds,
        with_accuracy=int((eligible & has_accuracy).sum()),
        note=note,
    )
