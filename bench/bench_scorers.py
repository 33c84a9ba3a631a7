"""Seconds per architecture of every scorer, side by side with the papers' reference code.

Usage:
  python bench/bench_scorers.py [--archs 30] [--batch 128] [--threads 2]
         [--reference ../shared/reference-bench] [--out bench/results/scorers_b128.json]

Per architecture (seeded-random nats-tss, cifar10 shape, synthetic minibatch), in the same
process and interleaved so both see the same machine state:
- reference: the five reference procedures of ``../shared/reference-bench`` (NASWOT v2,
  NASWOT v1 Jacobian, EPE-NAS, synflow, ReLU count), each on a freshly built xautodl
  network, as its run_reference_bench.py does; needs ``pip install --no-deps xautodl``
  (a bench-only dependency, never a tfnas-db one). Skipped if it cannot be imported.
- tfnas-db: each scorer alone through the engine (the seconds populate stores, including
  the network build), the five together in one engine call (one build, shared passes),
  and one bare train-mode forward at the batch size (no_grad) as the floor.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from machine import machine
from scipy.stats import kendalltau

from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.minibatch import synthetic_minibatch
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import get_space

FIVE = ["naswot", "jacov", "epe_nas", "synflow", "relu_count"]


def load_reference(path: str | None):  # type: ignore[no-untyped-def]
    if not path:
        return None
    sys.path.insert(0, str(Path(path).resolve()))
    try:
        import reference_scorers  # type: ignore[import-not-found]
    except ImportError as exc:
        print(f"reference skipped: {exc} (pip install --no-deps xautodl)", file=sys.stderr)
        return None
    return reference_scorers


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def run_reference(rs, arch: str, x: torch.Tensor, labels: np.ndarray) -> dict[str, float]:  # type: ignore[no-untyped-def]
    t: dict[str, float] = {}
    scores: dict[str, float] = {}
    _net, t["build"] = timed(rs.build_model, arch)
    calls = {
        "naswot": lambda n: rs.naswot(n, x),
        "jacov": lambda n: rs.naswot_jacobian(n, x),
        "epe_nas": lambda n: rs.epe_nas(n, x, labels, 10),
        "synflow": lambda n: rs.synflow(n, arch, 10),
        "relu_count": lambda n: rs.relu_count(n, x.shape[0]),
    }
    for name, call in calls.items():
        fresh = rs.build_model(arch)
        (score, _parts), t[name] = timed(call, fresh)
        scores[name] = score
    t["all5"] = sum(t[name] for name in FIVE) + t["build"]
    return {"t": t, "score": scores}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--archs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rs = load_reference(args.reference)
    space, dataset = get_space("nats-tss"), get_dataset("cifar10")
    batch = synthetic_minibatch(dataset, args.batch, 0)
    x = torch.from_numpy(batch.images)
    engine = ScoringEngine(space, dataset, args.batch, 0, "cpu", batch)
    names = REGISTRY.names()
    indices = random.Random(0).sample(range(space.n_archs), args.archs)

    warm = space.arch_of_index(indices[0])
    engine.score(warm, REGISTRY.resolve(FIVE))
    if rs is not None:
        run_reference(rs, warm, x, batch.labels)
    rows = []
    for i, index in enumerate(indices, start=1):
        arch = space.arch_of_index(index)
        row: dict[str, object] = {"index": index, "arch": arch}
        if rs is not None:
            row["reference"] = run_reference(rs, arch, x, batch.labels)
        net, build = timed(space.build_network, arch, dataset.n_classes)
        with torch.no_grad():
            _, forward = timed(net, x)
        ours = {"build": build, "bare_forward": forward}
        values = {}
        for name in names:
            outcome = engine.score(arch, REGISTRY.resolve(name))[name]
            ours[name] = outcome.seconds
            values[name] = outcome.value
        _, ours["all5"] = timed(engine.score, arch, REGISTRY.resolve(FIVE))
        ours["naswot_no_build"] = ours["naswot"] - build
        row["ours"] = ours
        row["score"] = values
        rows.append(row)
        ref_all5 = row["reference"]["t"]["all5"] if rs is not None else float("nan")  # type: ignore[index]
        print(
            f"[{i:2d}/{len(indices)}] {index:>5} forward {forward:.3f}s naswot "
            f"{ours['naswot_no_build']:.3f}s all5 {ours['all5']:.3f}s (reference {ref_all5:.3f}s)",
            flush=True,
        )

    def med(key: str, side: str = "ours") -> float:
        if side == "ours":
            return statistics.median(r["ours"][key] for r in rows)  # type: ignore[index]
        return statistics.median(r["reference"]["t"][key] for r in rows)  # type: ignore[index]

    summary: dict[str, object] = {
        "ours_median_s": {k: med(k) for k in rows[0]["ours"]},  # type: ignore[union-attr]
        "naswot_over_bare_forward": statistics.median(
            r["ours"]["naswot_no_build"] / r["ours"]["bare_forward"]
            for r in rows  # type: ignore[index]
        ),
    }
    print(f"\nmedians over {len(rows)} archs at batch {args.batch} (tfnas-db):")
    for key, value in summary["ours_median_s"].items():  # type: ignore[union-attr]
        print(f"  {key:<16} {value:8.4f} s   {value * 15625 / 3600:6.2f} h / 15 625 archs")
    print(f"naswot / bare forward (median of ratios): {summary['naswot_over_bare_forward']:.2f}x")
    if rs is not None:
        ref = {k: med(k, "reference") for k in ["build", *FIVE, "all5"]}
        summary["reference_median_s"] = ref
        summary["all5_speedup_ratio_of_medians"] = ref["all5"] / med("all5")
        summary["all5_speedup_median_of_ratios"] = statistics.median(
            r["reference"]["t"]["all5"] / r["ours"]["all5"]
            for r in rows  # type: ignore[index]
        )
        taus = {}
        for name in FIVE:
            mine = np.array([r["score"][name] for r in rows], dtype=float)  # type: ignore[index]
            theirs = np.array([r["reference"]["score"][name] for r in rows], dtype=float)  # type: ignore[index]
            ok = np.isfinite(mine) & np.isfinite(theirs)
            taus[name] = float(kendalltau(mine[ok], theirs[ok]).statistic)
        summary["kendall_tau_vs_reference"] = taus
        print("reference medians: " + ", ".join(f"{k} {v:.3f}s" for k, v in ref.items()))
        print(
            f"all five: reference {ref['all5']:.3f}s vs tfnas-db {med('all5'):.3f}s -> "
            f"{summary['all5_speedup_ratio_of_medians']:.2f}x (ratio of medians), "
            f"{summary['all5_speedup_median_of_ratios']:.2f}x (median of per-arch ratios)"
        )
        print(
            "Kendall tau of our scores vs the reference's: "
            + ", ".join(f"{k} {v:.3f}" for k, v in taus.items())
        )
    if args.out:
        Path(args.out).write_text(
            json.dumps(
                {"machine": machine(), "batch": args.batch, "summary": summary, "per_arch": rows},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
