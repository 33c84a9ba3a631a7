"""NAS-Bench-101's cell space, computed here: pruning, hashing, canonical codes, neighbours.

NAS-Bench-101 (Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture
Search", ICML 2019, section 2.1) holds every cell that is a DAG of at most 7 vertices
(vertex 0 = input, the last = output) with at most 9 edges, each interior vertex labelled
``conv3x3-bn-relu``, ``conv1x1-bn-relu`` or ``maxpool3x3``: 423 624 cells once vertices off
every input->output path are pruned and isomorphic cells merged. The benchmark keys a cell
by an iterated in/out-degree + label MD5 fingerprint of its pruned graph (the paper's
"graph hashing", a Weisfeiler-Lehman style refinement); :func:`module_hash` computes that
key, so hashes printed here are the keys of the benchmark's own files.

The MD5 key is slow to compute and useless for arithmetic, so the space is also given a
canonical int64 *code* (see :func:`encode_cells`) that numpy computes for millions of
cells at once; the bundled table (:func:`load_cells`, written by
``scripts/enumerate_nasbench101.py``) maps codes to hashes and both to an index.

Batch layout shared with the other NAS-Bench-101 modules (one row per cell):

* ``matrix``: ``(N, 7, 7)`` bool, upper triangular, vertex 0 = input, vertex ``V-1`` =
  output, rows and columns ``>= V`` all zero;
* ``ops``: ``(N, 7)`` int8 labels: :data:`INPUT_ID` (-1), :data:`OUTPUT_ID` (-2), the index
  in :data:`OPS` for interior vertices, :data:`PAD_ID` (-3) for vertices ``>= V``;
* ``n_vertices``: ``(N,)`` int8, ``V`` in 2..7.

Importing this module is cheap (numpy and the standard library only); the table is read
on first use.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import numpy as np

from tfnas_db.errors import TfnasError

OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT = "input"
OUTPUT = "output"
MAX_VERTICES = 7
MAX_EDGES = 9
INPUT_ID = -1
OUTPUT_ID = -2
PAD_ID = -3
N_CELLS = 423_624

# Short names used by the compact spelling (cell_spelling / resolve_cell).
SHORT_NAMES: dict[str, str] = {
    INPUT: "in",
    OUTPUT: "out",
    "conv3x3-bn-relu": "c3",
    "conv1x1-bn-relu": "c1",
    "maxpool3x3": "mp",
}
# NASLib's op order in its tuple spelling of a cell (flattened matrix, then op indices).
NASLIB_OPS: tuple[str, ...] = (INPUT, OUTPUT, "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")

CELLS_FILE = "nasbench101_cells.npz"
MANIFEST_FILE = "nasbench101_cells.json"

_LABEL_OF: dict[str, int] = {INPUT: INPUT_ID, OUTPUT: OUTPUT_ID} | {
    op: i for i, op in enumerate(OPS)
}
_NAME_OF: dict[int, str] = {label: name for name, label in _LABEL_OF.items()}
_ALIASES: dict[str, str] = (
    {name: name for name in _LABEL_OF}
    | {short: name for name, short in SHORT_NAMES.items()}
    | {"conv3x3": "conv3x3-bn-relu", "conv1x1": "conv1x1-bn-relu", "maxpool": "maxpool3x3"}
)

# ---------------------------------------------------------------------------------------
# Code layout. Edge slot k holds the edge (i, j), i < j, with k = i + j (j - 1) / 2: the
# order nasbench's graph generator enumerates bit masks in, so the slots of a V-vertex cell
# are exactly 0 .. V(V-1)/2 - 1 whatever V is.
# ---------------------------------------------------------------------------------------
_N_SLOTS = MAX_VERTICES * (MAX_VERTICES - 1) // 2  # 21
_N_INTERIOR = MAX_VERTICES - 2  # 5
_ADJ_SHIFT = 2 * _N_INTERIOR  # 10: op labels take bits 0..9
_V_SHIFT = _ADJ_SHIFT + _N_SLOTS  # 31: adjacency takes bits 10..30
_ADJ_MASK = (1 << _N_SLOTS) - 1
_OPS_MASK = (1 << _ADJ_SHIFT) - 1
_INVALID_PERM = np.int64(1 << 62)  # marks a relabelling that breaks upper triangularity
_SLOT_SRC = np.array([i for j in range(MAX_VERTICES) for i in range(j)], dtype=np.intp)
_SLOT_DST = np.array([j for j in range(MAX_VERTICES) for i in range(j)], dtype=np.intp)
_SLOT_OF = np.full((MAX_VERTICES, MAX_VERTICES), -1, dtype=np.intp)
_SLOT_OF[_SLOT_SRC, _SLOT_DST] = np.arange(_N_SLOTS)
_UPPER = np.triu(np.ones((MAX_VERTICES, MAX_VERTICES), dtype=bool), k=1)
_VERTEX = np.arange(MAX_VERTICES)

# neighbour_codes columns: an edge toggle per ordered vertex pair (u, v), first the 21
# forward pairs u < v in slot order, then the 10 backward pairs 1 <= v < u <= 5 (ordered by
# v, then u); then an op change per (interior vertex u = 1..5, step d = 1, 2).
_MOVE_SRC = np.concatenate(
    [_SLOT_SRC, [u for v in range(1, 5) for u in range(v + 1, _N_INTERIOR + 1)]]
).astype(np.intp)
_MOVE_DST = np.concatenate(
    [_SLOT_DST, [v for v in range(1, 5) for u in range(v + 1, _N_INTERIOR + 1)]]
).astype(np.intp)
N_EDGE_MOVES = _MOVE_SRC.size  # 31
N_NEIGHBOUR_MOVES = N_EDGE_MOVES + 2 * _N_INTERIOR  # 41
_NEIGHBOUR_CHUNK = 2048


# ---------------------------------------------------------------------------------------
# Single cells: parsing, pruning, validity, the benchmark's hash.
# ---------------------------------------------------------------------------------------


def _op_name(op: Any, position: int) -> str:
    """One op as its full name: full names, short names and integer labels are accepted
    because nasbench's own generator writes labels and people type short names."""
    if isinstance(op, bool):
        raise TfnasError(f"op {position} is a boolean ({op!r}); expected an op name")
    if isinstance(op, (int, np.integer)):
        if int(op) in _NAME_OF:
            return _NAME_OF[int(op)]
        raise TfnasError(
            f"unknown op label {int(op)} at vertex {position}; labels are -1 (input), "
            f"-2 (output), 0..2 (index in {', '.join(OPS)})"
        )
    if isinstance(op, str) and op.strip() in _ALIASES:
        return _ALIASES[op.strip()]
    raise TfnasError(
        f"unknown op {op!r} at vertex {position}; valid ops: {INPUT}, {OUTPUT}, "
        f"{', '.join(OPS)} (or short names {', '.join(SHORT_NAMES.values())})"
    )


