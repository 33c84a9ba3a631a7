"""The search-space plug-in interface: what a space module provides, and nothing more.

A space is one module (plus, if it builds networks, a torch module named by a
"module:function" string so query commands never import torch) that defines
``SPACE = SearchSpaceInfo(...)`` and is listed in :data:`tfnas_db.scoring.spaces.
BUILTIN_SPACES`. Everything generic (seeding, populate, search, the dashboard) talks to
a space only through these fields, so no generic code asks which space it holds (a test
greps the generic folders for space names).

The interface is shaped for large spaces and for spaces whose members come from the
user's files: identities are *streamed*; the size is a constant only where the space
knows it (``size``; otherwise the store's count is the size); architectures map to
int64 *codes* and a mutation is a function from codes to neighbour codes, so searches
find a neighbour's row with ``searchsorted`` over the codes they loaded, whatever the
shape of the space (categorical positions, or DAGs whose mutations must stay valid and
canonical).

Every field is a module-level function, a bound method of a frozen dataclass or plain
data (no lambdas), so the object pickles by reference and can travel to Ray workers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tfnas_db.errors import TfnasError

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
    ``benchmark_flops_m``: FLOPs / 1e6 as a benchmark's cost info counts them: conv and
    linear multiply-adds (plus bias) only, no pooling, BN or ReLU (NATS-Bench's counter
    sums only Conv2d and Linear modules); what ``db check-costs`` compares with the
    user's files.
    """

    params_m: float
    flops_m: float
    relu_units: int
    benchmark_flops_m: float | None = None


@dataclass(frozen=True)
class CostArrays:
    """:class:`ArchCost` for many architectures at once (row-aligned numpy arrays), for
    spaces large enough that one Python call per architecture would take minutes."""

    params_m: np.ndarray
    flops_m: np.ndarray
    relu_units: np.ndarray
    benchmark_flops_m: np.ndarray | None = None


@dataclass(frozen=True)
class ArchIdentity:
    """What the architecture table stores about one architecture (no network needed).

    ``alt_key`` is another spelling users' tools know the architecture by (NASLib's
    tuple, an adjacency matrix and op list...); the isomorphism columns are filled by
    spaces that define isomorphism classes beyond the identity itself."""

    index: int
    arch_str: str
    alt_key: str | None = None
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
class BenchmarkInfo:
    """The benchmark a space's accuracies come from.

    ``accuracy_hint`` is the command that brings its accuracies into a store (shown
    wherever a query needs them); ``full_schedule_epochs`` the epochs of its full training
    schedule, whose recorded seconds the training baselines scale to a short evaluation;
    ``short_schedule_epochs`` the budget those baselines read accuracies at;
    ``bundled_results`` names ("module:function") the figures the package ships, if any.
    """

    accuracy_hint: str
    full_schedule_epochs: int
    short_schedule_epochs: int = 12
    bundled_results: str | None = None


