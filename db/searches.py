"""Saved searches: what ``search --save`` stores and ``tfnas-db runs`` lists."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfnas_db.db.models import SearchRun
from tfnas_db.db.scores import now


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def save_search(
    session: Session, header: dict[str, Any], summary: dict[str, Any], picks: list[int]
) -> int:
    row = SearchRun(
        created_at=now(),
        strategy=header["strategy"],
        space=header["space"],
        dataset=header["dataset"],
        scorers=",".join(header["scorers"]),
        accuracy_column=header["accuracy_column"] or "(none stored)",
        options=_finite({**header["options"], "score_runs": header["score_runs"]}),
        summary=_finite(summary),
        picks=[int(p) for p in picks],
    )
    session.add(row)
    session.flush()
    return row.id


@dataclass(frozen=True)
class SavedSearch:
    id: int
    created_at: datetime
    strategy: str
    space: str
    dataset: str
    scorers: str
    accuracy_column: str
    options: dict[str, Any]
    summary: dict[str, Any]
    picks: list[int]


def list_searches(session: Session, dataset: str | None = None) -> list[SavedSearch]:
    query = select(SearchRun).order_by(SearchRun.id)
    if dataset:
        query = query.where(SearchRun.dataset == dataset)
    return [
        SavedSearch(
            r.id,
            r.created_at,
            r.strategy,
            r.space,
            r.dataset,
            r.scorers,
            r.accuracy_column,
            dict(r.options),
            dict(r.summary),
            list(r.picks),
        )
        for r in session.scalars(query)
    ]
