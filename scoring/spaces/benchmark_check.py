"""Checking a space against a user's own NATS-Bench files (SPEC 2.2: "validate against
nats_bench cost info when benchmark files are present").

For every architecture the benchmark holds, the architecture string at its index must
be ours (so the index order is NATS-Bench's), and the parameter count the benchmark
recorded must equal our shape arithmetic, and so must its FLOPs counted its way
(conv and linear multiply-adds only: ``ArchCost.benchmark_flops_m``; SPEC 4's ``flops``
adds pooling, BN and ReLU). The API object is whatever ``nats_bench.create`` returns for
the files (archive or fast-mode directory); it is read one architecture at a time, so
memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tfnas_db.scoring.datasets import DATASETS
from tfnas_db.scoring.spaces.base import SearchSpaceInfo

# NATS-Bench's own search-space names, per tfnas-db space (nats_bench.create's argument).
NATS_BENCH_NAMES = {"nats-tss": "tss", "nats-sss": "sss"}
# The training schedule whose cost info a check reads, per NATS-Bench space.
FULL_SCHEDULE = {"tss": "200", "sss": "90"}


@dataclass(frozen=True)
class CostComparison:
    index: int
    dataset: str
    benchmark_arch: str
    ours_arch: str
    benchmark_params_m: float
    ours_params_m: float
    benchmark_flops_m: float
    ours_flops_m: float  # counted as NATS-Bench counts (conv + linear)

    @property
    def same_arch(self) -> bool:
        return self.benchmark_arch == self.ours_arch

    @property
    def same_params(self) -> bool:
        return abs(self.benchmark_params_m - self.ours_params_m) <= 1e-6

    @property
    def same_flops(self) -> bool:
        return abs(self.benchmark_flops_m - self.ours_flops_m) <= 1e-6


def compare_costs(
    api: Any,
    space: SearchSpaceInfo,
    indices: Iterable[int],
    hp: str,
    datasets: Iterable[str] = tuple(DATASETS),
) -> list[CostComparison]:
    """Our identity and size beside the benchmark's, per architecture and dataset."""
    out = []
    for index in indices:
        ours = space.arch_of_index(index)
        theirs = str(api.meta_archs[index])
        for name in datasets:
            spec = DATASETS[name]
            info = api.get_cost_info(index, name, hp)
            cost = space.cost(ours, spec.n_classes, spec.image_size)
            out.append(
                CostComparison(
                    index=index,
                    dataset=name,
                    benchmark_arch=theirs,
                    ours_arch=ours,
                    benchmark_params_m=float(info["params"]),
                    ours_params_m=cost.params_m,
                    benchmark_flops_m=float(info["flops"]),
                    ours_flops_m=float("nan")
                    if cost.benchmark_flops_m is None
                    else cost.benchmark_flops_m,
                )
            )
    return out
