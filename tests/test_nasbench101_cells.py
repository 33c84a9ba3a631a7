"""NAS-Bench-101's cell space as the project computes it: table, hashes, codes, neighbours.

The space and its keys come from Ying et al., "NAS-Bench-101: Towards Reproducible Neural
Architecture Search" (ICML 2019). Everything here is fast except the enumeration rerun,
which runs only with TFNAS_SLOW_ENUMERATION=1.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces import nasbench101_cells as nb

ROOT = Path(__file__).resolve().parents[1]

CONV3, CONV1, POOL = nb.OPS
# The Inception-like cell of the benchmark's README and paper (figure 1 style example).
INCEPTION_MATRIX = [
    [0, 1, 1, 1, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
]
INCEPTION_OPS = [nb.INPUT, CONV1, CONV3, CONV3, CONV3, POOL, nb.OUTPUT]

# Benchmark keys that public code queries the real benchmark files with (PicoNAS /
# DisWOT-v2 scripts: get_metrics_from_hash calls). A 128-bit key matching by chance is
# impossible, so finding them shows our keys are the benchmark's.
PUBLISHED_HASHES = ("b148c5e43b9b1be81b8245c2bc0c1cf3", "fe4395df38d94c4fafb973a8b04bbd65")


@pytest.fixture(scope="module")
def table() -> nb.CellTable:
    return nb.load_cells()


def _sample(table: nb.CellTable, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([[0, table.n_cells - 1], rng.choice(table.n_cells, n, replace=False)])


def _random_topological_relabel(
    matrix: list[list[int]], ops: list[str], rng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    """The same cell with its vertices in a random topological order."""
    m = np.array(matrix)
    v = m.shape[0]
    order = [0]
    remaining = set(range(1, v))
    while remaining:
        ready = sorted(u for u in remaining if not any(m[w, u] for w in remaining))
        pick = int(rng.choice(ready))
        order.append(pick)
        remaining.discard(pick)
    return m[np.ix_(order, order)], [ops[k] for k in order]


# --- the bundled file ---------------------------------------------------------------------


def test_file_matches_manifest(table: nb.CellTable) -> None:
    data = resources.files("tfnas_db.data")
    manifest = json.loads((data / nb.MANIFEST_FILE).read_text(encoding="utf-8"))
    raw = (data / nb.CELLS_FILE).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == manifest["sha256"]
    assert manifest["n_cells"] == nb.N_CELLS == 423_624
    assert table.n_cells == nb.n_cells() == 423_624
    assert table.hashes.shape == (423_624, 16) and table.hashes.dtype == np.uint8
    assert table.codes.shape == (423_624,) and table.codes.dtype == np.int64


def test_hashes_sorted_unique_and_codes_unique(table: nb.CellTable) -> None:
    keys = table.hashes.view("S16").ravel()
    assert (keys[1:] > keys[:-1]).all()  # strictly increasing: sorted and unique
    hexes = table.hashes_hex([0, 1, 2, table.n_cells - 1])
    assert hexes == sorted(hexes)
    assert np.unique(table.codes).size == table.n_cells
    assert (table.codes >= 0).all()


def test_import_does_not_load_torch_or_table() -> None:
    code = (
        "import sys; import tfnas_db.scoring.spaces.nasbench101_cells as m; "
        "print('torch' in sys.modules, m.load_cells.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0"]


def test_published_hashes_are_cells(table: nb.CellTable) -> None:
    for h in PUBLISHED_HASHES:
        i = table.index_of_hash(h)
        assert table.hash_of_index(i) == h
        assert nb.module_hash(*table.cell_of_index(i)) == h


# --- hashes ---------------------------------------------------------------------------------


def test_module_hash_matches_table(table: nb.CellTable) -> None:
    for i in _sample(table, 200, seed=1):
        matrix, ops = table.cell_of_index(int(i))
        h = nb.module_hash(matrix, ops)
        assert h == table.hash_of_index(int(i))
        assert table.index_of_hash(h) == i
        assert table.index_of_hash(h.upper()) == i


def test_isomorphic_relabellings_share_hash_and_code(table: nb.CellTable) -> None:
    rng = np.random.default_rng(2)
    idx = _sample(table, 300, seed=2)
    matrices, opss, nvs = [], [], []
    for i in idx:
        matrix, ops = table.cell_of_index(int(i))
        pm, pops = _random_topological_relabel(matrix, ops, rng)
        assert nb.module_hash(pm, pops) == table.hash_of_index(int(i))
        assert nb.cell_code(pm, pops) == table.codes[i]
        # The hash is invariant under any vertex permutation, not only topological ones.
        labels = [nb._LABEL_OF[o] for o in ops]
        perm = rng.permutation(len(ops))
        assert nb.graph_fingerprint(
            np.array(matrix)[np.ix_(perm, perm)], [labels[k] for k in perm]
        ) == table.hash_of_index(int(i))
        v = len(pops)
        bm = np.zeros((7, 7), dtype=bool)
        bm[:v, :v] = pm
        bo = np.full(7, nb.PAD_ID, dtype=np.int8)
        bo[:v] = [nb._LABEL_OF[o] for o in pops]
        matrices.append(bm)
        opss.append(bo)
        nvs.append(v)
    batch = nb.encode_cells(np.array(matrices), np.array(opss), np.array(nvs))
    np.testing.assert_array_equal(batch, table.codes[idx])


def test_non_isomorphic_tricky_pairs_differ() -> None:
    # Same degrees and label multisets, different cells: the hash and the code separate them.
    chain = [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0] * 5]
    a = [nb.INPUT, CONV1, CONV3, CONV3, nb.OUTPUT]
    b = [nb.INPUT, CONV3, CONV3, CONV1, nb.OUTPUT]
    assert nb.module_hash(chain, a) != nb.module_hash(chain, b)
    assert nb.cell_code(chain, a) != nb.cell_code(chain, b)
    assert nb.resolve_cell(json.dumps([chain, a])) != nb.resolve_cell(json.dumps([chain, b]))


# --- pruning and unpruned spellings -------------------------------------------------------


def _with_dangling(matrix: list[list[int]], ops: list[str]) -> tuple[np.ndarray, list[str]]:
    """The cell grown to 7 vertices with one dead end (fed by the input, feeding nothing)
    and one orphan (feeding the output, fed by nothing): both prune away."""
    v = len(ops)
    assert v <= 5
    big = np.zeros((7, 7), dtype=int)
    body = list(range(v - 1))  # old vertices 0..v-2 keep their numbers
    big[np.ix_(body, body)] = np.array(matrix)[: v - 1, : v - 1]
    big[body, 6] = np.array(matrix)[: v - 1, v - 1]
    dead, orphan = v - 1, v
    big[0, dead] = 1
    big[1 if v > 2 else 0, dead] = 1
    big[orphan, 6] = 1
    for k in range(orphan + 1, 6):  # any remaining vertex dangles too
        big[k, 6] = 1
    new_ops = [*ops[: v - 1], POOL, CONV1] + [CONV3] * (5 - orphan) + [nb.OUTPUT]
    return big, new_ops


def test_unpruned_spellings_resolve_to_pruned_cell(table: nb.CellTable) -> None:
    small = np.flatnonzero((table.codes >> 31) <= 5)
    rng = np.random.default_rng(3)
    for i in rng.choice(small, 100, replace=False):
        matrix, ops = table.cell_of_index(int(i))
        big, big_ops = _with_dangling(matrix, ops)
        pruned = nb.prune(big, big_ops)
        assert pruned is not None
        assert pruned[0].tolist() == matrix and pruned[1] == ops
        assert nb.module_hash(big, big_ops) == table.hash_of_index(int(i))
        token = json.dumps({"matrix": big.tolist(), "ops": big_ops})
        assert nb.resolve_cell(token) == i
        bo = np.array([nb._LABEL_OF[o] for o in big_ops], dtype=np.int8)
        code = nb.encode_cells(big[None].astype(bool), bo[None], np.array([7]))
        assert code[0] == table.codes[i]


def test_pruning_can_bring_edges_under_the_limit() -> None:
    # 10 edges before pruning; vertex 5 is fed by everyone but feeds nothing.
    m = np.zeros((7, 7), dtype=int)
    m[0, 1] = m[1, 2] = m[2, 3] = m[3, 4] = m[4, 6] = 1
    m[[0, 1, 2, 3, 4], 5] = 1
    ops = [nb.INPUT, CONV3, CONV3, CONV3, CONV3, POOL, nb.OUTPUT]
    assert m.sum() == 10
    pm, pops = nb.check_cell(m, ops)
    assert pm.shape == (6, 6) and pm.sum() == 5 and POOL not in pops
    assert nb.resolve_cell(json.dumps([m.tolist(), ops])) == nb.resolve_cell(
        json.dumps([pm.tolist(), pops])
    )


def test_prune_disconnected_is_none() -> None:
    m = [[0, 1, 0], [0, 0, 0], [0, 0, 0]]
    assert nb.prune(m, [nb.INPUT, CONV3, nb.OUTPUT]) is None
    with pytest.raises(TfnasError, match="disconnected"):
        nb.module_hash(m, [nb.INPUT, CONV3, nb.OUTPUT])


# --- codes ----------------------------------------------------------------------------------


def test_code_round_trip(table: nb.CellTable) -> None:
    rng = np.random.default_rng(4)
    codes = table.codes[rng.choice(table.n_cells, 20_000, replace=False)]
    matrix, ops, nv = nb.decode_codes(codes)
    assert matrix.shape == (20_000, 7, 7) and matrix.dtype == bool
    assert ops.shape == (20_000, 7) and ops.dtype == np.int8 and nv.dtype == np.int8
    assert not (matrix & ~np.triu(np.ones((7, 7), dtype=bool), 1)).any()
    inside = np.arange(7)[None, :] < nv[:, None]
    assert not (matrix & ~(inside[:, :, None] & inside[:, None, :])).any()
    assert ((ops == nb.PAD_ID) == ~inside).all()
    assert (ops[:, 0] == nb.INPUT_ID).all()
    assert (ops[np.arange(20_000), nv.astype(int) - 1] == nb.OUTPUT_ID).all()
    np.testing.assert_array_equal(nb.encode_cells(matrix, ops, nv), codes)
    np.testing.assert_array_equal(nb.codes_of_indices(nb.indices_of_codes(codes)), codes)


def test_encode_cells_flags_invalid_cells(table: nb.CellTable) -> None:
    matrix, ops, nv = nb.decode_codes(table.codes[:6])
    matrix, ops, nv = matrix.copy(), ops.copy(), nv.copy()
    v0 = int(nv[0])
    matrix[0, :, v0 - 1] = False  # nothing reaches the output
    matrix[1, 3, 2] = True  # below the diagonal
    ops[2, 0] = 0  # vertex 0 is not the input
    nv[3] = 8  # too many vertices
    interior = int(nv[4]) - 2
    if interior >= 1:
        ops[4, 1] = 3  # unknown op label on a kept vertex
    else:
        nv[4] = 1
    full = np.zeros((7, 7), dtype=bool)
    full[np.triu_indices(7, 1)] = True  # 21 edges: too many
    matrix[5], ops[5], nv[5] = full, [-1, 0, 0, 0, 0, 0, -2], 7
    assert (nb.encode_cells(matrix, ops, nv) == -1).all()
    with pytest.raises(TfnasError):
        nb.decode_codes(np.array([-1]))
    assert (nb.indices_of_codes(np.array([-1, 0, 1 << 40])) == -1).all()


# --- neighbours -----------------------------------------------------------------------------


def _topological_order(m: np.ndarray) -> list[int] | None:
    """Kahn's algorithm with input first and output last; None when there is a cycle."""
    v = m.shape[0]
    order = [0]
    remaining = set(range(1, v - 1))
    while remaining:
        ready = [u for u in sorted(remaining) if not any(m[w, u] for w in remaining | {v - 1})]
        if not ready or m[v - 1, :].any() or m[:, 0].any():
            return None
        order.append(ready[0])
        remaining.discard(ready[0])
    return [*order, v - 1]


