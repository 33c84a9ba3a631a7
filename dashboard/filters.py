"""The explorer's filters as pure pandas functions (tested without Streamlit)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tfnas_db.scoring.spaces import DEFAULT_SPACE, get_space


def feature_columns(arch_strs: Iterable[str], space: str = DEFAULT_SPACE) -> pd.DataFrame:
    """The space's per-architecture filter columns (nats-tss: ``n_<op>``, how many of the
    cell's six edges carry each op; nats-sss: ``c1`` ... ``c5``, the widths)."""
    return pd.DataFrame(get_space(space).feature_columns(list(arch_strs)))


def op_count_columns(arch_strs: Iterable[str]) -> pd.DataFrame:
    """``n_<op>`` of nats-tss cells (see :func:`feature_columns`)."""
    return feature_columns(arch_strs, DEFAULT_SPACE)


@dataclass(frozen=True)
class ArchFilter:
    """What the explorer's widgets ask for; ``None`` leaves a bound open."""

    require_ops: Sequence[str] = ()
    exclude_ops: Sequence[str] = ()
    feature_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    params_range: tuple[float, float] | None = None
    score_name: str | None = None
    score_range: tuple[float, float] | None = None
    only_scored: bool = False


def filter_architectures(
    table: pd.DataFrame, spec: ArchFilter, scorers: Sequence[str] = ()
) -> pd.DataFrame:
    keep = np.ones(len(table), dtype=bool)
    for op in spec.require_ops:
        keep &= table[f"n_{op}"].to_numpy() > 0
    for op in spec.exclude_ops:
        keep &= table[f"n_{op}"].to_numpy() == 0
    for column, (low, high) in spec.feature_ranges.items():
        values = table[column].to_numpy(float)
        keep &= (values >= low) & (values <= high)
    if spec.params_range is not None:
        low, high = spec.params_range
        params = table["params_m"].to_numpy(float)
        keep &= (params >= low) & (params <= high)
    if spec.score_name is not None and spec.score_range is not None:
        low, high = spec.score_range
        score = table[spec.score_name].to_numpy(float)
        keep &= (score >= low) & (score <= high)
    if spec.only_scored and scorers:
        keep &= table[list(scorers)].notna().any(axis=1).to_numpy()
    return table[keep]


def finite_range(values: pd.Series) -> tuple[float, float] | None:
    """Min and max of the finite values, or None when there are none."""
    array = values.to_numpy(float)
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return None
    return float(finite.min()), float(finite.max())
