"""Channels-last vs the default NCHW layout for the shared data-dependent pass, and how
far the data-dependent scores move with the layout and with torch's thread count.

Usage: python bench/bench_layout.py [--archs 10] [--dataset cifar10] [--threads 1]
       [--repro-archs 30] [--out bench/results/layout.json]

Timing (interleaved per architecture, same minibatch, ``--threads`` threads): the
build + train-mode forward with NASWOT's codes and input gradients + the input Jacobian
(what naswot, jacov and epe_nas share), once with the network and minibatch in NCHW and
once in channels-last (NHWC), which tfnas-db scores with. Values: the relative change of
naswot / jacov / epe_nas between the layouts, and, in channels-last, between 1 and 2
threads on ImageNet16-120 (oneDNN picks kernels by thread count), over ``--repro-archs``.
Run it on a quiet machine: it reports seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from machine import machine

from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.minibatch import natural_minibatch
from tfnas_db.scoring.passes import forward_with_codes, input_jacobian
from tfnas_db.scoring.scorers.jacobian import epe_nas_from_jacobian, jacov_from_jacobian
from tfnas_db.scoring.scorers.naswot import naswot_from_gram
from tfnas_db.scoring.spaces import get_space

SPACE = get_space("nats-tss")


def shared_pass(arch: str, dataset: str, channels_last: bool) -> tuple[float, dict[str, float]]:
    spec = get_dataset(dataset)
    batch = natural_minibatch(spec, 128, 0)
    start = time.perf_counter()
    torch.manual_seed(0)
    net = SPACE.build_network(arch, spec.n_classes).train()
    images = torch.from_numpy(batch.images)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    forward = forward_with_codes(net, images, True)
    jacobian = input_jacobian(forward)
    seconds = time.perf_counter() - start
    return seconds, {
        "naswot": naswot_from_gram(forward.code_gram, forward.code_units),
        "jacov": jacov_from_jacobian(jacobian),
        "epe_nas": epe_nas_from_jacobian(jacobian, batch.labels, spec.n_classes),
    }


def relative_changes(pairs: list[tuple[dict[str, float], dict[str, float]]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in ("naswot", "jacov", "epe_nas"):
        changes = [
            abs(a[name] - b[name]) / abs(a[name])
            for a, b in pairs
            if np.isfinite(a[name]) and np.isfinite(b[name]) and a[name] != 0
        ]
        out[name] = {
            "max": max(changes, default=0.0),
            "median": statistics.median(changes) if changes else 0.0,
            "share_over_1e-3": sum(c > 1e-3 for c in changes) / max(1, len(changes)),
            "identical": sum(c == 0 for c in changes),
            "n": len(changes),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=10)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repro-archs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("bench/results/layout.json"))
    args = parser.parse_args()
    rng = random.Random(20261203)
    archs = [SPACE.arch_of_index(i) for i in rng.sample(range(SPACE.n_archs), args.archs)]
    torch.set_num_threads(args.threads)
    shared_pass(archs[0], args.dataset, True)  # warm-up: oneDNN primitive caches
    nchw, nhwc, pairs = [], [], []
    for arch in archs:
        t_nchw, v_nchw = shared_pass(arch, args.dataset, False)
        t_nhwc, v_nhwc = shared_pass(arch, args.dataset, True)
        nchw.append(t_nchw)
        nhwc.append(t_nhwc)
        pairs.append((v_nchw, v_nhwc))
    repro_archs = [
        SPACE.arch_of_index(i) for i in rng.sample(range(SPACE.n_archs), args.repro_archs)
    ]
    thread_pairs = []
    for arch in repro_archs:
        torch.set_num_threads(1)
        _, one = shared_pass(arch, "ImageNet16-120", True)
        torch.set_num_threads(2)
        _, two = shared_pass(arch, "ImageNet16-120", True)
        thread_pairs.append((one, two))
    torch.set_num_threads(args.threads)
    record = {
        "machine": machine(),
        "dataset": args.dataset,
        "archs": args.archs,
        "threads": args.threads,
        "seconds_per_arch_nchw": statistics.mean(nchw),
        "seconds_per_arch_channels_last": statistics.mean(nhwc),
        "speedup": statistics.mean(nchw) / statistics.mean(nhwc),
        "layout_change": relative_changes(pairs),
        "thread_change_imagenet16": relative_changes(thread_pairs),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
