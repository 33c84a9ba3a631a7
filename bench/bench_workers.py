"""Populate throughput with 1 vs N concurrent workers on one PostgreSQL store.

Usage: python bench/bench_workers.py [--pg postgresql://postgres@127.0.0.1:5432/test]
       [--archs 40] [--workers 1,2] [--batch 128] [--scorers naswot] [--chunk-size 2]
       [--out FILE]

Creates a throw-away database on the server, migrates and seeds it, then for each worker
count W starts W ``tfnas-db populate`` processes at the same moment on the same options
(a fresh seed per W, so every measurement scores the same number of new architectures),
and reports the wall time from start to the last worker's exit, arch/s, and the parallel
efficiency (rate with W workers / (W x rate with 1 worker)). Each worker sizes its torch
threads to its share of the cores (the default of populate), so on a machine with C cores
the ideal is min(W, C)-fold. Timings only mean something on an otherwise idle machine:
the record carries the load average at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid

from machine import machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tfnas_db.db.bootstrap import ensure_seeded
from tfnas_db.db.store import Store, make_engine, resolve_url, upgrade_schema


def run_workers(
    url: str, workers: int, archs: int, batch: int, scorers: str, seed: int, chunk: int
) -> dict:
    cmd = [
        sys.executable,
        "-c",
        "from tfnas_db.cli.app import main; main()",
        "populate",
        "--db",
        url,
        "--limit",
        str(archs),
        "--batch-size",
        str(batch),
        "--scorers",
        scorers,
        "--seed",
        str(seed),
        "--chunk-size",
        str(chunk),
        "--quiet",
        "--format",
        "json",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(workers)
    ]
    outputs = [proc.communicate() for proc in procs]
    wall = time.perf_counter() - started
    for proc, (_, err) in zip(procs, outputs, strict=True):
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed: {err.decode().strip()}")
    scored = [json.loads(out)["scored"] for out, _ in outputs]
    return {"workers": workers, "wall_s": round(wall, 2), "scored_per_worker": scored}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--archs", type=int, default=40)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--scorers", default="naswot")
    parser.add_argument("--chunk-size", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    name = f"tfnas_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(resolve_url(url))
        upgrade_schema(engine)
        ensure_seeded(Store(engine), "nats-tss")
        engine.dispose()
        load_before = os.getloadavg()
        results = [
            run_workers(
                url, int(w), args.archs, args.batch, args.scorers, 1000 + int(w), args.chunk_size
            )
            for w in args.workers.split(",")
        ]
        load_after = os.getloadavg()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    base = args.archs / results[0]["wall_s"]
    for row in results:
        rate = args.archs / row["wall_s"]
        row["arch_per_s"] = round(rate, 3)
        row["parallel_efficiency"] = round(rate / (row["workers"] * base), 3)
        print(
            f"{row['workers']} worker(s): {row['wall_s']:.1f} s wall, {rate:.2f} arch/s, "
            f"efficiency {row['parallel_efficiency']:.2f}, scored {row['scored_per_worker']}"
        )
    record = {
        "machine": machine(),
        "archs": args.archs,
        "batch": args.batch,
        "scorers": args.scorers,
        "chunk_size": args.chunk_size,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "results": results,
    }
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(record, handle, indent=2)


if __name__ == "__main__":
    main()