@dataclass(frozen=True)
class CategoricalCodes:
    """Codes of spaces whose architectures are ``length`` categorical choices of
    ``n_options`` each: the choices read as a base-``n_options`` number, first position
    most significant. A mutation adds one of ``steps`` to one position, modulo the options
    when ``cyclic`` (any other op of an edge), else only while it stays in range (one
    step along an ordered width list)."""

    n_options: int
    length: int
    steps: tuple[int, ...]
    cyclic: bool

    @property
    def weights(self) -> np.ndarray:
        return self.n_options ** np.arange(self.length - 1, -1, -1, dtype=np.int64)

    def encode(self, choices: np.ndarray) -> np.ndarray:
        """(M, length) choices -> (M,) int64 codes."""
        return np.asarray(choices, dtype=np.int64).reshape(-1, self.length) @ self.weights

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """(M,) codes -> (M, length) choices."""
        codes = np.asarray(codes, dtype=np.int64)
        return (codes[:, None] // self.weights) % self.n_options

    def neighbours(self, codes: np.ndarray) -> np.ndarray:
        """(R,) codes -> (R, length * len(steps)) codes one move away, -1 where a move
        leaves the range (non-cyclic spaces)."""
        codes = np.asarray(codes, dtype=np.int64)
        current = self.decode(codes)
        steps = np.asarray(self.steps, dtype=np.int64)
        position = np.repeat(np.arange(self.length), len(steps))
        shift = np.tile(steps, self.length)
        old = current[:, position]
        moved = old + shift
        new = moved % self.n_options
        out = codes[:, None] + (new - old) * self.weights[position]
        if self.cyclic:
            return out
        inside = (moved >= 0) & (moved < self.n_options)
        return np.where(inside, out, -1)


@dataclass(frozen=True)
class SearchSpaceInfo:
    """What the engine, the store, the searches and the dashboard need from a space.

    ``datasets`` are the datasets the space is defined on (its benchmark's), in the
    order the CLI offers them. ``size`` is the number of architectures where the space
    knows it, ``None`` where its members come from the user's files (the store's count
    is then the size). ``identities`` streams every architecture (``None`` where only an
    import creates them). ``codes`` maps arch indices to int64 codes and
    ``neighbour_codes`` maps codes to the codes one mutation away (-1: no neighbour), so
    evolutionary searches work on any space. ``cost`` is one architecture's size;
    ``costs``, where given, the same for many indices at once.

    ``features`` names optional notions a scorer or strategy may require (e.g.
    ``"cell_degree"`` for ET-NAS), with ``feature_functions`` holding their functions;
    ``lacks`` says, per notion the space does not define, why (shown to the user).
    ``filter_ops`` are the op names the explorer offers as "contains" filters (empty
    when architectures are not made of ops); ``feature_columns`` gives the explorer
    per-architecture numeric columns to filter on (op counts, stage widths, depth...).
    ``alt_key_name`` names the export column that carries ``ArchIdentity.alt_key``.
    """

    name: str
    description: str
    datasets: tuple[str, ...]
    size: int | None
    arch_of_index: Callable[[int], str]
    resolve_arch: Callable[[str], tuple[int, str]]
    cost: Callable[[str, int, int], ArchCost]
    codes: Callable[[np.ndarray], np.ndarray]
    neighbour_codes: Callable[[np.ndarray], np.ndarray]
    identities: Callable[[], Iterable[ArchIdentity]] | None
    network_builder: str  # "module:function", imported only when a network is built
    drawing: str  # "module:function" -> Graphviz DOT of one architecture
    benchmark: BenchmarkInfo
    feature_columns: Callable[[Sequence[str]], dict[str, list[int]]]
    filter_ops: tuple[str, ...] = ()
    alt_key_name: str | None = None  # the export column of ArchIdentity.alt_key, if any
    costs: Callable[[np.ndarray, int, int], CostArrays] | None = None
    feature_functions: dict[str, Callable[[str], int]] = field(default_factory=dict)
    lacks: dict[str, str] = field(default_factory=dict)

    @property
    def n_archs(self) -> int:
        """The space's size, for spaces that know it (see ``size``)."""
        if self.size is None:
            raise ValueError(f"{self.name} has no fixed size: count its architectures")
        return self.size

    @property
    def accuracy_hint(self) -> str:
        return self.benchmark.accuracy_hint

    def check_dataset(self, dataset: str) -> None:
        """Refuse a dataset the space's benchmark does not train on, in one line."""
        if dataset not in self.datasets:
            raise TfnasError(
                f"{self.name} is defined on {', '.join(self.datasets)} only (the datasets its "
                f"benchmark trains on), not {dataset}; give --dataset {self.datasets[0]}"
            )

    def supports(self, feature: str) -> bool:
        return feature in self.feature_functions

    def why_not(self, feature: str) -> str:
        return self.lacks.get(feature, f"{self.name} does not define {feature!r}")

    def feature(self, feature: str, arch_str: str) -> int:
        return self.feature_functions[feature](arch_str)

    def build_network(self, arch_str: str, n_classes: int) -> nn.Module:
        return _load(self.network_builder)(arch_str, n_classes)  # type: ignore[no-any-return]

    def bundled(self) -> Iterable[BundledResult]:
        """The benchmark figures the package ships for this space (none for most)."""
        if self.benchmark.bundled_results is None:
            return ()
        return _load(self.benchmark.bundled_results)()  # type: ignore[return-value]

    def draw(self, arch_str: str) -> str:
        return _load(self.drawing)(arch_str)  # type: ignore[no-any-return]

    def cost_arrays(self, indices: np.ndarray, n_classes: int, image_size: int) -> CostArrays:
        """Sizes of many architectures: the space's vectorised arithmetic where it has one,
        else one :meth:`cost` call per architecture."""
        indices = np.asarray(indices, dtype=np.int64)
        if self.costs is not None:
            return self.costs(indices, n_classes, image_size)
        rows = [self.cost(self.arch_of_index(int(i)), n_classes, image_size) for i in indices]
        bench = [r.benchmark_flops_m for r in rows]
        return CostArrays(
            params_m=np.asarray([r.params_m for r in rows], dtype=np.float64),
            flops_m=np.asarray([r.flops_m for r in rows], dtype=np.float64),
            relu_units=np.asarray([r.relu_units for r in rows], dtype=np.int64),
            benchmark_flops_m=None
            if any(b is None for b in bench)
            else np.asarray(bench, dtype=np.float64),
        )


def _load(target: str) -> Callable[..., object]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
