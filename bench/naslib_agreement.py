"""Kendall tau of each stored scorer against NASLib's reference scores and accuracy.

Usage:
  tfnas-db populate --scorers all --archs <indices of the NASLib sample> --db naslib.db
  python bench/naslib_agreement.py --db naslib.db [--naslib FILE]

Joins by arch string (never by position) the store's cifar10 scores with NASLib's
NAS-Bench-Suite-Zero scores (real CIFAR-10), and prints per scorer: n, tau against
NASLib's score, our tau and NASLib's tau against the 200-epoch validation accuracy.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from tfnas_db.db.store import open_store
from tfnas_db.db.tables import wide_table

NASLIB_COLUMN = {"naswot": "nwot"}
SCORERS = [
    "naswot",
    "jacov",
    "epe_nas",
    "synflow",
    "logsynflow",
    "snip",
    "grad_norm",
    "fisher",
    "grasp",
    "params",
    "flops",
    "relu_count",
    "degree",
    "loss_slope",
]


def tau(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    ok = np.isfinite(x) & np.isfinite(y)
    return float(kendalltau(x[ok], y[ok]).statistic), int(ok.sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--naslib", default="tests/fixtures/naslib_zc_sample_cifar10.csv")
    args = parser.parse_args()
    naslib = pd.read_csv(args.naslib)
    store = open_store(args.db)
    with store.session() as session:
        ours, _ = wide_table(session, "nats-tss", "cifar10")
    merged = naslib.merge(ours, on="arch_str", suffixes=("_naslib", ""))
    print(f"{len(merged)} architectures in both; accuracy: val_acc_200ep of the bundled table")
    print(
        f"{'scorer':<12}{'n':>5}{'tau vs NASLib':>15}{'tau acc (ours)':>16}"
        f"{'tau acc (NASLib)':>18}{'s/arch':>9}"
    )
    accuracy = merged["val_acc_200ep"].to_numpy(float)
    for name in SCORERS:
        if name not in merged:
            continue
        mine = merged[name].to_numpy(float)
        ours_acc, n = tau(mine, accuracy)
        column = NASLIB_COLUMN.get(name, name)
        ref, ref_acc = "-", "-"
        if column in naslib:
            key = f"{column}_naslib" if f"{column}_naslib" in merged else column
            reference = merged[key].to_numpy(float)
            ref = f"{tau(mine, reference)[0]:.3f}"
            ref_acc = f"{tau(reference, accuracy)[0]:.3f}"
        seconds = float(np.nanmedian(merged[f"{name}_seconds"]))
        print(f"{name:<12}{n:>5}{ref:>15}{ours_acc:>16.3f}{ref_acc:>18}{seconds:>9.3f}")


if __name__ == "__main__":
    main()
