"""How long a new store takes to become usable: seed + bundled release, both backends.

Usage: python bench/bench_release_load.py [--pg postgresql://postgres@127.0.0.1:5432/test]
       [--repeat 3] [--out bench/results/release_load.json]

For each backend and repeat, a brand-new store is migrated (not timed), then timed: (a) the
bundled NATS-Bench table (architectures, sizes, accuracies), (b) the bundled score release
(every Parquet file of data/release), (c) the first query after it (a whole-space search).
Prints the medians, and the machine's load average so a busy machine is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from machine import machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tfnas_db.db.bootstrap import seed_benchmark
from tfnas_db.db.release import bundled_manifests, ensure_release_loaded
from tfnas_db.db.store import make_engine, open_store, resolve_url, upgrade_schema

QUERY = ["search", "--scorer", "relu_count", "--penalty", "gdf", "--runs", "500", "-f", "json"]


def _time_store(url: str) -> dict[str, float]:
    upgrade_schema(make_engine(resolve_url(url)))
    store = open_store(url, bootstrap=False)
    started = time.perf_counter()
    seed_benchmark(store)
    seeded = time.perf_counter()
    loaded = ensure_release_loaded(store)
    done = time.perf_counter()
    store.close()
    query_start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", "from tfnas_db.cli.app import main; main()", *QUERY, "--db", url],
        capture_output=True,
        text=True,
        check=True,
    )
    query = time.perf_counter() - query_start
    assert json.loads(out.stdout)["candidates"] == 15625
    return {
        "seed_s": seeded - started,
        "release_s": done - seeded,
        "rows": loaded.rows,
        "first_query_s": query,
    }


def _pg_database(admin_url: str) -> tuple[str, str]:
    name = f"tfnas_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return name, url


def _drop(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ.pop("TFNAS_RELEASE_DIR", None)
    files = bundled_manifests()
    results: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            results["sqlite"].append(_time_store(f"sqlite:///{Path(folder) / 'bench.db'}"))
        name, url = _pg_database(args.pg)
        try:
            results["postgresql"].append(_time_store(url))
        finally:
            _drop(args.pg, name)
    summary = {
        "machine": machine(),
        "load_average": os.getloadavg(),
        "release_files": len(files),
        "medians": {
            backend: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            for backend, runs in results.items()
        },
        "runs": results,
    }
    text_ = json.dumps(summary, indent=2)
    print(text_)
    if args.out:
        args.out.write_text(text_ + "\n")


if __name__ == "__main__":
    main()