def _as_matrix(matrix: Any) -> np.ndarray:
    """A square 0/1 int8 matrix, or a TfnasError saying what is wrong with it."""
    try:
        arr = np.asarray(matrix)
    except ValueError as exc:  # ragged nested lists
        raise TfnasError(f"the adjacency matrix is not a rectangular array: {exc}") from None
    if arr.dtype == object or arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise TfnasError(
            f"the adjacency matrix must be a square 2-D array of 0/1, got shape {arr.shape}"
        )
    if arr.shape[0] < 2:
        raise TfnasError("a cell needs at least 2 vertices (input and output)")
    if arr.dtype != bool and not np.issubdtype(arr.dtype, np.integer):
        raise TfnasError(f"adjacency entries must be 0 or 1, got dtype {arr.dtype}")
    if not np.isin(arr, (0, 1)).all():
        raise TfnasError("adjacency entries must be 0 or 1")
    return arr.astype(np.int8)


def _parse_cell(matrix: Any, ops: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """Shape and op checks that hold before pruning (ModelSpec's constructor checks)."""
    m = _as_matrix(matrix)
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence | np.ndarray):
        raise TfnasError(f"ops must be a list of op names, got {type(ops).__name__}")
    names = [_op_name(op, i) for i, op in enumerate(ops)]
    v = m.shape[0]
    if len(names) != v:
        raise TfnasError(f"the matrix has {v} vertices but {len(names)} ops were given")
    lower = np.argwhere(np.tril(m) != 0)
    if len(lower):
        i, j = lower[0]
        raise TfnasError(
            f"the adjacency matrix must be upper triangular (edges only from a vertex to a "
            f"later one); entry [{i}][{j}] is set"
        )
    if names[0] != INPUT:
        raise TfnasError(f"the first op must be {INPUT!r}, got {names[0]!r}")
    if names[-1] != OUTPUT:
        raise TfnasError(f"the last op must be {OUTPUT!r}, got {names[-1]!r}")
    for i, name in enumerate(names[1:-1], start=1):
        if name not in OPS:
            raise TfnasError(f"interior vertex {i} has op {name!r}; valid: {', '.join(OPS)}")
    return m, names


def prune(matrix: Any, ops: Sequence[Any]) -> tuple[np.ndarray, list[str]] | None:
    """Drop vertices not on an input->output path, as the benchmark does before hashing.

    Returns the pruned ``(matrix, ops)`` (int8 matrix, full op names), or None when the
    input does not reach the output (the benchmark calls such a spec invalid). Vertices
    keep their relative order, so the result stays upper triangular.
    """
    m, names = _parse_cell(matrix, ops)
    v = m.shape[0]
    from_input = np.zeros(v, dtype=bool)
    from_input[0] = True
    for j in range(1, v):
        from_input[j] = bool((from_input[:j] & (m[:j, j] != 0)).any())
    to_output = np.zeros(v, dtype=bool)
    to_output[v - 1] = True
    for i in range(v - 2, -1, -1):
        to_output[i] = bool((to_output[i + 1 :] & (m[i, i + 1 :] != 0)).any())
    if not from_input[v - 1]:
        return None
    keep = np.flatnonzero(from_input & to_output)
    return m[np.ix_(keep, keep)], [names[k] for k in keep]


