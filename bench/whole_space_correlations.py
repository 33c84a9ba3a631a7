"""The whole-space correlation table of docs/SCORERS.md, from a store holding the release.

Usage: python bench/whole_space_correlations.py [--db URL] [--out bench/results/whole_space.md]

Runs ``tfnas-db correlate`` (the same query layer) on each dataset over all 15 625
architectures for every stored scorer and prints a Markdown table: Kendall tau / Spearman
rho against the 200-epoch accuracy column, and tau within the top 10 % by accuracy, beside
NASLib's tau on its 725-architecture CIFAR-10 sample (real data).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
# NASLib (NAS-Bench-Suite-Zero) tau vs 200-epoch validation accuracy on its 725 CIFAR-10
# architectures, computed on real CIFAR-10 (docs/SCORERS.md, bench/naslib_agreement.py).
NASLIB_TAU_725 = {
    "naswot": 0.593,
    "jacov": 0.600,
    "epe_nas": 0.487,
    "synflow": 0.535,
    "snip": 0.437,
    "grad_norm": 0.433,
    "fisher": 0.366,
    "grasp": 0.375,
    "params": 0.555,
    "flops": 0.512,
}


def correlate(db: str, dataset: str) -> list[dict[str, object]]:
    out = subprocess.run(
        [
            *(sys.executable, "-c", "from tfnas_db.cli.app import main; main()", "correlate"),
            *("--dataset", dataset, "--format", "json", "--db", db),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="tfnas.db")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows: dict[str, dict[str, str]] = {}
    for dataset in DATASETS:
        for row in correlate(args.db, dataset):
            if not str(row["accuracy"]).endswith("_200ep"):
                continue
            cell = (
                f"{row['kendall_tau']:.3f} / {row['spearman_rho']:.3f} / "
                f"{row['top10_kendall_tau']:.3f} ({row['n']})"
            )
            rows.setdefault(str(row["scorer"]), {})[dataset] = cell
    lines = [
        "| scorer | cifar10 (val, 200 ep) | cifar100 (ori-test, 200 ep) "
        "| ImageNet16-120 (ori-test, 200 ep) | NASLib tau, 725 CIFAR-10 |",
        "|---|---|---|---|---|",
    ]
    for scorer in sorted(rows):
        cells = [rows[scorer].get(d, "-") for d in DATASETS]
        naslib = NASLIB_TAU_725.get(scorer)
        lines.append(
            f"| {scorer} | {' | '.join(cells)} | {'-' if naslib is None else f'{naslib:.3f}'} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
