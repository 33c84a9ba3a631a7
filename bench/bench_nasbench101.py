"""NAS-Bench-101 on CPU: seconds per architecture and peak memory of every scorer.

Usage:
  python bench/bench_nasbench101.py [--archs 6] [--batch 128] [--threads 2]
         [--scorers naswot,jacov,...] [--out bench/results/nasbench101_scorers.json]

Each scorer runs alone, in its own child process (so its peak RSS is its own), on the
same seeded-random cells (cifar10 shape, each scorer's default minibatch), through the
engine populate uses: the seconds include the network build, as stored scores do. The
network is the benchmark's (128 stem channels): one forward of a batch of 128 is
~8x NAS-Bench-201's FLOPs. Peak RSS (ru_maxrss of the child) is what a populate worker
needs at that batch size; the brief is to stay under 4 GB at batch 128.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from machine import machine

DEFAULT_SCORERS = "naswot,jacov,epe_nas,synflow,logsynflow,snip,grad_norm,fisher,grasp,loss_slope"


def _one_scorer(name: str, archs: list[str], batch: int, threads: int, queue: Any) -> None:
    import torch

    from tfnas_db.scoring.datasets import get_dataset
    from tfnas_db.scoring.engine import ScoringEngine
    from tfnas_db.scoring.minibatch import load_minibatch
    from tfnas_db.scoring.registry import REGISTRY
    from tfnas_db.scoring.spaces import get_space

    torch.set_num_threads(threads)
    spec = REGISTRY.get(name)
    dataset = get_dataset("cifar10")
    source = spec.default_data
    minibatch = None if source == "none" else load_minibatch(dataset, batch, 0, None, source)
    engine = ScoringEngine(get_space("nasbench101"), dataset, batch, 0, "cpu", minibatch)
    seconds, statuses = [], []
    for arch in archs:
        start = time.perf_counter()
        outcome = engine.score(arch, [spec])[name]
        seconds.append(time.perf_counter() - start)
        statuses.append(outcome.status.value)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"scorer": name, "seconds": seconds, "statuses": statuses, "peak_rss_mb": peak_mb})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=6)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scorers", default=DEFAULT_SCORERS)
    parser.add_argument("--out", type=Path, default=Path("bench/results/nasbench101_scorers.json"))
    args = parser.parse_args()

    from tfnas_db.scoring.spaces import get_space

    space = get_space("nasbench101")
    indices = random.Random(0).sample(range(space.n_archs), args.archs)
    archs = [space.arch_of_index(i) for i in indices]
    context = mp.get_context("spawn")
    results = []
    for name in args.scorers.split(","):
        queue = context.Queue()
        child = context.Process(
            target=_one_scorer, args=(name, archs, args.batch, args.threads, queue)
        )
        child.start()
        result = queue.get()
        child.join()
        result["median_s"] = statistics.median(result["seconds"])
        results.append(result)
        print(
            f"{name:12s} median {result['median_s']:7.2f} s/arch "
            f"(min {min(result['seconds']):.2f}, max {max(result['seconds']):.2f}), "
            f"peak RSS {result['peak_rss_mb']:.0f} MB, {result['statuses']}",
            flush=True,
        )
    record = {
        "machine": machine(),
        "space": "nasbench101",
        "indices": indices,
        "batch": args.batch,
        "threads": args.threads,
        "results": results,
    }
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