def check_cell(matrix: Any, ops: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """The pruned cell, or a TfnasError naming why the benchmark would not hold it.

    Limits apply after pruning, as the benchmark's own query check applies them: an
    unpruned spelling with extra dangling vertices or edges is the same cell.
    """
    pruned = prune(matrix, ops)
    if pruned is None:
        raise TfnasError("the cell is disconnected: no path leads from the input to the output")
    m, names = pruned
    if m.shape[0] > MAX_VERTICES:
        raise TfnasError(
            f"the cell has {m.shape[0]} vertices after pruning; NAS-Bench-101 allows at most "
            f"{MAX_VERTICES}"
        )
    n_edges = int(m.sum())
    if n_edges > MAX_EDGES:
        raise TfnasError(
            f"the cell has {n_edges} edges after pruning; NAS-Bench-101 allows at most {MAX_EDGES}"
        )
    return m, names


def _fingerprint(ins: list[list[int]], outs: list[list[int]], labels: Sequence[int]) -> str:
    """The benchmark's graph hash (paper, section 2.1) from neighbour lists and labels.

    Each vertex starts from the MD5 of the text of (out-degree, in-degree, label); then,
    as many times as there are vertices, it becomes the MD5 of its sorted in-neighbour
    hashes, '|', its sorted out-neighbour hashes, '|', its own hash; the cell's hash is the
    MD5 of the text of the sorted vertex hashes. The strings must match byte for byte, so
    they are built exactly as Python's ``str`` of a tuple and of a list prints them.
    """
    n = len(labels)
    md5 = hashlib.md5
    hashes = [
        md5(str((len(outs[v]), len(ins[v]), int(labels[v]))).encode("utf-8")).hexdigest()
        for v in range(n)
    ]
    for _ in range(n):
        hashes = [
            md5(
                (
                    "".join(sorted([hashes[w] for w in ins[v]]))
                    + "|"
                    + "".join(sorted([hashes[w] for w in outs[v]]))
                    + "|"
                    + hashes[v]
                ).encode("utf-8")
            ).hexdigest()
            for v in range(n)
        ]
    return md5(str(sorted(hashes)).encode("utf-8")).hexdigest()


def graph_fingerprint(matrix: Any, labels: Sequence[int]) -> str:
    """The benchmark's hash of a labelled graph taken as is (no pruning, no checks).

    Kept separate from :func:`module_hash` because the hash is defined on any directed
    graph, which is how its isomorphism invariance is tested.
    """
    m = np.asarray(matrix) != 0
    n = m.shape[0]
    ins = [np.flatnonzero(m[:, v]).tolist() for v in range(n)]
    outs = [np.flatnonzero(m[v, :]).tolist() for v in range(n)]
    return _fingerprint(ins, outs, [int(x) for x in labels])


def module_hash(matrix: Any, ops: Sequence[Any]) -> str:
    """The benchmark's key of a cell: the hash of its *pruned* graph, labels -1 input,
    -2 output, interior = index in :data:`OPS`. Raises TfnasError for a cell outside the
    space, since such a key would match nothing in the benchmark's files."""
    m, names = check_cell(matrix, ops)
    return graph_fingerprint(m, [_LABEL_OF[name] for name in names])


# ---------------------------------------------------------------------------------------
# Batches: canonical codes.
# ---------------------------------------------------------------------------------------


@cache
def _relabel_tables(v: int) -> tuple[np.ndarray, np.ndarray]:
    """For every relabelling of the interior vertices of a V-vertex cell, lookup tables
    that map the raw code's fields to the relabelled cell's fields.

    ``adj[p, c, x]``: the relabelled adjacency bits (already shifted into place) of the
    7-slot chunk ``c`` of the adjacency holding the value ``x``, with :data:`_INVALID_PERM`
    set when an edge would point backwards. ``ops[p, x]``: the relabelled op bits of the
    10-bit op field ``x``. A code is then 4 lookups and 3 ORs per relabelling.
    """
    perms = list(itertools.permutations(range(1, v - 1)))
    n_slots = v * (v - 1) // 2
    chunk_bits = ((np.arange(128)[:, None] >> np.arange(7)) & 1).astype(bool)  # (128, 7)
    op_fields = (np.arange(1 << _ADJ_SHIFT)[:, None] >> (2 * np.arange(_N_INTERIOR))) & 3
    adj = np.zeros((len(perms), 3, 128), dtype=np.int64)
    ops = np.zeros((len(perms), 1 << _ADJ_SHIFT), dtype=np.int64)
    for p, perm in enumerate(perms):
        new_of = np.array([0, *perm, v - 1])
        slot_value = np.zeros(3 * 7, dtype=np.int64)
        for k in range(n_slots):
            a, b = new_of[_SLOT_SRC[k]], new_of[_SLOT_DST[k]]
            slot_value[k] = np.int64(1) << (_ADJ_SHIFT + _SLOT_OF[a, b]) if a < b else _INVALID_PERM
        for c in range(3):
            adj[p, c] = np.bitwise_or.reduce(
                np.where(chunk_bits, slot_value[7 * c : 7 * c + 7], 0), axis=1
            )
        for u in range(1, v - 1):
            ops[p] |= op_fields[:, u - 1] << (2 * (new_of[u] - 1))
    return adj, ops


def _canonicalise(raw: np.ndarray) -> np.ndarray:
    """Canonical codes of raw codes (valid, pruned cells in any upper-triangular order)."""
    raw = np.asarray(raw, dtype=np.int64)
    out = np.empty_like(raw)
    nv = raw >> _V_SHIFT
    for v in np.unique(nv):
        rows = np.flatnonzero(nv == v)
        adj_tab, ops_tab = _relabel_tables(int(v))
        for start in range(0, len(rows), 1 << 18):
            sel = rows[start : start + (1 << 18)]
            code = raw[sel]
            adj = (code >> _ADJ_SHIFT) & _ADJ_MASK
            c0, c1, c2 = adj & 127, (adj >> 7) & 127, adj >> 14
            op_bits = code & _OPS_MASK
            best = np.full(len(sel), np.iinfo(np.int64).max, dtype=np.int64)
            for p in range(adj_tab.shape[0]):
                cand = adj_tab[p, 0][c0] | adj_tab[p, 1][c1] | adj_tab[p, 2][c2]
                cand |= ops_tab[p][op_bits]
                np.minimum(best, cand, out=best)
            out[sel] = best | (np.int64(v) << _V_SHIFT)
    return out


def _as_batch(matrix: Any, ops: Any, n_vertices: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.asarray(matrix).astype(bool, copy=False)
    o = np.asarray(ops).astype(np.int64)
    nv = np.asarray(n_vertices).astype(np.int64)
    n = nv.shape[0] if nv.ndim == 1 else -1
    if nv.ndim != 1 or m.shape != (n, MAX_VERTICES, MAX_VERTICES) or o.shape != (n, 7):
        raise TfnasError(
            "a batch of NAS-Bench-101 cells is matrix (N,7,7), ops (N,7), n_vertices (N,); "
            f"got {m.shape}, {o.shape}, {nv.shape}"
        )
    return m, o, nv


def _prune_batch(m: np.ndarray, nv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: which vertices lie on an input->output path, and whether any path exists.

    One forward and one backward sweep suffice because the matrices are upper triangular.
    """
    n = m.shape[0]
    from_input = np.zeros((n, MAX_VERTICES), dtype=bool)
    from_input[:, 0] = True
    for j in range(1, MAX_VERTICES):
        from_input[:, j] = (from_input[:, :j] & m[:, :j, j]).any(axis=1)
    to_output = _VERTEX[None, :] == (nv[:, None] - 1)
    for i in range(MAX_VERTICES - 2, -1, -1):
        to_output[:, i] |= (m[:, i, i + 1 :] & to_output[:, i + 1 :]).any(axis=1)
    connected = from_input[np.arange(n), np.clip(nv - 1, 0, MAX_VERTICES - 1)]
    return from_input & to_output, connected


def encode_cells(matrix: Any, ops: Any, n_vertices: Any) -> np.ndarray:
    """Canonical int64 codes of a batch (layout in the module docstring); -1 where invalid.

    A cell is pruned first (so unpruned spellings get their cell's code), then
    canonicalised. The code of a pruned V-vertex cell in one vertex order is::

        V << 31  |  sum over edges (i, j) of 1 << (10 + i + j (j - 1) / 2)
                 |  sum over interior vertices u = 1..V-2 of label(u) << 2 (u - 1)

    (labels 0..2 = index in :data:`OPS`; 34 bits in all). The canonical code is the
    minimum of that number over every relabelling of the interior vertices that keeps the
    matrix upper triangular; input and output cannot move (in a pruned DAG they are the
    only source and sink). Isomorphic cells have the same set of such relabellings, hence
    the same minimum, and the minimum spells out a cell of that class, so two cells have
    the same code iff they are isomorphic, i.e. iff they have the same benchmark hash (the
    benchmark's authors checked its hash has no collisions in this space; the enumeration
    script checks code <-> hash is a bijection). A code is decoded by
    :func:`decode_codes`; with V in the top bits, codes sort by vertex count first.

    Invalid (-1): vertex count outside 2..7, entries on or below the diagonal or outside
    the first V rows/columns, vertex 0 not input or vertex V-1 not output, an interior
    op label on a kept vertex outside 0..2, input and output disconnected, or more than
    9 edges after pruning.
    """
    m, o, nv = _as_batch(matrix, ops, n_vertices)
    n = nv.shape[0]
    rows = np.arange(n)
    ok = (nv >= 2) & (nv <= MAX_VERTICES)
    nvc = np.clip(nv, 2, MAX_VERTICES)
    inside = _VERTEX[None, :] < nvc[:, None]
    allowed = _UPPER[None, :, :] & inside[:, :, None] & inside[:, None, :]
    ok &= ~(m & ~allowed).any(axis=(1, 2))
    m = m & allowed
    ok &= (o[:, 0] == INPUT_ID) & (o[rows, nvc - 1] == OUTPUT_ID)
    keep, connected = _prune_batch(m, nvc)
    ok &= connected
    interior = keep & (_VERTEX[None, :] > 0) & (_VERTEX[None, :] < (nvc[:, None] - 1))
    ok &= ~(interior & ((o < 0) | (o >= len(OPS)))).any(axis=1)
    # Compact the kept vertices to the front, in their order (keeps it upper triangular):
    # new vertex k is old vertex order[k], so new slot (i, j) reads old entry
    # (order[i], order[j]); slots reaching past the kept vertices are dropped.
    order = np.argsort(~keep, axis=1, kind="stable")
    n_kept = keep.sum(axis=1)
    bits = m[rows[:, None], order[:, _SLOT_SRC], order[:, _SLOT_DST]]
    bits &= _SLOT_DST[None, :] < n_kept[:, None]
    ok &= bits.sum(axis=1) <= MAX_EDGES
    packed = np.packbits(bits, axis=1, bitorder="little").astype(np.int64)
    adj = packed[:, 0] | (packed[:, 1] << 8) | (packed[:, 2] << 16)
    po = o[rows[:, None], order[:, 1:6]]
    new_interior = (_VERTEX[None, 1:6] < (n_kept[:, None] - 1)) & ok[:, None]
    labels = np.where(new_interior, np.clip(po, 0, 3), 0)
    raw = (
        (n_kept.astype(np.int64) << _V_SHIFT)
        | (adj << _ADJ_SHIFT)
        | (labels << (2 * np.arange(_N_INTERIOR))).sum(axis=1)
    )
    codes = np.full(n, -1, dtype=np.int64)
    codes[ok] = _canonicalise(raw[ok])
    return codes


def decode_codes(codes: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(matrix, ops, n_vertices)`` in the batch layout for an array of codes.

    Decoding a canonical code gives the canonical vertex order of its cell; any valid
    raw code decodes too, since the layout is the same.
    """
    c = np.atleast_1d(np.asarray(codes, dtype=np.int64))
    nv = c >> _V_SHIFT
    if c.ndim != 1 or ((c < 0) | (nv < 2) | (nv > MAX_VERTICES)).any():
        raise TfnasError("not NAS-Bench-101 cell codes (negative or vertex count outside 2..7)")
    n = c.shape[0]
    adj = (c >> _ADJ_SHIFT) & _ADJ_MASK
    matrix = np.zeros((n, MAX_VERTICES, MAX_VERTICES), dtype=bool)
    matrix[:, _SLOT_SRC, _SLOT_DST] = ((adj[:, None] >> np.arange(_N_SLOTS)) & 1).astype(bool)
    labels = (c[:, None] >> (2 * np.arange(_N_INTERIOR))) & 3
    ops = np.full((n, MAX_VERTICES), PAD_ID, dtype=np.int8)
    interior = _VERTEX[None, 1:6] < (nv[:, None] - 1)
    ops[:, 1:6] = np.where(interior, labels, PAD_ID)
    ops[:, 0] = INPUT_ID
    ops[np.arange(n), nv - 1] = OUTPUT_ID
    return matrix, ops, nv.astype(np.int8)


def _reach(m: np.ndarray) -> np.ndarray:
    """Transitive closure of a batch of (N, 7, 7) adjacency matrices (Floyd-Warshall)."""
    reach = m.copy()
    for k in range(MAX_VERTICES):
        reach |= reach[:, :, k : k + 1] & reach[:, k : k + 1, :]
    return reach


def _topological_relabel(
    m: np.ndarray, ops: np.ndarray, nv: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder the vertices of acyclic (not necessarily upper-triangular) cells into the
    batch layout: input first, output at V-1, the rest by longest path from a source
    (an edge always climbs a level, so that order is topological), padding last."""
    level = np.zeros(m.shape[:2], dtype=np.int8)
    for _ in range(MAX_VERTICES - 1):
        level = np.where(m, level[:, :, None] + np.int8(1), np.int8(0)).max(axis=1)
    key = level.astype(np.int64)
    key[:, 0] = -1
    key[np.arange(m.shape[0]), nv - 1] = 2 * MAX_VERTICES
    key[_VERTEX[None, :] >= nv[:, None]] = 4 * MAX_VERTICES
    order = np.argsort(key, axis=1, kind="stable")
    rows = np.arange(m.shape[0])
    return m[rows[:, None, None], order[:, :, None], order[:, None, :]], ops[rows[:, None], order]


def neighbour_codes(codes: np.ndarray) -> np.ndarray:
    """Canonical codes of every one-move neighbour of each cell: shape ``(R, 41)``.

    A move toggles one edge or changes one interior op; the result is pruned and
    canonicalised. Columns (``u``, ``v`` are vertices of the cell's canonical order):

    * 0..20: the pair (u, v), u < v, in edge slot ``u + v (v - 1) / 2``: remove the edge
      if present, else add it -- the upper-triangular flips of nasbench's own mutation;
    * 21..30: the backward pairs (u, v), ``1 <= v < u <= 5`` (by v, then u): add u -> v
      when it creates no cycle (the vertices are then reordered topologically);
    * ``31 + 2 (u - 1) + (d - 1)``: interior vertex u (1..5) takes op ``(label + d) mod 3``,
      d = 1, 2.

    The backward pairs make the move set a property of the cell rather than of the vertex
    order it happens to be written in: it is the union of the upper-triangular flips of
    every spelling of the cell. Without them ``b in N(a)`` would not imply ``a in N(b)``
    even when no vertex is pruned, because the canonical order of ``a - (u->v)`` may put
    v before u.

    -1 where the pair or vertex is not in the cell (input = 0, output = V-1; no edge
    enters the input or leaves the output), the edge would close a cycle, the result is
    invalid (more than 9 edges, input and output disconnected) or equals the cell itself.
    Different moves can reach the same neighbour. Apart from pruning the relation is
    symmetric; removing an edge can prune vertices, and no single move adds them back.
    """
    c = np.atleast_1d(np.asarray(codes, dtype=np.int64))
    if c.shape[0] > _NEIGHBOUR_CHUNK:  # bounded temporaries stay in cache: ~linear time
        return np.concatenate(
            [
                neighbour_codes(c[start : start + _NEIGHBOUR_CHUNK])
                for start in range(0, c.shape[0], _NEIGHBOUR_CHUNK)
            ]
        )
    matrix, ops, nv = decode_codes(c)
    r = c.shape[0]
    nv64 = nv.astype(np.int64)
    reach = _reach(matrix)
    cand_m = np.repeat(matrix[:, None, :, :], N_NEIGHBOUR_MOVES, axis=1)
    cand_o = np.repeat(ops[:, None, :], N_NEIGHBOUR_MOVES, axis=1)
    e = np.arange(N_EDGE_MOVES)
    cand_m[:, e, _MOVE_SRC, _MOVE_DST] ^= True
    exists = np.zeros((r, N_NEIGHBOUR_MOVES), dtype=bool)
    forward = _MOVE_SRC < _MOVE_DST
    exists[:, :N_EDGE_MOVES] = np.where(
        forward[None, :],
        _MOVE_DST[None, :] < nv64[:, None],
        _MOVE_SRC[None, :] < nv64[:, None] - 1,
    )
    exists[:, :N_EDGE_MOVES] &= ~reach[:, _MOVE_DST, _MOVE_SRC]  # adding u->v closes no cycle
    for u in range(1, _N_INTERIOR + 1):
        interior = u < nv64 - 1
        for d in (1, 2):
            col = N_EDGE_MOVES + 2 * (u - 1) + (d - 1)
            cand_o[:, col, u] = np.where(interior, (ops[:, u] + d) % len(OPS), ops[:, u])
            exists[:, col] = interior
    sel = exists.ravel()
    sel_nv = np.repeat(nv64, N_NEIGHBOUR_MOVES)[sel]
    sel_m = cand_m.reshape(-1, MAX_VERTICES, MAX_VERTICES)[sel]
    sel_o = cand_o.reshape(-1, MAX_VERTICES)[sel]
    # Only an added backward edge leaves the upper triangle; reorder just those.
    backward = np.zeros((r, N_NEIGHBOUR_MOVES), dtype=bool)
    backward[:, :N_EDGE_MOVES] = ~forward[None, :]
    back = np.flatnonzero(backward.ravel()[sel])
    sel_m[back], sel_o[back] = _topological_relabel(sel_m[back], sel_o[back], sel_nv[back])
    flat = np.full(r * N_NEIGHBOUR_MOVES, -1, dtype=np.int64)
    flat[sel] = encode_cells(sel_m, sel_o, sel_nv)
    out = flat.reshape(r, N_NEIGHBOUR_MOVES)
    out[out == c[:, None]] = -1
    return out


def cell_code(matrix: Any, ops: Sequence[Any]) -> int:
    """The canonical code of one cell given as nasbench spells it (any size, unpruned)."""
    m, names = check_cell(matrix, ops)
    v = m.shape[0]
    bm = np.zeros((1, MAX_VERTICES, MAX_VERTICES), dtype=bool)
    bm[0, :v, :v] = m != 0
    bo = np.full((1, MAX_VERTICES), PAD_ID, dtype=np.int8)
    bo[0, :v] = [_LABEL_OF[name] for name in names]
    return int(encode_cells(bm, bo, np.array([v]))[0])


# ---------------------------------------------------------------------------------------
# The bundled table.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CellTable:
    """Every NAS-Bench-101 cell: index <-> benchmark hash <-> canonical code.

    The index of a cell is the rank of its hash in sorted order (sorting the raw 16-byte
    digests and the 32-hex strings gives the same order): deterministic, independent of
    how the cells were enumerated, and the same for anyone holding the benchmark's keys.

    ``hashes``: ``(N, 16)`` uint8 raw MD5 digests, sorted. ``codes``: int64 canonical code
    of each index (see :func:`encode_cells`).
    """

    hashes: np.ndarray
    codes: np.ndarray
    _digest_keys: np.ndarray = field(init=False, repr=False)
    _code_order: np.ndarray = field(init=False, repr=False)
    _sorted_codes: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keys = np.ascontiguousarray(self.hashes, dtype=np.uint8).view("S16").ravel()
        order = np.argsort(self.codes, kind="stable")
        object.__setattr__(self, "_digest_keys", keys)
        object.__setattr__(self, "_code_order", order)
        object.__setattr__(self, "_sorted_codes", self.codes[order])

    @property
    def n_cells(self) -> int:
        return int(self.codes.shape[0])

    def _check_index(self, index: int) -> int:
        i = int(index)
        if not 0 <= i < self.n_cells:
            raise TfnasError(
                f"NAS-Bench-101 cell index {i} is out of range; indices are 0..{self.n_cells - 1}"
            )
        return i

    def index_of_hash(self, module_hash: str) -> int:
        """Index of a benchmark hash (32 hex digits); TfnasError if the space lacks it."""
        text = module_hash.strip().lower()
        try:
            digest = bytes.fromhex(text)
        except ValueError:
            digest = b""
        if len(text) != 32 or len(digest) != 16:
            raise TfnasError(f"{module_hash!r} is not a NAS-Bench-101 hash (32 hex digits)")
        key = np.array([digest], dtype="S16")
        pos = int(np.searchsorted(self._digest_keys, key)[0])
        if pos < self.n_cells and self.hashes[pos].tobytes() == digest:
            return pos
        raise TfnasError(f"hash {text} is not a NAS-Bench-101 cell")

    def hash_of_index(self, index: int) -> str:
        return self.hashes[self._check_index(index)].tobytes().hex()

    def hashes_hex(self, indices: Any = None) -> list[str]:
        """32-hex hashes of many indices (all when None), for tables and exports."""
        rows = self.hashes if indices is None else self.hashes[np.asarray(indices)]
        return [row.tobytes().hex() for row in rows]

    def cell_of_index(self, index: int) -> tuple[list[list[int]], list[str]]:
        """``(matrix, ops)`` of a cell, pruned, in its canonical vertex order."""
        matrix, ops, nv = decode_codes(self.codes[self._check_index(index)])
        v = int(nv[0])
        return (
            matrix[0, :v, :v].astype(int).tolist(),
            [_NAME_OF[int(x)] for x in ops[0, :v]],
        )

    def indices_of_codes(self, codes: Any) -> np.ndarray:
        """Index of each canonical code; -1 where a code is not a cell of the space."""
        c = np.asarray(codes, dtype=np.int64)
        pos = np.searchsorted(self._sorted_codes, c)
        pos_c = np.minimum(pos, self.n_cells - 1)
        found = self._sorted_codes[pos_c] == c
        return np.where(found, self._code_order[pos_c], -1)

    def codes_of_indices(self, indices: Any) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_cells):
            raise TfnasError(f"NAS-Bench-101 cell indices must be in 0..{self.n_cells - 1}")
        return self.codes[idx]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def load_cells() -> CellTable:
    """The bundled table, read once; its sha256 must match the manifest's, so a damaged or
    stale file fails loudly instead of mapping indices to the wrong cells."""
    data_dir = resources.files("tfnas_db.data")
    manifest_path = data_dir / MANIFEST_FILE
    cells_path = data_dir / CELLS_FILE
    if not cells_path.is_file() or not manifest_path.is_file():
        raise TfnasError(
            f"the bundled NAS-Bench-101 cell table ({CELLS_FILE}) is missing; rebuild it with "
            "python scripts/enumerate_nasbench101.py"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    raw = cells_path.read_bytes()
    if _sha256(raw) != manifest["sha256"]:
        raise TfnasError(
            f"{CELLS_FILE} does not match the sha256 in {MANIFEST_FILE}; rebuild it with "
            "python scripts/enumerate_nasbench101.py"
        )
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        table = CellTable(hashes=npz["hashes"], codes=npz["codes"])
    if table.n_cells != manifest["n_cells"]:
        raise TfnasError(f"{CELLS_FILE} holds {table.n_cells} cells, expected {N_CELLS}")
    return table


def n_cells() -> int:
    return load_cells().n_cells


def index_of_hash(module_hash: str) -> int:
    return load_cells().index_of_hash(module_hash)


def hash_of_index(index: int) -> str:
    return load_cells().hash_of_index(index)


def cell_of_index(index: int) -> tuple[list[list[int]], list[str]]:
    return load_cells().cell_of_index(index)


def indices_of_codes(codes: Any) -> np.ndarray:
    return load_cells().indices_of_codes(codes)


def codes_of_indices(indices: Any) -> np.ndarray:
    return load_cells().codes_of_indices(indices)


# ---------------------------------------------------------------------------------------
# Spellings.
# ---------------------------------------------------------------------------------------


def cell_spelling(index: int) -> str:
    """Compact spelling: matrix rows as bits joined by '.', '|', short op names by ','.

    E.g. ``011.001.000|in,c3,out``: readable as a matrix, one token on a command line,
    and parsed back by :func:`resolve_cell`.
    """
    matrix, ops = cell_of_index(index)
    rows = ".".join("".join(str(x) for x in row) for row in matrix)
    return rows + "|" + ",".join(SHORT_NAMES[op] for op in ops)


def _parse_compact(token: str) -> tuple[list[list[int]], list[str]]:
    rows_text, _, ops_text = token.partition("|")
    rows = [r.strip() for r in rows_text.split(".")]
    if not rows or any(not r or set(r) - {"0", "1"} for r in rows):
        raise TfnasError(
            f"malformed cell {token!r}: the part before '|' must be rows of 0/1 joined by '.'"
        )
    if any(len(r) != len(rows) for r in rows):
        raise TfnasError(
            f"malformed cell {token!r}: {len(rows)} rows, so every row needs {len(rows)} bits"
        )
    ops = [o.strip() for o in ops_text.split(",")]
    return [[int(ch) for ch in r] for r in rows], ops


def _parse_json(token: str) -> tuple[Any, Any]:
    try:
        value = json.loads(token)
    except json.JSONDecodeError as exc:
        raise TfnasError(f"malformed JSON cell {token!r}: {exc}") from None
    if isinstance(value, dict):
        for mk, ok_ in (("matrix", "ops"), ("module_adjacency", "module_operations")):
            if mk in value and ok_ in value:
                return value[mk], value[ok_]
        raise TfnasError(
            f"a JSON cell object needs keys 'matrix' and 'ops'; got {', '.join(map(str, value))}"
        )
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], list):
        return value[0], value[1]
    if isinstance(value, list) and value and all(type(x) is int for x in value):
        return _naslib_tuple(value, token)
    raise TfnasError(
        f'malformed JSON cell {token!r}: expected {{"matrix": ..., "ops": ...}}, '
        "[matrix, ops] or NASLib's flat tuple (matrix entries then op indices)"
    )


def _naslib_tuple(values: list[int], token: str) -> tuple[Any, Any]:
    """NASLib's spelling: the flattened V x V matrix, then V indices into NASLIB_OPS."""
    n = next((v for v in range(2, 16) if v * v + v == len(values)), None)
    if n is None:
        raise TfnasError(
            f"malformed NASLib cell {token!r}: {len(values)} numbers is not V*V + V for any V"
        )
    matrix = np.array(values[: n * n]).reshape(n, n)
    ops = []
    for i, x in enumerate(values[n * n :]):
        if not 0 <= x < len(NASLIB_OPS):
            raise TfnasError(
                f"malformed NASLib cell {token!r}: op index {x} at vertex {i} is not in "
                f"0..{len(NASLIB_OPS) - 1} ({', '.join(NASLIB_OPS)})"
            )
        ops.append(NASLIB_OPS[x])
    return matrix, ops


def resolve_cell(token: str) -> int:
    """Index of the cell a user named, in any spelling people paste.

    Accepted: a decimal index; a 32-hex benchmark hash; JSON ``{"matrix": ..., "ops":
    ...}`` (also nasbench's ``module_adjacency``/``module_operations`` keys); JSON
    ``[matrix, ops]`` (nasbench's generator writes labels -1/-2/0..2 instead of names);
    NASLib's flat tuple ``(m00, m01, ..., op0, op1, ...)``; the compact spelling of
    :func:`cell_spelling`. Unpruned or relabelled spellings resolve to their cell.
    """
    text = token.strip()
    if not text:
        raise TfnasError("empty NAS-Bench-101 cell; give an index, a hash or a matrix and ops")
    table = load_cells()
    if len(text) == 32 and all(ch in "0123456789abcdefABCDEF" for ch in text):
        return table.index_of_hash(text)
    if text.isascii() and text.isdigit():
        return table._check_index(int(text))
    if text[0] == "(" and text[-1] == ")":
        text = "[" + text[1:-1].rstrip().rstrip(",") + "]"
    if text[0] in "[{":
        matrix, ops = _parse_json(text)
    elif "|" in text:
        matrix, ops = _parse_compact(text)
    else:
        raise TfnasError(
            f"cannot read {token!r} as a NAS-Bench-101 cell: expected an index, a 32-hex hash, "
            "JSON matrix and ops, or the compact spelling like 011.001.000|in,c3,out"
        )
    if not isinstance(ops, list):
        raise TfnasError(f"ops must be a list, got {type(ops).__name__}")
    code = cell_code(matrix, ops)
    index = int(table.indices_of_codes(np.array([code]))[0])
    if index < 0:  # cannot happen for a cell check_cell accepted; guards a bad table
        raise TfnasError(f"cell {token!r} is valid but missing from the bundled table")
    return index


# ---------------------------------------------------------------------------------------
# Per-cell statistics (vectorised over indices), for filters.
# ---------------------------------------------------------------------------------------


def _decode_indices(indices: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return decode_codes(codes_of_indices(np.atleast_1d(np.asarray(indices, dtype=np.int64))))


def op_counts(indices: Any) -> dict[str, np.ndarray]:
    """How many vertices of each op every cell has (pruned cells): ``{op: (N,) int64}``."""
    _, ops, _ = _decode_indices(indices)
    return {name: (ops == i).sum(axis=1).astype(np.int64) for i, name in enumerate(OPS)}


def depth(indices: Any) -> np.ndarray:
    """Longest input->output path of each cell, counted in edges (vertices on it = depth + 1).

    The longest path, not the shortest, because it bounds how many ops are stacked.
    """
    matrix, _, nv = _decode_indices(indices)
    n = matrix.shape[0]
    longest = np.full((n, MAX_VERTICES), -1, dtype=np.int64)
    longest[:, 0] = 0
    for j in range(1, MAX_VERTICES):
        via = np.where(matrix[:, :j, j] & (longest[:, :j] >= 0), longest[:, :j] + 1, -1)
        longest[:, j] = via.max(axis=1)
    return longest[np.arange(n), nv.astype(np.int64) - 1]


def vertex_counts(indices: Any) -> np.ndarray:
    """Vertices of each pruned cell, input and output included (2..7)."""
    return (codes_of_indices(np.atleast_1d(np.asarray(indices))) >> _V_SHIFT).astype(np.int64)


def edge_counts(indices: Any) -> np.ndarray:
    """Edges of each pruned cell (1..9)."""
    adj = (codes_of_indices(np.atleast_1d(np.asarray(indices))) >> _ADJ_SHIFT) & _ADJ_MASK
    return np.bitwise_count(adj.astype(np.uint64)).astype(np.int64)
