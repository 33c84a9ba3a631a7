"""Turning a search's picks into what a paper table reports."""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfnas_db.search.random_search import SearchResult


@dataclass(frozen=True)
class PickedArch:
    arch_index: int
    arch_str: str
    times_picked: int
    score: float
    params_m: float
    accuracy: float


@dataclass(frozen=True)
class SearchSummary:
    runs: int
    n: int
    accuracy_mean: float
    accuracy_std: float
    regret_mean: float
    best_accuracy: float
    params_mean: float
    search_seconds_mean: float  # simulated: sum of stored scoring seconds of the sampled archs
    top_picks: list[PickedArch]

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "top_picks"}
        out["top_picks"] = [p.__dict__ for p in self.top_picks]
        return out


def summarise(
    result: SearchResult,
    *,
    arch_index: np.ndarray,
    arch_str: np.ndarray,
    score: np.ndarray,
    params_m: np.ndarray,
    accuracy: np.ndarray,
    seconds: np.ndarray,
    best_accuracy: float,
    top: int = 5,
) -> SearchSummary:
    picked_acc = accuracy[result.picks]
    with warnings.catch_warnings():  # score-only results: no accuracy stored, all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        accuracy_mean = float(np.nanmean(picked_acc))
        accuracy_std = float(np.nanstd(picked_acc))
    counts = Counter(result.picks.tolist())
    top_picks = [
        PickedArch(
            arch_index=int(arch_index[row]),
            arch_str=str(arch_str[row]),
            times_picked=times,
            score=float(score[row]),
            params_m=float(params_m[row]),
            accuracy=float(accuracy[row]),
        )
        for row, times in counts.most_common(top)
    ]
    return SearchSummary(
        runs=len(result.picks),
        n=int(np.max(result.evaluations)),
        accuracy_mean=accuracy_mean,
        accuracy_std=accuracy_std,
        regret_mean=float(best_accuracy - accuracy_mean),
        best_accuracy=best_accuracy,
        params_mean=float(np.mean(params_m[result.picks])),
        search_seconds_mean=float(np.mean(result.seconds_per_run(seconds))),
        top_picks=top_picks,
    )
