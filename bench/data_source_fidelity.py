"""Which minibatch each data-dependent scorer should default to: synthetic or natural.

Usage (one store per data source, outside the repository; each step resumes):
  python bench/data_source_fidelity.py populate --source natural [--dir /tmp/fid]
  python bench/data_source_fidelity.py populate --source synthetic [--dir /tmp/fid]
  python bench/data_source_fidelity.py report [--dir /tmp/fid] [--out FILE]

``populate`` scores NASLib's 725 CIFAR-10 architectures (NAS-Bench-Suite-Zero's sample,
scored by NASLib on real CIFAR-10) with every scorer of ``SCORERS`` on one data source,
and grasp (~3-4 s/arch on one CPU thread) on every 5th, in a seeded random order, so a
job stopped early still leaves a random sample; one torch thread per process, so the two
sources run side by side on two cores. ``report`` joins the stores with NASLib's file by
arch string and prints, per scorer and source, over the architectures both sources hold,
Kendall tau against NASLib's score and against the 200-epoch CIFAR-10 validation accuracy
(and NASLib's own tau against accuracy, the ceiling real data gives). NASLib has no
LossSlope, so loss_slope is compared against accuracy only (and decided on it alone).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from tfnas_db.db.queries import list_runs
from tfnas_db.db.seeds import scores_by_run
from tfnas_db.db.store import make_engine, open_store, resolve_url, upgrade_schema
from tfnas_db.db.tables import wide_table
from tfnas_db.jobs.populate import PopulateConfig, populate

SCORERS = ["naswot", "jacov", "epe_nas", "snip", "grad_norm", "fisher", "loss_slope"]
GRASP_EVERY = 5  # grasp (~3-4 s/arch on one thread): every 5th (145 of 725)
CHUNK = 20
BOOTSTRAP = 1000
SOURCES = ["synthetic", "natural"]
NASLIB_COLUMN = {"naswot": "nwot"}
NASLIB = Path(__file__).resolve().parent.parent.parent / "shared/data/naslib_zc_sample_cifar10.csv"


def store_url(folder: Path, source: str) -> str:
    return f"sqlite:///{folder / f'{source}.db'}"


def run_populate(folder: Path, source: str, naslib: Path) -> None:
    """Score the architectures in a seeded random order, ``CHUNK`` at a time, grasp on
    every ``GRASP_EVERY``-th: whatever is stored when the job is stopped is a random sample
    of the 725, the same one in each source's store (``report`` uses their intersection)."""
    archs = pd.read_csv(naslib)["arch_str"].tolist()
    random.Random(0).shuffle(archs)
    folder.mkdir(parents=True, exist_ok=True)
    upgrade_schema(make_engine(resolve_url(store_url(folder, source))))
    store = open_store(store_url(folder, source))
    common = {
        "dataset": "cifar10",
        "batch_size": 128,
        "seed": 0,
        "data_source": source,
        "threads": 1,
    }
    for start in range(0, len(archs), CHUNK):
        chunk = archs[start : start + CHUNK]
        grasp_chunk = [a for i, a in enumerate(chunk, start) if i % GRASP_EVERY == 0]
        for scorers, chosen in ((SCORERS, chunk), (["grasp"], grasp_chunk)):
            config = PopulateConfig(scorers=scorers, archs=chosen, **common)
            summary = populate(store, config, show_progress=False)
            print(
                f"{source} {start + len(chunk)}/{len(archs)} {','.join(scorers)}: "
                f"{summary.scored} scored in {summary.seconds:.0f} s",
                flush=True,
            )


