"""Search spaces by name. Identity and size are pure Python; networks are built lazily."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces import nats_tss

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class SearchSpaceInfo:
    """What the engine and the store need from a search space."""

    name: str
    n_archs: int
    description: str
    arch_of_index: Callable[[int], str]
    resolve_arch: Callable[[str], tuple[int, str]]
    cost: Callable[[str, int, int], nats_tss.ArchCost]
    degree: Callable[[str], int]
    choices: Callable[[str], tuple[int, ...]]  # categorical encoding, for mutations
    n_options: int
    network_builder: str  # "module:function", imported only when a network is built

    def build_network(self, arch_str: str, n_classes: int) -> nn.Module:
        module, _, function = self.network_builder.partition(":")
        return getattr(importlib.import_module(module), function)(arch_str, n_classes)


SPACES: dict[str, SearchSpaceInfo] = {
    nats_tss.SPACE_NAME: SearchSpaceInfo(
        name=nats_tss.SPACE_NAME,
        n_archs=nats_tss.N_ARCHS,
        description="NATS-Bench topology search space (= NAS-Bench-201)",
        arch_of_index=nats_tss.arch_of_index,
        resolve_arch=nats_tss.resolve_arch,
        cost=nats_tss.arch_cost,
        degree=nats_tss.degree,
        choices=nats_tss.op_choices,
        n_options=len(nats_tss.OPS),
        network_builder="tfnas_db.scoring.spaces.nats_tss_net:build_network",
    ),
}


def get_space(name: str) -> SearchSpaceInfo:
    if name not in SPACES:
        later = " (nats-sss is planned, not yet available)" if name == "nats-sss" else ""
        raise TfnasError(f"unknown search space {name!r}{later}; valid spaces: {', '.join(SPACES)}")
    return SPACES[name]
