"""Search spaces by name, registered like scorers: one module per space.

Each module in :data:`BUILTIN_SPACES` defines ``SPACE`` (a :class:`SearchSpaceInfo`, see
:mod:`tfnas_db.scoring.spaces.base`). Identity and size are pure Python; networks are
built lazily, so importing this package never imports torch.
"""

from __future__ import annotations

import importlib

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces.base import (
    ArchCost,
    ArchIdentity,
    BenchmarkInfo,
    BundledResult,
    CategoricalCodes,
    CostArrays,
    SearchSpaceInfo,
)

DEFAULT_SPACE = "nats-tss"

BUILTIN_SPACES: tuple[str, ...] = (
    "tfnas_db.scoring.spaces.nats_tss",
    "tfnas_db.scoring.spaces.nats_sss",
    "tfnas_db.scoring.spaces.nasbench101",
)

SPACES: dict[str, SearchSpaceInfo] = {}


def register_space(info: SearchSpaceInfo) -> None:
    if info.name in SPACES:
        raise KeyError(f"duplicated search space name {info.name!r}")
    SPACES[info.name] = info


for _module in BUILTIN_SPACES:
    register_space(importlib.import_module(_module).SPACE)


def get_space(name: str) -> SearchSpaceInfo:
    if name not in SPACES:
        raise TfnasError(f"unknown search space {name!r}; valid spaces: {', '.join(SPACES)}")
    return SPACES[name]


__all__ = [
    "DEFAULT_SPACE",
    "SPACES",
    "ArchCost",
    "ArchIdentity",
    "BenchmarkInfo",
    "BundledResult",
    "CategoricalCodes",
    "CostArrays",
    "SearchSpaceInfo",
    "get_space",
    "register_space",
]
