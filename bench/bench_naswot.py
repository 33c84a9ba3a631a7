"""Seconds per architecture of naswot at batch 128 on this machine, next to a bare forward.

Usage: python bench/bench_naswot.py [--archs 30] [--batch 128] [--threads 2] [--out FILE]

For each of N seeded-random nats-tss architectures (cifar10, synthetic minibatch):
- build: constructing and initialising the network;
- bare forward: one train-mode forward of the batch under no_grad (the floor);
- naswot: the engine's naswot score (forward with ReLU-code GEMMs + slogdet), excluding
  the build, i.e. the "seconds" populate stores.
Prints medians and writes a JSON record with the machine description.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

import torch
from machine import machine

from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.minibatch import synthetic_minibatch
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import get_space


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--archs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space, dataset = get_space("nats-tss"), get_dataset("cifar10")
    batch = synthetic_minibatch(dataset, args.batch, 0)
    engine = ScoringEngine(space, dataset, args.batch, 0, "cpu", batch)
    specs = REGISTRY.resolve("naswot")
    archs = random.Random(0).sample(range(space.n_archs), args.archs)
    x = torch.from_numpy(batch.images)
    engine.score(space.arch_of_index(archs[0]), specs)  # warm-up (oneDNN primitives)
    rows = []
    for index in archs:
        arch = space.arch_of_index(index)
        t0 = time.perf_counter()
        net = space.build_network(arch, dataset.n_classes)
        t1 = time.perf_counter()
        with torch.no_grad():
            net(x)
        t2 = time.perf_counter()
        outcome = engine.score(arch, specs)["naswot"]
        build, forward = t1 - t0, t2 - t1
        rows.append(
            {
                "index": index,
                "build_s": build,
                "bare_forward_s": forward,
                "naswot_s": outcome.seconds - build,
                "naswot_with_build_s": outcome.seconds,
                "score": outcome.value,
            }
        )
        print(
            f"{index:>5} build {build:.3f}s forward {forward:.3f}s "
            f"naswot {outcome.seconds - build:.3f}s score {outcome.value}",
            flush=True,
        )
    med = {
        k: statistics.median(r[k] for r in rows)
        for k in ("build_s", "bare_forward_s", "naswot_s", "naswot_with_build_s")
    }
    ratio = statistics.median(r["naswot_s"] / r["bare_forward_s"] for r in rows)
    print(
        f"\nmedian over {len(rows)} archs, batch {args.batch}: build {med['build_s']:.3f}s, "
        f"bare forward {med['bare_forward_s']:.3f}s, naswot {med['naswot_s']:.3f}s "
        f"(with build {med['naswot_with_build_s']:.3f}s); naswot / forward {ratio:.2f}x; "
        f"{med['naswot_with_build_s'] * 15625 / 3600:.2f} h for 15 625 archs"
    )
    record = {
        "machine": machine(),
        "batch": args.batch,
        "medians": med,
        "naswot_over_forward": ratio,
        "per_arch": rows,
    }
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(record, handle, indent=1)


if __name__ == "__main__":
    main()
