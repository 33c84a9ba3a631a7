"""Rank correlations of scores against accuracies (Kendall tau, Spearman rho)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.search.etnas import utopian_distance
from tfnas_db.search.rank_stats import kendall_tau_b, spearman_rho

_BENCHMARK_COLUMN = re.compile(r"_\d+ep$")
UTOPIAN = "utopian"
UTOPIAN_MEASURES = ("naswot", "logsynflow", "loss_slope")
UTOPIAN_NOTE = (
    "utopian: ET-NAS's combined measure, minus the distance of (naswot, logsynflow, "
    "loss_slope), each divided by its maximum, to (1, 1, 1)"
)


@dataclass(frozen=True)
class Correlation:
    scorer: str
    accuracy: str
    n: int
    kendall_tau: float
    spearman_rho: float
    top10_kendall_tau: float  # within the top 10 % of those architectures by accuracy
    top10_n: int


def _tau(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return kendall_tau_b(x, y)


def correlate(
    scorer: str, scores: np.ndarray, accuracy_name: str, accuracy: np.ndarray
) -> Correlation:
    """Correlation over the architectures where both the score and the accuracy are finite."""
    ok = np.isfinite(scores) & np.isfinite(accuracy)
    x, y = np.asarray(scores)[ok], np.asarray(accuracy)[ok]
    rho = float("nan")
    if len(x) >= 2 and not (np.all(x == x[0]) or np.all(y == y[0])):
        rho = spearman_rho(x, y)
    top = np.zeros(len(y), dtype=bool)
    if len(y):
        cutoff = np.quantile(y, 0.9)
        top = y >= cutoff
    return Correlation(
        scorer=scorer,
        accuracy=accuracy_name,
        n=len(x),
        kendall_tau=_tau(x, y),
        spearman_rho=rho,
        top10_kendall_tau=_tau(x[top], y[top]),
        top10_n=int(top.sum()),
    )


def is_benchmark_column(name: str) -> bool:
    """Benchmark columns end in ``_<epochs>ep``; run labels never do."""
    return bool(_BENCHMARK_COLUMN.search(name))


def correlation_rows(
    table: Any, scorers: Iterable[str], against: Sequence[str] | None = None
) -> list[Correlation]:
    """Every scorer of a wide table (:func:`tfnas_db.db.tables.wide_table`) against every
    accuracy column, or against the ``against`` columns, which may be other run labels:
    ``against=["naswot"]`` for ``naswot@naslib`` is NASLib's naswot ranked against ours.
    Where the scorers include naswot, logsynflow and loss_slope, a ``utopian`` row per
    accuracy column follows them (ET-NAS's combined measure, Table III). Shared by
    ``tfnas-db correlate``, the Python API and the dashboard, so all three print the same
    table."""
    names = list(scorers)
    columns = list(against) if against else [c for c in table.columns if "_acc_" in c]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        held = [c for c in table.columns if is_benchmark_column(c) or c in names]
        raise TfnasError(
            f"cannot correlate against {', '.join(missing)}: not a stored scorer or benchmark "
            f"column; columns held: {', '.join(held)}"
        )
    rows = [
        correlate(name, table[name].to_numpy(float), column, table[column].to_numpy(float))
        for name in names
        for column in columns
        if column != name
    ]
    accuracies = [c for c in columns if is_benchmark_column(c) and "_acc_" in c]
    if accuracies and set(UTOPIAN_MEASURES) <= set(names):
        rows += utopian_correlations(
            {name: table[name].to_numpy(float) for name in UTOPIAN_MEASURES},
            {column: table[column].to_numpy(float) for column in accuracies},
        )
    return rows


@dataclass(frozen=True)
class CorrelationPlan:
    """What to correlate: ``labels`` (None: every stored scorer) against ``targets`` (None:
    every accuracy column), and the labels the wide table must load for that."""

    labels: list[str] | None
    targets: list[str] | None

    @property
    def load(self) -> list[str] | None:
        if self.labels is None:
            return None
        extra = [c for c in self.targets or [] if not is_benchmark_column(c)]
        return self.labels + [c for c in extra if c not in self.labels]


def _names(value: str | Iterable[str] | None) -> list[str]:
    parts = value.split(",") if isinstance(value, str) else list(value or [])
    return [part.strip() for part in parts if part.strip()]


def _target(name: str, canonical: Callable[[str], str]) -> str:
    """An ``against`` column: a benchmark column, a scorer's label (aliases resolved), or
    left as given so the table's check names it beside the columns the store holds."""
    if is_benchmark_column(name):
        return name
    try:
        return canonical(name)
    except TfnasError:
        return name


def plan_correlation(
    scorers: str | Iterable[str] | None, against: str | Iterable[str] | None
) -> CorrelationPlan:
    """Scorer names and ``against`` columns as the CLI and the API take them (comma-separated
    or listed; aliases such as ``nwot`` resolved) -> a :class:`CorrelationPlan`."""
    from tfnas_db.scoring.registry import canonical_label

    labels = list(dict.fromkeys(canonical_label(name) for name in _names(scorers)))
    targets = [_target(c, canonical_label) for c in _names(against)]
    return CorrelationPlan(labels=labels or None, targets=list(dict.fromkeys(targets)) or None)


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


def source_run_ids(scorer: str, runs: Mapping[str, _HasId]) -> int | list[int]:
    """The id of the score run a correlation row was computed from (``runs``: the wide
    table's runs by label); the ``utopian`` row names the three runs it combines."""
    if scorer == UTOPIAN:
        return [runs[name].id for name in UTOPIAN_MEASURES]
    return runs[scorer].id


def utopian_score(naswot: np.ndarray, logsynflow: np.ndarray, loss_slope: np.ndarray) -> np.ndarray:
    """ET-NAS's utopian-point measure as a "higher is better" score: minus the distance of
    the max-normalised (naswot, logsynflow, loss_slope) to (1, 1, 1). The maxima are taken
    over the architectures that hold all three finite scores; the others get nan."""
    stacked = np.column_stack([naswot, logsynflow, loss_slope]).astype(np.float64)
    ok = np.all(np.isfinite(stacked), axis=1)
    score = np.full(len(stacked), np.nan)
    if ok.any():
        score[ok] = -utopian_distance(stacked[ok, 0], stacked[ok, 1], stacked[ok, 2])
    return score


def utopian_correlations(
    scores: dict[str, np.ndarray], accuracies: dict[str, np.ndarray]
) -> list[Correlation]:
    """The utopian-point measure's correlation with each accuracy column, when ``scores``
    holds all of naswot, logsynflow and loss_slope (else none): ET-NAS Table III's
    "Utopian" column."""
    if not set(UTOPIAN_MEASURES) <= set(scores):
        return []
    combined = utopian_score(*(scores[name] for name in UTOPIAN_MEASURES))
    return [correlate(UTOPIAN, combined, name, values) for name, values in accuracies.items()]
