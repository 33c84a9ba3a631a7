"""The search-space plug-in interface: what a space module provides, and nothing more.

A space is one module (plus, if it builds networks, a torch module named by a
"module:function" string so query commands never import torch) that defines
``SPACE = SearchSpaceInfo(...)`` and is listed in :data:`tfnas_db.scoring.spaces.
BUILTIN_SPACES`. Everything generic (seeding, populate, search, the dashboard) talks to
a space only through these fields, so no generic code asks which space it holds.

Every field is a module-level function or plain data (no lambdas), so the object
pickles by reference and can travel to Ray workers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class ArchCost:
    """Size of one network for one input of a dataset, computed without building it.

    ``params_m``: sum of numel of all parameters / 1e6 (NATS-Bench "MB").
    ``flops_m``: forward FLOPs / 1e6 for one input: conv and linear multiply-adds (plus
    bias), kernel^2 per output element of every pooling (global pooling included), 2 per
    BatchNorm element and 1 per ReLU element. This is the rule NASLib's ``flops`` column
    follows on nats-tss; it differs from NASLib's values by a constant 1 078 FLOPs
    (0.014 %) whose origin NASLib does not document.
    ``relu_units``: ReLU input elements for one sample (N_A of the thesis, eq. 13).
    ``benchmark_flops_m``: FLOPs / 1e6 as NATS-Bench's cost info counts them: conv and
    linear multiply-adds (plus bias) only, no pooling, BN or ReLU (its counter sums only
    Conv2d and Linear modules); what ``db check-costs`` compares with the user's files.
    """

    params_m: float
    flops_m: float
    relu_units: int
    benchmark_flops_m: float | None = None


@dataclass(frozen=True)
class ArchIdentity:
    """What the architecture table stores about one architecture (no network needed).

    ``naslib_key`` and the isomorphism columns are filled by spaces that have them."""

    index: int
    arch_str: str
    naslib_key: str | None = None
    iso_key: str | None = None
    iso_class: int | None = None


@dataclass(frozen=True)
class BundledResult:
    """One benchmark figure the package ships for a space (seeded with the space)."""

    index: int
    dataset: str
    metric: str
    epochs: int
    value: float
    n_seeds: int | None
    source: str


@dataclass(frozen=True)
class MutationRule:
    """How a search moves to a neighbour: architectures are ``positions`` categorical
    choices of ``n_options`` each; a mutation adds one of ``steps`` to one position,
    modulo ``n_options`` when ``cyclic`` (any other op of an edge), else only while the
    result stays in range (one step along an ordered width list)."""

    n_options: int
    steps: tuple[int, ...]
    cyclic: bool


@dataclass(frozen=True)
class SearchSpaceInfo:
    """What the engine, the store, the searches and the dashboard need from a space.

    ``features`` names optional notions a scorer or strategy may require (e.g.
    ``"cell_degree"`` for ET-NAS), with ``feature_functions`` holding their functions;
    ``lacks`` says, per notion the space does not define, why (shown to the user).
    ``accuracy_hint`` is the command that brings benchmark accuracies into a store.
    ``filter_ops`` are the op names the explorer offers as "contains" filters (empty
    when architectures are not made of ops); ``feature_columns`` gives the explorer
    per-architecture numeric columns to filter on (op counts, stage widths...).
    """

    name: str
    n_archs: int
    description: str
    arch_of_index: Callable[[int], str]
    resolve_arch: Callable[[str], tuple[int, str]]
    cost: Callable[[str, int, int], ArchCost]
    choices: Callable[[str], tuple[int, ...]]  # categorical encoding, for mutations
    mutation: MutationRule
    identities: Callable[[], Iterable[ArchIdentity]]
    network_builder: str  # "module:function", imported only when a network is built
    drawing: str  # "module:function" -> Graphviz DOT of one architecture
    accuracy_hint: str
    feature_columns: Callable[[Sequence[str]], dict[str, list[int]]]
    filter_ops: tuple[str, ...] = ()
    bundled_results: str | None = None  # "module:function" -> Iterable[BundledResult]
    feature_functions: dict[str, Callable[[str], int]] = field(default_factory=dict)
    lacks: dict[str, str] = field(default_factory=dict)
    # the epochs of the benchmark's full training schedule, whose recorded training seconds
    # the training baselines scale to their 12-epoch evaluations (NATS-Bench: TSS 200, SSS 90)
    full_schedule_epochs: int = 200

    @property
    def n_options(self) -> int:
        return self.mutation.n_options

    def supports(self, feature: str) -> bool:
        return feature in self.feature_functions

    def why_not(self, feature: str) -> str:
        return self.lacks.get(feature, f"{self.name} does not define {feature!r}")

    def feature(self, feature: str, arch_str: str) -> int:
        return self.feature_functions[feature](arch_str)

    def degree(self, arch_str: str) -> int:
        """ET-NAS Degree (kept for callers of the nats-tss-only interface)."""
        return self.feature("cell_degree", arch_str)

    def build_network(self, arch_str: str, n_classes: int) -> nn.Module:
        return _load(self.network_builder)(arch_str, n_classes)  # type: ignore[no-any-return]

    def bundled(self) -> Iterable[BundledResult]:
        """The benchmark figures the package ships for this space (none for most)."""
        if self.bundled_results is None:
            return ()
        return _load(self.bundled_results)()  # type: ignore[return-value]

    def draw(self, arch_str: str) -> str:
        return _load(self.drawing)(arch_str)  # type: ignore[no-any-return]


def _load(target: str) -> Callable[..., object]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
