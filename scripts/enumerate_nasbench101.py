"""Enumerate NAS-Bench-101's cell space and write the bundled table.

NAS-Bench-101 (Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture
Search", ICML 2019, section 2.1) is every DAG of 2..7 vertices with at most 9 edges whose
vertices all lie on an input->output path, with every labelling of the interior vertices
by 3 ops, up to isomorphism: 423 624 cells. This script rebuilds that set the way the
benchmark's authors describe generating it (every adjacency bit mask, every labelling),
but deduplicates with the vectorised canonical code of
:mod:`tfnas_db.scoring.spaces.nasbench101_cells` and computes the benchmark's MD5 key
only once per unique cell. It checks there are exactly 423 624 cells and that code <->
hash is a bijection (the hash merges no two non-isomorphic cells), then writes:

* ``data/nasbench101_cells.npz``: ``hashes`` (N, 16) uint8 raw digests sorted, and
  ``codes`` (N,) int64, the canonical code of each; index = rank in hash order;
* ``data/nasbench101_cells.json``: the manifest (count, sha256, contents, command).

The npz is written with fixed zip timestamps so that rerunning the script reproduces it
byte for byte (numpy's own savez stamps the current time into the archive).

Usage: python scripts/enumerate_nasbench101.py [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from tfnas_db.scoring.spaces import nasbench101_cells as cells

GENERATOR_VERSION = 1
ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python scripts/enumerate_nasbench101.py"
# Fixed archive timestamp (the zip format's earliest) for reproducible bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def full_dag_masks(v: int) -> np.ndarray:
    """Adjacency bit masks (slot k = i + j(j-1)/2) of V-vertex DAGs with every vertex on an
    input->output path and at most 9 edges.

    Every vertex but the output has an out-edge and every vertex but the input an in-edge:
    in a DAG that puts every vertex on an input->output path (follow out-edges forward and
    in-edges backward until they stop).
    """
    n_slots = v * (v - 1) // 2
    masks = np.arange(1 << n_slots, dtype=np.int64)
    ok = np.bitwise_count(masks.astype(np.uint64)) <= cells.MAX_EDGES
    for i in range(v - 1):
        row = sum(1 << (i + j * (j - 1) // 2) for j in range(i + 1, v))
        ok &= (masks & row) != 0
    for j in range(1, v):
        col = sum(1 << (i + j * (j - 1) // 2) for i in range(j))
        ok &= (masks & col) != 0
    return masks[ok]


def labelling_bits(v: int) -> np.ndarray:
    """The op field of every labelling of the V-2 interior vertices (2 bits each)."""
    fields = np.zeros(1, dtype=np.int64)
    for u in range(1, v - 1):
        fields = (fields[:, None] | (np.arange(3, dtype=np.int64) << (2 * (u - 1)))[None]).ravel()
    return fields


def enumerate_codes() -> tuple[np.ndarray, int]:
    """Sorted unique canonical codes of the whole space, and the count before dedup."""
    unique: list[np.ndarray] = []
    total = 0
    for v in range(2, cells.MAX_VERTICES + 1):
        t0 = time.perf_counter()
        masks = full_dag_masks(v)
        ops = labelling_bits(v)
        raw = (
            (np.int64(v) << cells._V_SHIFT) | (masks[:, None] << cells._ADJ_SHIFT) | ops[None, :]
        ).ravel()
        codes = np.unique(cells._canonicalise(raw))
        total += raw.size
        unique.append(codes)
        log(
            f"V={v}: {masks.size} full DAGs x {ops.size} labellings = {raw.size} graphs, "
            f"{codes.size} unique ({time.perf_counter() - t0:.1f} s)"
        )
    return np.concatenate(unique), total


def hash_codes(codes: np.ndarray) -> list[str]:
    """The benchmark's MD5 key of every cell (one Python hash per cell: the slow part)."""
    matrix, ops, nv = cells.decode_codes(codes)
    out: list[str] = []
    t0 = time.perf_counter()
    for r in range(codes.size):
        v = int(nv[r])
        m = matrix[r, :v, :v]
        ins = [np.flatnonzero(m[:, j]).tolist() for j in range(v)]
        outs = [np.flatnonzero(m[i, :]).tolist() for i in range(v)]
        out.append(cells._fingerprint(ins, outs, ops[r, :v].tolist()))
        if (r + 1) % 50_000 == 0 or r + 1 == codes.size:
            log(f"hashed {r + 1}/{codes.size} cells ({time.perf_counter() - t0:.0f} s)")
    return out


def spot_check_invariance(codes: np.ndarray, hashes: dict[int, str], n: int = 2000) -> None:
    """Relabel random cells by random topological orders: same code and same hash.

    The canonical code is invariant by construction; this guards the implementation.
    """
    rng = np.random.default_rng(0)
    sample = rng.choice(codes, size=min(n, codes.size), replace=False)
    matrix, ops, nv = cells.decode_codes(sample)
    for r in range(sample.size):
        v = int(nv[r])
        m = matrix[r, :v, :v]
        order = [0]
        remaining = set(range(1, v))
        while remaining:  # a random topological order
            ready = [u for u in remaining if not any(m[w, u] for w in remaining)]
            pick = int(rng.choice(ready))
            order.append(pick)
            remaining.discard(pick)
        pm = m[np.ix_(order, order)]
        po = ops[r, :v][order]
        names = [cells._NAME_OF[int(x)] for x in po]
        assert cells.cell_code(pm, names) == int(sample[r]), "code not invariant"
        assert cells.module_hash(pm, names) == hashes[int(sample[r])], "hash mismatch"
    log(f"invariance spot check passed on {sample.size} relabelled cells")


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (np.load reads it) whose bytes depend only on the arrays."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "data")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    codes, total = enumerate_codes()
    log(f"{total} labelled graphs, {codes.size} unique cells")
    if codes.size != cells.N_CELLS:
        raise SystemExit(f"expected {cells.N_CELLS} unique cells, found {codes.size}")

    hashes = hash_codes(codes)
    if len(set(hashes)) != codes.size:
        raise SystemExit("two non-isomorphic cells share a hash: code <-> hash is no bijection")
    spot_check_invariance(codes, dict(zip(codes.tolist(), hashes, strict=True)))

    digests = np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), dtype=np.uint8)
    digests = digests.reshape(-1, 16)
    order = np.argsort(digests.view("S16").ravel(), kind="stable")
    data = npz_bytes({"hashes": digests[order], "codes": codes[order]})

    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / cells.CELLS_FILE).write_bytes(data)
    manifest = {
        "name": "NAS-Bench-101 cell space",
        "source": (
            "Ying et al., 'NAS-Bench-101: Towards Reproducible Neural Architecture Search', "
            "ICML 2019: every cell enumerated and hashed by this project"
        ),
        "n_cells": int(codes.size),
        "n_labelled_graphs": int(total),
        "file": cells.CELLS_FILE,
        "sha256": hashlib.sha256(data).hexdigest(),
        "arrays": {
            "hashes": "(N, 16) uint8: raw MD5 digests of the benchmark's module hash, sorted; "
            "a cell's index is its rank here",
            "codes": "(N,) int64: canonical code of each index "
            "(tfnas_db.scoring.spaces.nasbench101_cells.encode_cells)",
        },
        "command": COMMAND,
        "generator_version": GENERATOR_VERSION,
    }
    (args.out_dir / cells.MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    log(
        f"wrote {args.out_dir / cells.CELLS_FILE} ({len(data)} bytes) in "
        f"{time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
