"""How far each data-dependent scorer's value moves between 1 and 2 torch threads.

Usage: python bench/thread_drift.py [--scorers snip,grad_norm,fisher] [--archs 20]
       [--out bench/results/thread_drift.json]

oneDNN picks its convolution kernels by thread count and CPU, so a bundled score recomputed
on another machine (or with another thread count) differs by float rounding, and some
scorers amplify it. tests/test_release.py accepts that drift off the scoring machine within
a per-scorer bound (OFF_MACHINE_RTOL); this measures it, per dataset, with the release's
settings (each scorer's default data source, batch 128, seed 0) on a seeded sample of
architectures, each scored once with 1 thread and once with 2. It measures values, not
time, so it can share the machine with other work.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from pathlib import Path

import numpy as np
import torch
from machine import machine

from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.minibatch import load_minibatch
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import get_space

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def drift(one: list[float | None], two: list[float | None]) -> dict[str, float | int]:
    changes = [
        abs(a - b) / abs(a)
        for a, b in zip(one, two, strict=True)
        if a is not None and b is not None and np.isfinite(a) and np.isfinite(b) and a != 0
    ]
    return {
        "max": max(changes, default=0.0),
        "median": statistics.median(changes) if changes else 0.0,
        "share_over_1e-3": sum(c > 1e-3 for c in changes) / max(1, len(changes)),
        "identical": sum(c == 0 for c in changes),
        "n": len(changes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scorers", default="snip,grad_norm,fisher")
    parser.add_argument("--archs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("bench/results/thread_drift.json"))
    args = parser.parse_args()
    space = get_space("nats-tss")
    specs = REGISTRY.resolve(args.scorers)
    rng = random.Random(20261205)
    indices = rng.sample(range(space.n_archs), args.archs)
    record: dict[str, object] = {"machine": machine(), "archs": indices, "drift": {}}
    for name in DATASETS:
        dataset = get_dataset(name)
        engines = {}
        for source in {s.default_data for s in specs}:
            batch = load_minibatch(dataset, 128, 0, None, source)
            engines[source] = ScoringEngine(space, dataset, 128, 0, "cpu", batch)
        values: dict[str, dict[int, list[float | None]]] = {s.name: {1: [], 2: []} for s in specs}
        for index in indices:
            arch = space.arch_of_index(index)
            for threads in (1, 2):
                torch.set_num_threads(threads)
                for spec in specs:
                    outcome = engines[spec.default_data].score(arch, [spec])[spec.name]
                    values[spec.name][threads].append(outcome.value)
        per_scorer = {s: drift(v[1], v[2]) for s, v in values.items()}
        record["drift"][name] = per_scorer  # type: ignore[index]
        print(name, json.dumps(per_scorer))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
