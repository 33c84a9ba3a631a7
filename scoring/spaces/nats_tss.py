"""NATS-Bench topology search space (= NAS-Bench-201): identity without torch.

Everything here is pure Python so that query commands and the dashboard can parse,
convert and describe architectures without importing torch. The network itself is
built in :mod:`tfnas_db.scoring.spaces.nats_tss_net`.

Arch string: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``; edge ``op~j`` in group ``i`` feeds
node ``i`` from node ``j``. The six edges, in string order, are (target, source):
(1,0), (2,0), (2,1), (3,0), (3,1), (3,2).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces.base import (
    ArchCost,
    ArchIdentity,
    BenchmarkInfo,
    CategoricalCodes,
    SearchSpaceInfo,
)

SPACE_NAME = "nats-tss"
N_ARCHS = 15625

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
CONV_OPS = frozenset({"nor_conv_1x1", "nor_conv_3x3"})
# (target node, source node) of each edge, in arch-string order.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

# NAS-Bench-Suite-Zero (NASLib) encoding: its own op order, and edges ordered by source
# node (1,2),(1,3),(1,4),(2,3),(2,4),(3,4) (1-based), so positions 2 and 3 are swapped
# relative to the string's target-node order.
NASLIB_OPS: tuple[str, ...] = (
    "skip_connect",
    "none",
    "nor_conv_3x3",
    "nor_conv_1x1",
    "avg_pool_3x3",
)
_NASLIB_FROM_STRING_POS = (0, 1, 3, 2, 4, 5)  # naslib position k holds string edge [k]

Cell = tuple[str, str, str, str, str, str]


def parse_arch(arch_str: str) -> Cell:
    """Split an arch string into its six ops (string order), naming the bad part on error."""
    text = arch_str.strip()
    groups = text.split("+")
    if len(groups) != 3:
        raise TfnasError(
            f"malformed arch string {arch_str!r}: expected 3 node groups separated by '+', "
            f"found {len(groups)}"
        )
    ops: list[str] = []
    for node, group in enumerate(groups, start=1):
        if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
            raise TfnasError(
                f"malformed arch string {arch_str!r}: node group {node} ({group!r}) must start "
                "and end with '|'"
            )
        entries = group[1:-1].split("|")
        if len(entries) != node:
            raise TfnasError(
                f"malformed arch string {arch_str!r}: node group {node} ({group!r}) must have "
                f"{node} edge(s), found {len(entries)}"
            )
        for source, entry in enumerate(entries):
            op, sep, src = entry.partition("~")
            if not sep or src != str(source):
                raise TfnasError(
                    f"malformed arch string {arch_str!r}: edge {entry!r} in node group {node} "
                    f"must read '<op>~{source}'"
                )
            if op not in OPS:
                raise TfnasError(
                    f"malformed arch string {arch_str!r}: unknown op {op!r} in edge {entry!r}; "
                    f"valid ops: {', '.join(OPS)}"
                )
            ops.append(op)
    return (ops[0], ops[1], ops[2], ops[3], ops[4], ops[5])


def format_arch(cell: tuple[str, ...]) -> str:
    """The canonical arch string of six ops given in string order."""
    if len(cell) != 6 or any(op not in OPS for op in cell):
        raise TfnasError(f"a nats-tss cell is six ops from {', '.join(OPS)}; got {cell!r}")
    a, b, c, d, e, f = cell
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_CANONICAL_SOURCES = ("0", "0", "1", "0", "1", "2")


@lru_cache(maxsize=65536)
def op_choices(arch_str: str) -> tuple[int, ...]:
    """The six ops as indices into :data:`OPS` (string order): a mutation changes one.

    Searches encode every stored architecture on each query, so canonical strings take a
    split-based fast path; anything else goes through :func:`parse_arch` and its errors.
    """
    edges = [part.split("~") for part in arch_str.split("|") if part and part != "+"]
    if (
        len(edges) == 6
        and all(
            len(edge) == 2 and edge[0] in _OP_INDEX and edge[1] == source
            for edge, source in zip(edges, _CANONICAL_SOURCES, strict=True)
        )
        and arch_str.count("+") == 2
    ):
        return tuple(_OP_INDEX[edge[0]] for edge in edges)
    return tuple(OPS.index(op) for op in parse_arch(arch_str))


def to_naslib_tuple(arch_str: str) -> tuple[int, ...]:
    """NAS-Bench-Suite-Zero tuple of an arch string (its zc_*.json key is ``str(tuple)``)."""
    cell = parse_arch(arch_str)
    return tuple(NASLIB_OPS.index(cell[pos]) for pos in _NASLIB_FROM_STRING_POS)


def from_naslib_tuple(code: tuple[int, ...] | list[int] | str) -> str:
    """Arch string of a NASLib tuple, given as a sequence or as its ``str(tuple)`` key."""
    if isinstance(code, str):
        text = code.strip().strip("()[]")
        try:
            code = [int(part) for part in text.split(",") if part.strip()]
        except ValueError as exc:
            raise TfnasError(f"malformed NASLib tuple {code!r}: {exc}") from None
    values = list(code)
    if len(values) != 6 or any(not 0 <= v < len(NASLIB_OPS) for v in values):
        raise TfnasError(f"a NASLib nats-tss tuple is six integers in 0..4; got {values!r}")
    cell = [""] * 6
    for naslib_pos, string_pos in enumerate(_NASLIB_FROM_STRING_POS):
        cell[string_pos] = NASLIB_OPS[values[naslib_pos]]
    return format_arch(tuple(cell))


def iso_key(arch_str: str) -> str:
    """A key equal for isomorphic cells (NATS-Bench ``to_unique_str(consider_zero=True)``).

    ``none`` edges and edges from an all-zero node drop out, ``skip_connect`` forwards its
    input's expression, and the summands of each node are sorted, so cells that compute
    the same function up to a permutation of intermediate nodes share a key. Over the
    15 625 cells this gives the 6 466 classes NATS-Bench reports.
    """
    cell = parse_arch(arch_str)
    nodes: dict[int, str] = {0: "0"}
    for node in (1, 2, 3):
        terms: list[str] = []
        for (target, source), op in zip(EDGES, cell, strict=True):
            if target != node:
                continue
            if op == "none" or nodes[source] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(nodes[source])
            else:
                terms.append(f"({nodes[source]})@{op}")
        nodes[node] = "+".join(sorted(terms))
    return nodes[3]


@dataclass(frozen=True)
class OpCounts:
    """How many edges of each kind a cell has (what size and ReLU count depend on)."""

    conv3: int
    conv1: int
    pool: int
    skip: int
    none: int

    @property
    def conv(self) -> int:
        return self.conv3 + self.conv1


def op_counts(arch_str: str) -> OpCounts:
    cell = parse_arch(arch_str)
    return OpCounts(
        conv3=cell.count("nor_conv_3x3"),
        conv1=cell.count("nor_conv_1x1"),
        pool=cell.count("avg_pool_3x3"),
        skip=cell.count("skip_connect"),
        none=cell.count("none"),
    )


@lru_cache(maxsize=1)
def reference_rows() -> tuple[dict[str, str], ...]:
    """The bundled NATS-Bench TSS reference table (index, arch, params, accuracies)."""
    blob = resources.files("tfnas_db.data").joinpath("nats_tss_reference.csv.gz").read_bytes()
    text = gzip.decompress(blob).decode("utf-8")
    return tuple(csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def index_table() -> tuple[str, ...]:
    """``index -> arch_str`` for all 15 625 architectures, in NATS-Bench order."""
    rows = reference_rows()
    table = [""] * len(rows)
    for row in rows:
        table[int(row["index"])] = row["arch_str"]
    if len(table) != N_ARCHS or not all(table):
        raise RuntimeError("bundled nats-tss index table is incomplete")
    return tuple(table)


@lru_cache(maxsize=1)
def _index_of() -> dict[str, int]:
    return {arch: i for i, arch in enumerate(index_table())}


def arch_of_index(index: int) -> str:
    if not 0 <= index < N_ARCHS:
        raise TfnasError(f"nats-tss index {index} is out of range 0..{N_ARCHS - 1}")
    return index_table()[index]


def index_of_arch(arch_str: str) -> int:
    """NATS-Bench index of an arch string; a malformed string names its bad part."""
    canonical = format_arch(parse_arch(arch_str))
    return _index_of()[canonical]


def resolve_arch(token: str) -> tuple[int, str]:
    """An architecture given as an index, an arch string or a NASLib tuple such as
    ``(1, 2, 0, 3, 4, 2)`` -> ``(index, arch_str)``."""
    text = token.strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        return index, arch_of_index(index)
    if text[:1] in "([":
        text = from_naslib_tuple(text)
    index = index_of_arch(text)
    return index, index_table()[index]


STEM_CHANNELS = 16
CELLS_PER_STAGE = 5


def arch_cost(arch_str: str, n_classes: int, image_size: int) -> ArchCost:
    """Closed-form size of the network :mod:`nats_tss_net` builds (tested against it)."""
    counts = op_counts(arch_str)
    params = 3 * STEM_CHANNELS * 9 + 2 * STEM_CHANNELS
    flops = 3 * STEM_CHANNELS * 9 * image_size**2 + 2 * STEM_CHANNELS * image_size**2
    macs = 3 * STEM_CHANNELS * 9 * image_size**2  # conv and linear only (NATS-Bench's FLOPs)
    relu = 0
    for stage in range(3):
        width = STEM_CHANNELS * 2**stage
        side = image_size // 2**stage
        elements = width * side * side
        if stage > 0:  # ResNet reduction from the previous stage
            c_in, side_in = width // 2, side * 2
            params += 9 * c_in * width + 2 * width  # conv_a + BN
            params += 9 * width * width + 2 * width  # conv_b + BN
            params += c_in * width  # shortcut 1x1 conv
            flops += c_in * side_in**2 + 9 * c_in * elements + 2 * elements  # ReLU, conv, BN
            flops += elements + 9 * width * elements + 2 * elements
            flops += 4 * c_in * side * side + c_in * elements  # 2x2 pool, 1x1 conv
            macs += 9 * c_in * elements + 9 * width * elements + c_in * elements
            relu += c_in * side_in**2 + elements
        per_conv3 = 9 * width * width + 2 * width
        per_conv1 = width * width + 2 * width
        params += CELLS_PER_STAGE * (counts.conv3 * per_conv3 + counts.conv1 * per_conv1)
        conv_macs = counts.conv3 * 9 * width * elements + counts.conv1 * width * elements
        flops += CELLS_PER_STAGE * (
            conv_macs + counts.conv * 3 * elements + counts.pool * 9 * elements
        )
        macs += CELLS_PER_STAGE * conv_macs
        relu += CELLS_PER_STAGE * counts.conv * elements
    width, side = 4 * STEM_CHANNELS, image_size // 4
    params += 2 * width + width * n_classes + n_classes  # last BN, classifier
    flops += 3 * width * side * side  # last BN + ReLU
    flops += width * side * side  # global average pool: kernel side^2 per output
    flops += width * n_classes + n_classes
    macs += width * n_classes + n_classes
    relu += width * side * side
    return ArchCost(
        params_m=params / 1e6, flops_m=flops / 1e6, relu_units=relu, benchmark_flops_m=macs / 1e6
    )


def degree(arch_str: str) -> int:
    """ET-NAS Degree: convolutional edges plus skip edges of the cell."""
    counts = op_counts(arch_str)
    return counts.conv + counts.skip


def identities() -> list[ArchIdentity]:
    """Every architecture with its NASLib tuple (``alt_key``) and isomorphism class
    (numbered in index order of each class's first member)."""
    classes: dict[str, int] = {}
    out = []
    for index, arch in enumerate(index_table()):
        key = iso_key(arch)
        out.append(
            ArchIdentity(
                index=index,
                arch_str=arch,
                alt_key=str(to_naslib_tuple(arch)),
                iso_key=key,
                iso_class=classes.setdefault(key, len(classes)),
            )
        )
    return out


def op_count_columns(arch_strs: Sequence[str]) -> dict[str, list[int]]:
    """``n_<op>``: how many of the cell's six edges carry each op (explorer filters)."""
    cells = [op_choices(a) for a in arch_strs]
    return {f"n_{op}": [cell.count(i) for cell in cells] for i, op in enumerate(OPS)}


# any other op on one edge; codes read the six ops (string order) as a base-5 number
CODES = CategoricalCodes(n_options=len(OPS), length=6, steps=tuple(range(1, len(OPS))), cyclic=True)


@lru_cache(maxsize=1)
def _code_table() -> np.ndarray:
    return CODES.encode(np.asarray([op_choices(a) for a in index_table()], dtype=np.int64))


def codes_of_indices(indices: np.ndarray) -> np.ndarray:
    """Mutation codes of NATS-Bench indices (see :data:`CODES`)."""
    return _code_table()[np.asarray(indices, dtype=np.int64)]


SPACE = SearchSpaceInfo(
    name=SPACE_NAME,
    size=N_ARCHS,
    datasets=("cifar10", "cifar100", "ImageNet16-120"),
    description="NATS-Bench topology search space (= NAS-Bench-201), C=16, N=5",
    arch_of_index=arch_of_index,
    resolve_arch=resolve_arch,
    cost=arch_cost,
    codes=codes_of_indices,
    neighbour_codes=CODES.neighbours,
    identities=identities,
    network_builder="tfnas_db.scoring.spaces.nats_tss_net:build_network",
    drawing="tfnas_db.scoring.spaces.nats_tss_drawing:cell_dot",
    benchmark=BenchmarkInfo(
        accuracy_hint="tfnas-db db seed (the bundled NATS-Bench TSS table), or tfnas-db "
        "import nats-bench --path PATH --space tss",
        full_schedule_epochs=200,
        bundled_results="tfnas_db.scoring.spaces.nats_tss_reference:bundled_results",
    ),
    feature_columns=op_count_columns,
    filter_ops=OPS,
    alt_key_name="naslib_tuple",
    feature_functions={"cell_degree": degree},
)