def tau(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    ok = np.isfinite(x) & np.isfinite(y)
    return float(kendalltau(x[ok], y[ok]).statistic), int(ok.sum())


def _scores(folder: Path, source: str, name: str) -> pd.DataFrame | None:
    """arch_str, the score on ``source`` and the accuracy. The run is picked by its data
    source: populate loads the bundled release into a new store, so the synthetic store
    also holds the bundled natural naswot, jacov and epe_nas, which the store's own
    choice (the fullest run) would read instead."""
    if not (folder / f"{source}.db").is_file():
        return None
    with open_store(store_url(folder, source)).session() as session:
        runs = [
            run
            for run in list_runs(session, "nats-tss", "cifar10", name)
            if run.data_source == source and run.batch_size == 128 and run.seed == 0
        ]
        if not runs:
            return None
        run = max(runs, key=lambda r: (r.n_ok, r.id))
        values = scores_by_run(session, [run.id])[run.id].rename(name)
        # the table for its arch strings and accuracies (its own pick of the run is dropped)
        table, _ = wide_table(session, "nats-tss", "cifar10", [name], only_scored=False)
    table = table.set_index("arch_index")[["arch_str", "val_acc_200ep"]].join(values)
    return table.dropna(subset=[name]).reset_index(drop=True)


def paired_difference(
    natural: np.ndarray, synthetic: np.ndarray, target: np.ndarray, resamples: int = BOOTSTRAP
) -> tuple[float, float, float]:
    """tau(natural, target) - tau(synthetic, target) and its 90 % bootstrap interval,
    resampling architectures (the same resample for both sources: a paired comparison)."""
    rng = np.random.default_rng(0)
    point = tau(natural, target)[0] - tau(synthetic, target)[0]
    diffs = []
    for _ in range(resamples):
        pick = rng.integers(0, len(target), len(target))
        diffs.append(tau(natural[pick], target[pick])[0] - tau(synthetic[pick], target[pick])[0])
    low, high = np.nanpercentile(diffs, [5, 95])
    return point, float(low), float(high)


def decide(vs_naslib: tuple[float, float, float] | None, vs_acc: tuple[float, float, float]) -> str:
    """natural where it is better on one measure and worse on neither (90 % intervals);
    ``vs_naslib`` is None for a scorer NASLib does not have (accuracy alone decides)."""
    measures = [vs_acc] if vs_naslib is None else [vs_naslib, vs_acc]
    better = any(low > 0 for _, low, _ in measures)
    worse = any(high < 0 for _, _, high in measures)
    return "natural" if better and not worse else "synthetic"


def report(folder: Path, naslib_path: Path) -> list[str]:
    naslib = pd.read_csv(naslib_path)
    lines = [
        "NASLib's CIFAR-10 architectures held by both sources' stores (all 725 once both",
        "populates finished; grasp on every 5th), batch 128, seed 0. acc: NATS-Bench cifar10-valid",
        "200-epoch validation (bundled table); NASLib: its own score on real CIFAR-10.",
        "delta = tau(natural) - tau(synthetic) [90 % paired bootstrap interval over archs]",
        f"{'scorer':<10}{'n':>5}  {'tau vs NASLib syn/nat':>21}  {'tau vs acc syn/nat':>18}"
        f"  {'NASLib':>6}  {'delta vs NASLib':>23}  {'delta vs acc':>23}  default",
    ]
    for name in [*SCORERS, "grasp"]:
        tables = {s: t for s in SOURCES if (t := _scores(folder, s, name)) is not None}
        if len(tables) < len(SOURCES):
            continue
        both = tables["synthetic"].merge(
            tables["natural"][["arch_str", name]], on="arch_str", suffixes=("_syn", "_nat")
        )
        merged = naslib.merge(both, on="arch_str", suffixes=("_naslib", ""))
        column = NASLIB_COLUMN.get(name, name)
        has_reference = column in naslib.columns
        reference = merged[column].to_numpy(float) if has_reference else None
        accuracy = merged["val_acc_200ep"].to_numpy(float)
        syn = merged[f"{name}_syn"].to_numpy(float)
        nat = merged[f"{name}_nat"].to_numpy(float)
        ok = np.isfinite(syn) & np.isfinite(nat)
        if reference is not None:
            ok &= np.isfinite(reference)
            reference = reference[ok]
        syn, nat, accuracy = syn[ok], nat[ok], accuracy[ok]
        d_acc = paired_difference(nat, syn, accuracy)
        if reference is None:
            d_ref = None
            ref_part = f"{'- / -':>21}"
            naslib_acc = f"{'-':>6}"
            delta_ref = f"{'-':>23}"
        else:
            d_ref = paired_difference(nat, syn, reference)
            ref_part = f"{tau(syn, reference)[0]:>10.3f} /{tau(nat, reference)[0]:>6.3f}"
            naslib_acc = f"{tau(reference, accuracy)[0]:>6.3f}"
            delta_ref = f"{d_ref[0]:>+6.3f} [{d_ref[1]:+.3f},{d_ref[2]:+.3f}]"
        lines.append(
            f"{name:<10}{len(syn):>5}  {ref_part}"
            f"  {tau(syn, accuracy)[0]:>10.3f} /{tau(nat, accuracy)[0]:>5.3f}"
            f"  {naslib_acc}  {delta_ref}"
            f"  {d_acc[0]:>+6.3f} [{d_acc[1]:+.3f},{d_acc[2]:+.3f}]  {decide(d_ref, d_acc)}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["populate", "report"])
    parser.add_argument("--source", choices=SOURCES)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/fid"))
    parser.add_argument("--naslib", type=Path, default=NASLIB)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.step == "populate":
        if args.source is None:
            parser.error("populate needs --source")
        run_populate(args.dir, args.source, args.naslib)
        return
    lines = report(args.dir, args.naslib)
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