def _slow_neighbours(code: int) -> list[int]:
    """One cell's neighbours the slow way: edit nasbench-style specs one at a time."""
    matrix, ops, nv = nb.decode_codes(np.array([code]))
    v = int(nv[0])
    m = matrix[0, :v, :v].astype(int)
    names = [nb._NAME_OF[int(x)] for x in ops[0, :v]]
    out = [-1] * nb.N_NEIGHBOUR_MOVES
    for col in range(nb.N_EDGE_MOVES):
        i, j = int(nb._MOVE_SRC[col]), int(nb._MOVE_DST[col])
        if max(i, j) >= v or i == v - 1:
            continue
        toggled = m.copy()
        toggled[i, j] ^= 1
        order = _topological_order(toggled)
        if order is None:
            continue
        with contextlib.suppress(TfnasError):  # more than 9 edges, or disconnected
            out[col] = nb.cell_code(toggled[np.ix_(order, order)], [names[k] for k in order])
    for u in range(1, v - 1):
        for d in (1, 2):
            changed = list(names)
            changed[u] = nb.OPS[(nb.OPS.index(names[u]) + d) % 3]
            out[nb.N_EDGE_MOVES + 2 * (u - 1) + (d - 1)] = nb.cell_code(m, changed)
    return [-1 if c == code else c for c in out]


