"""Speed of the query commands on a full store (all 15 625 architectures scored).

Usage: python bench/bench_queries.py [--db FILE] [--repeat 5]

Fills a SQLite store with the data-free scorers for every architecture (seconds, no
network), then measures (a) the strategy alone: 500 runs of random search with N=1000 over
the loaded arrays, in-process; (b) the whole process of each query command (search,
correlate, export, runs, reproduce), as a user runs it, median of --repeat runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tfnas_db.db.queries import AccuracyColumn, load_score_table
from tfnas_db.db.store import make_engine, open_store, resolve_url, upgrade_schema
from tfnas_db.jobs.populate import PopulateConfig, populate
from tfnas_db.search.random_search import random_search

COMMANDS = [
    ["search", "--scorer", "params", "--n", "1000", "--runs", "500", "--format", "json"],
    ["search", "--scorer", "params", "--strategy", "rea", "--runs", "100", "--format", "json"],
    ["correlate", "--format", "json"],
    ["export", "--format", "csv"],
    ["runs"],
    ["reproduce", "naswot-table1", "--scorer", "relu_count", "--format", "json"],
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = Path(args.db or Path(tempfile.mkdtemp()) / "full.db")
    url = f"sqlite:///{path}"
    upgrade_schema(make_engine(resolve_url(url)))
    store = open_store(url)
    start = time.perf_counter()
    populate(store, PopulateConfig(scorers="relu_count,params,flops"), show_progress=False)
    print(f"populate relu_count,params,flops x 15 625: {time.perf_counter() - start:.1f} s")

    with store.session() as session:
        start = time.perf_counter()
        table = load_score_table(
            session, "nats-tss", "cifar10", "params", AccuracyColumn("val", 200)
        )
        loaded = time.perf_counter() - start
    times = []
    for seed in range(args.repeat):
        start = time.perf_counter()
        random_search(table.score, table.params_m, n=1000, runs=500, seed=seed)
        times.append(time.perf_counter() - start)
    print(
        f"load one scorer's table ({len(table)} rows): {loaded * 1000:.0f} ms; "
        f"random search N=1000 x 500 runs: {statistics.median(times) * 1000:.0f} ms (median)"
    )
    for command in COMMANDS:
        walls = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "tfnas_db.cli.app", *command, "--db", url],
                capture_output=True,
                text=True,
            )
            walls.append(time.perf_counter() - start)
            if out.returncode:
                raise SystemExit(out.stderr)
        print(f"{' '.join(command):<80} {statistics.median(walls):.2f} s (whole process)")


if __name__ == "__main__":
    main()
