"""Kendall tau of loss_slope (and the ET-NAS utopian point) against 200-epoch accuracy.

Usage (OMP_NUM_THREADS=1; one store per dataset so the three can run side by side):
  python bench/loss_slope_tau.py populate --dataset cifar10 --db /tmp/ls/cifar10.db
  python bench/loss_slope_tau.py populate --dataset cifar100 --db /tmp/ls/cifar100.db
  python bench/loss_slope_tau.py populate --dataset ImageNet16-120 --db /tmp/ls/in16.db
  python bench/loss_slope_tau.py report /tmp/ls/cifar10.db /tmp/ls/cifar100.db ...

``populate`` scores loss_slope, naswot, logsynflow and degree (the ET-NAS measures) with
``tfnas-db populate``'s code on the synthetic minibatch (batch 128, seed 0): on CIFAR-10
the 725 architectures NASLib scored (``--naslib``), elsewhere a seeded random sample
(``--limit``, populate's ``--sample``). ``report`` prints, per store and dataset, Kendall
tau and Spearman rho of each scorer and of the utopian-point distance against the
200-epoch accuracy column of the bundled table, beside ET-NAS Table III.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from tfnas_db.db.store import open_store
from tfnas_db.db.tables import wide_table
from tfnas_db.jobs.populate import PopulateConfig, populate
from tfnas_db.search.correlation import correlate, utopian_score

MEASURES = ["loss_slope", "loss_slope_ce", "naswot", "logsynflow"]
ACCURACY = {"cifar10": "val_acc_200ep", "cifar100": "valtest_acc_200ep"}
PAPER = {  # ET-NAS Table III, Kendall tau: naswot, logsynflow, loss_slope, utopian
    "cifar10": (0.61, 0.63, 0.65, 0.74),
    "cifar100": (0.62, 0.61, 0.64, 0.74),
    "ImageNet16-120": (0.60, 0.60, 0.62, 0.65),
}


def run_populate(args: argparse.Namespace) -> None:
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    if not Path(args.db).exists():
        subprocess.run(["tfnas-db", "db", "upgrade", "--db", args.db], check=True)
    archs = None
    if args.dataset == "cifar10":
        archs = pd.read_csv(args.naslib)["arch_str"].tolist()
    config = PopulateConfig(
        dataset=args.dataset,
        scorers=args.scorers,
        batch_size=128,
        seed=0,
        limit=None if archs else args.limit,
        sample=archs is None,
        archs=archs,
        device="cpu",
        threads=args.threads,
    )
    summary = populate(open_store(args.db), config, show_progress=not args.quiet)
    print(summary.as_dict())


def report(args: argparse.Namespace) -> None:
    print(f"{'dataset':<16}{'measure':<15}{'n':>5}{'tau':>8}{'rho':>8}{'paper tau':>11}")
    for db in args.dbs:
        store = open_store(db)
        with store.session() as session:
            for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
                try:
                    table, runs = wide_table(session, "nats-tss", dataset)
                except Exception:  # a store without this dataset
                    continue
                if not runs:
                    continue
                column = ACCURACY.get(dataset, "valtest_acc_200ep")
                accuracy = table[column].to_numpy(float)
                rows = {m: table[m].to_numpy(float) for m in MEASURES if m in runs}
                if {"naswot", "logsynflow", "loss_slope"} <= set(rows):
                    rows["utopian"] = utopian_score(
                        rows["naswot"], rows["logsynflow"], rows["loss_slope"]
                    )
                names = ["naswot", "logsynflow", "loss_slope", "utopian"]
                paper = dict(zip(names, PAPER[dataset], strict=True))
                for name, values in rows.items():
                    c = correlate(name, values, column, accuracy)
                    ref = f"{paper[name]:.2f}" if name in paper else "-"
                    print(
                        f"{dataset:<16}{name:<15}{c.n:>5}{c.kendall_tau:>8.3f}"
                        f"{c.spearman_rho:>8.3f}{ref:>11}"
                    )
                if "loss_slope" in runs:
                    seconds = np.nanmedian(table["loss_slope_seconds"].to_numpy(float))
                    print(f"{dataset:<16}loss_slope median s/arch {seconds:.2f} ({db})")


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    fill = commands.add_parser("populate")
    fill.add_argument("--dataset", required=True)
    fill.add_argument("--db", required=True)
    fill.add_argument("--scorers", default="loss_slope,naswot,logsynflow,degree")
    fill.add_argument("--limit", type=int, default=200)
    fill.add_argument("--naslib", default="tests/fixtures/naslib_zc_sample_cifar10.csv")
    fill.add_argument("--threads", type=int, default=1, help="torch threads (one per process)")
    fill.add_argument("--quiet", action="store_true")
    show = commands.add_parser("report")
    show.add_argument("dbs", nargs="+")
    args = parser.parse_args()
    if args.command == "populate":
        run_populate(args)
    else:
        report(args)


if __name__ == "__main__":
    main()