def test_neighbours_match_slow_reference_and_are_cells(table: nb.CellTable) -> None:
    idx = _sample(table, 60, seed=5)
    codes = table.codes[idx]
    nbrs = nb.neighbour_codes(codes)
    assert nbrs.shape == (idx.size, nb.N_NEIGHBOUR_MOVES)
    for row, code in zip(nbrs, codes, strict=True):
        assert row.tolist() == _slow_neighbours(int(code))
    valid = nbrs[nbrs >= 0]
    assert valid.size > 0 and (nb.indices_of_codes(valid) >= 0).all()
    assert not (nbrs == codes[:, None]).any()


def test_neighbours_symmetric_without_pruning(table: nb.CellTable) -> None:
    """b is a neighbour of a and has as many vertices => a is a neighbour of b. (A removed
    edge that prunes vertices away has no single move back, so only then can it fail.)"""
    codes = table.codes[_sample(table, 300, seed=6)]
    nbrs = nb.neighbour_codes(codes)
    a = np.repeat(codes, nb.N_NEIGHBOUR_MOVES)
    b = nbrs.ravel()
    keep = (b >= 0) & ((b >> 31) == (a >> 31))
    a, b = a[keep], b[keep]
    assert a.size > 1000
    back = nb.neighbour_codes(b)
    assert (back == a[:, None]).any(axis=1).all()


def test_neighbours_of_smallest_cell_and_pruning_case(table: nb.CellTable) -> None:
    one_edge = nb.resolve_cell("01.00|in,out")
    assert (nb.neighbour_codes(table.codes[[one_edge]]) == -1).all()
    # input->conv->output plus input->output: dropping conv->output prunes to the 2-cell.
    i = nb.resolve_cell("011.001.000|in,c3,out")
    row = nb.neighbour_codes(table.codes[[i]])[0]
    assert table.codes[one_edge] in row
    assert table.codes[i] not in nb.neighbour_codes(table.codes[[one_edge]])[0]


def test_neighbours_fast_enough(table: nb.CellTable) -> None:
    codes = table.codes[np.random.default_rng(7).choice(table.n_cells, 1000, replace=False)]
    nb.neighbour_codes(codes[:10])  # build the lookup tables
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        nb.neighbour_codes(codes)
        best = min(best, time.perf_counter() - start)
    assert best < 1.0, f"neighbour_codes of 1000 cells took {best:.2f} s"


# --- spellings ------------------------------------------------------------------------------


def test_resolve_every_spelling(table: nb.CellTable) -> None:
    i = nb.resolve_cell(json.dumps({"matrix": INCEPTION_MATRIX, "ops": INCEPTION_OPS}))
    h = table.hash_of_index(i)
    labels = [nb._LABEL_OF[o] for o in INCEPTION_OPS]
    naslib = [x for row in INCEPTION_MATRIX for x in row] + [
        nb.NASLIB_OPS.index(o) for o in INCEPTION_OPS
    ]
    short = [nb.SHORT_NAMES[o] for o in INCEPTION_OPS]
    compact = ".".join("".join(map(str, r)) for r in INCEPTION_MATRIX) + "|" + ",".join(short)
    tokens = [
        str(i),
        f"  {i} ",
        h,
        h.upper(),
        json.dumps({"module_adjacency": INCEPTION_MATRIX, "module_operations": INCEPTION_OPS}),
        json.dumps([INCEPTION_MATRIX, INCEPTION_OPS]),
        json.dumps([INCEPTION_MATRIX, labels]),  # nasbench's generator spelling
        json.dumps([INCEPTION_MATRIX, short]),
        str(tuple(naslib)),  # NASLib's tuple key
        json.dumps(naslib),
        compact,
        compact.replace("c3", "conv3x3-bn-relu"),
        nb.cell_spelling(i),
    ]
    for token in tokens:
        assert nb.resolve_cell(token) == i, token
    assert nb.module_hash(INCEPTION_MATRIX, INCEPTION_OPS) == h


def test_cell_spelling_round_trip(table: nb.CellTable) -> None:
    for i in _sample(table, 200, seed=8):
        spelling = nb.cell_spelling(int(i))
        assert " " not in spelling
        assert nb.resolve_cell(spelling) == i
    assert nb.cell_spelling(nb.resolve_cell("01.00|in,out")) == "01.00|in,out"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "empty"),
        ("423624", "out of range"),
        ("0" * 32, "not a NAS-Bench-101 cell"),
        ("xyz", "cannot read"),
        ("{bad json", "malformed JSON"),
        ('{"matrix": [[0, 1], [0, 0]]}', "'matrix' and 'ops'"),
        ('[[[0, 1, 0], [0, 0, 1]], ["input", "c3", "output"]]', "square"),
        ('[[[0, 1], [1, 0]], ["input", "output"]]', "upper triangular"),
        ('[[[0, 2], [0, 0]], ["input", "output"]]', "0 or 1"),
        ('[[[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"]]', "unknown op"),
        ('[[[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["c3", "c3", "output"]]', "first op"),
        ('[[[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "c3", "c3"]]', "last op"),
        ('[[[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "output", "output"]]', "interior"),
        ('[[[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "output"]]', "3 vertices but 2"),
        ('[[[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "c3", "output"]]', "disconnected"),
        ("01.00.00|in,c3,out", "every row needs"),
        ("012.001.000|in,c3,out", "rows of 0/1"),
        ("(0, 1, 0, 0, 0)", "V\\*V \\+ V"),
        ("(0, 1, 0, 0, 0, 9)", "op index 9"),
    ],
)
def test_resolve_errors(token: str, message: str) -> None:
    with pytest.raises(TfnasError, match=message):
        nb.resolve_cell(token)


def test_limits_after_pruning() -> None:
    full = np.triu(np.ones((7, 7), dtype=int), 1)
    ops = [nb.INPUT, CONV3, CONV3, CONV3, CONV3, CONV3, nb.OUTPUT]
    with pytest.raises(TfnasError, match="21 edges after pruning"):
        nb.module_hash(full, ops)
    chain8 = np.eye(8, k=1, dtype=int)
    with pytest.raises(TfnasError, match="8 vertices after pruning"):
        nb.module_hash(chain8, [nb.INPUT] + [CONV3] * 6 + [nb.OUTPUT])


# --- statistics -----------------------------------------------------------------------------


def test_op_counts_depth_sizes(table: nb.CellTable) -> None:
    idx = _sample(table, 200, seed=9)
    counts = nb.op_counts(idx)
    d = nb.depth(idx)
    nv, ne = nb.vertex_counts(idx), nb.edge_counts(idx)
    for row, i in enumerate(idx):
        matrix, ops = table.cell_of_index(int(i))
        for op in nb.OPS:
            assert counts[op][row] == ops.count(op)
        m = np.array(matrix)
        longest = [0] + [-1] * (len(ops) - 1)
        for j in range(1, len(ops)):
            longest[j] = max((longest[k] + 1 for k in range(j) if m[k, j]), default=-1)
        assert d[row] == longest[-1]
        assert nv[row] == len(ops) and ne[row] == m.sum()
    assert nb.depth([nb.resolve_cell("01.00|in,out")]).tolist() == [1]
    assert set(np.unique(nb.vertex_counts(np.arange(table.n_cells)))) == set(range(2, 8))


# --- the enumeration script ------------------------------------------------------------------


def _script() -> ModuleType:
    path = ROOT / "scripts" / "enumerate_nasbench101.py"
    spec = importlib.util.spec_from_file_location("enumerate_nasbench101", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_small_cells_and_writer_match_table(table: nb.CellTable) -> None:
    """The script's enumeration up to 6 vertices gives exactly the table's cells of that
    size, and its writer turns the table's arrays into the bundled bytes (no timestamps)."""
    script = _script()
    nv = table.codes >> 31
    for v in range(2, 7):
        masks, ops = script.full_dag_masks(v), script.labelling_bits(v)
        raw = ((v << 31) | (masks[:, None] << 10) | ops[None, :]).ravel()
        codes = np.unique(nb._canonicalise(raw))
        np.testing.assert_array_equal(codes, np.sort(table.codes[nv == v]))
    bundled = (resources.files("tfnas_db.data") / nb.CELLS_FILE).read_bytes()
    assert script.npz_bytes({"hashes": table.hashes, "codes": table.codes}) == bundled


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("TFNAS_SLOW_ENUMERATION") != "1",
    reason="reruns the whole enumeration (minutes); set TFNAS_SLOW_ENUMERATION=1",
)
def test_enumeration_reproduces_bundled_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "enumerate_nasbench101.py"), "--out-dir", tmp_path],
        check=True,
        cwd=ROOT,
    )
    data = resources.files("tfnas_db.data")
    fresh = (tmp_path / nb.CELLS_FILE).read_bytes()
    bundled = (data / nb.CELLS_FILE).read_bytes()
    assert hashlib.sha256(fresh).hexdigest() == hashlib.sha256(bundled).hexdigest()
    assert fresh == bundled
    assert json.loads((tmp_path / nb.MANIFEST_FILE).read_text()) == json.loads(
        (data / nb.MANIFEST_FILE).read_text()
    )
