"""Write the bundled score release (data/release) from stores that populate filled.

The release is computed by tfnas-db's own populate with its defaults, e.g.::

    tfnas-db populate --db release.db --dataset cifar100 --scorers synflow,logsynflow
    python scripts/build_release.py --db release.db --scorers synflow,logsynflow

writes every finished run that covers the whole space as one Parquet file plus a
manifest (see tfnas_db.jobs.release_build). A computation longer than one working session
is split into shards, each in its own store, each written as a part when it finishes::

    tfnas-db populate --db s3.db --dataset cifar10 --scorers naswot,jacov,epe_nas \
        --shard 3/8 --threads 1
    python scripts/build_release.py --db s3.db --shard 3/8 --threads 1   # -> a parts folder
    python scripts/build_release.py --assemble               # all 8 there -> data/release

A scorer whose computation never touches the dataset (loss_slope on the synthetic
minibatch: same inputs and cell weights, classifier dropped) computes the same bits on
cifar100 as on cifar10; its cifar10 set is copied after re-scoring a random sample on
both datasets here and finding every value equal::

    python scripts/build_release.py --copy-dataset cifar10:cifar100 --scorers loss_slope

Only runs with the default batch size and seed, and the scorer's default data source,
are written: the release must be what a user's populate with default options computes.
"""

from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

from sqlalchemy import select

from tfnas_db.db.models import Dataset, ScoreRun, SearchSpace
from tfnas_db.db.release import release_folder
from tfnas_db.db.store import open_store
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.populate import parse_shard
from tfnas_db.jobs.release_build import assemble_release, write_release_file
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import get_space

DEFAULT_BATCH_SIZE = 128
DEFAULT_SEED = 0
# Parts are work in progress: they live outside the repository (only assembled, verified
# sets are committed, under data/release/).
PARTS_FOLDER = Path(os.environ.get("TFNAS_RELEASE_PARTS", "~/tfnas-release-parts")).expanduser()


def write_runs(args: argparse.Namespace) -> None:
    wanted = {spec.name for spec in REGISTRY.resolve(args.scorers)}
    shard = parse_shard(args.shard) if args.shard else None
    out = args.out or (PARTS_FOLDER if shard else release_folder())
    store = open_store(args.db, bootstrap=False)
    with store.session() as session:
        runs = session.execute(
            select(ScoreRun.id, ScoreRun.scorer, SearchSpace.name, Dataset.name)
            .join(SearchSpace, SearchSpace.id == ScoreRun.space_id)
            .join(Dataset, Dataset.id == ScoreRun.dataset_id)
            .where(
                ScoreRun.origin == "computed",
                ScoreRun.batch_size == DEFAULT_BATCH_SIZE,
                ScoreRun.seed == DEFAULT_SEED,
            )
            .order_by(ScoreRun.id)
        ).all()
        for run_id, scorer, space, dataset in runs:
            if scorer not in wanted:
                continue
            spec = REGISTRY.get(scorer)
            run = session.get(ScoreRun, run_id)
            assert run is not None
            if run.scorer_version != spec.version:
                print(f"skip run {run_id}: {scorer} version {run.scorer_version} is stale")
                continue
            if run.data_source not in ("none", spec.default_data):
                print(f"skip run {run_id}: {scorer} on {run.data_source}, not its default data")
                continue
            try:
                manifest = write_release_file(
                    session,
                    run_id,
                    out,
                    gpu_model=args.gpu_model,
                    shard=shard,
                    threads=args.threads,
                )
            except TfnasError as exc:  # an unfinished run: say so and go on
                print(f"skip run {run_id} ({scorer} on {space}/{dataset}): {exc}")
                continue
            print(
                f"wrote {out}/{space}/{dataset}/{manifest.file}: {manifest.row_count} rows "
                f"{manifest.status_counts}"
            )


def assemble(args: argparse.Namespace) -> None:
    parts_root = args.parts or PARTS_FOLDER
    out = args.out or release_folder()
    groups = sorted({(p.parent, p.name.split(".shard-")[0]) for p in parts_root.glob("*/*/*.json")})
    for folder, scorer in groups:
        space = get_space(folder.parent.name)
        try:
            manifest = assemble_release(folder, scorer, out, space.n_archs)
        except TfnasError as exc:
            print(f"not assembled: {exc}")
            continue
        print(
            f"assembled {out}/{manifest.space}/{manifest.dataset}/{manifest.file}: "
            f"{manifest.row_count} rows {manifest.status_counts}"
        )
        if not args.keep_parts:  # the set is whole: its parts would only be a second copy
            for part in folder.glob(f"{scorer}.shard-*-of-*.*"):
                part.unlink()


def copy_dataset(args: argparse.Namespace) -> None:
    from tfnas_db.db.release import bundled_manifests
    from tfnas_db.jobs.release_build import copy_release_file, machine_cpu
    from tfnas_db.jobs.release_check import ReleaseRescorer, dataset_differences

    source, _, target = args.copy_dataset.partition(":")
    if args.scorers == "all" or not target:
        raise SystemExit("--copy-dataset FROM:TO needs --scorers: only the scorers it holds for")
    wanted = {spec.name for spec in REGISTRY.resolve(args.scorers)}
    out = args.out or release_folder()
    chosen = [(p, m) for p, m in bundled_manifests(out) if m.dataset == source]
    if missing := wanted - {m.scorer for _, m in chosen}:
        raise SystemExit(f"no {source} file in {out} for {', '.join(sorted(missing))}")
    rng = random.Random(args.check_seed)
    rescorer = ReleaseRescorer()
    for path, manifest in chosen:
        if manifest.scorer not in wanted:
            continue
        indices = rng.sample(range(get_space(manifest.space).n_archs), args.check)
        differences = dataset_differences(rescorer, manifest, target, indices)
        if differences:
            raise SystemExit(
                f"not copied: {len(differences)} of {args.check} differ, e.g. {differences[0]}"
            )
        check = (
            f"checked before copying: {args.check} random architectures (seed "
            f"{args.check_seed}) re-scored on both datasets on {machine_cpu()} with "
            f"{manifest.threads} thread(s), every value equal"
        )
        copied = copy_release_file(path, manifest, target, out, check)
        print(f"copied {manifest.space}/{source}/{manifest.file} to {target}: {check}")
        print(f"  {copied.row_count} rows {copied.status_counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the store populate filled")
    parser.add_argument("--scorers", default="all", help="comma-separated names, or all")
    parser.add_argument("--shard", help="I/N: the store holds populate --shard I/N; write parts")
    parser.add_argument("--assemble", action="store_true", help="join finished parts")
    parser.add_argument(
        "--keep-parts", action="store_true", help="--assemble: leave the parts in place"
    )
    parser.add_argument(
        "--parts",
        type=Path,
        default=None,
        help="parts folder (default $TFNAS_RELEASE_PARTS or ~/tfnas-release-parts)",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--gpu-model", default=None, help="the GPU that scored, if any")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads populate scored with (--threads)"
    )
    parser.add_argument(
        "--copy-dataset", metavar="FROM:TO", help="copy a set the dataset does not change"
    )
    parser.add_argument("--check", type=int, default=24, help="--copy-dataset: archs re-scored")
    parser.add_argument("--check-seed", type=int, default=20261205)
    args = parser.parse_args()
    if args.assemble:
        assemble(args)
    elif args.copy_dataset:
        copy_dataset(args)
    elif args.db:
        write_runs(args)
    else:
        parser.error("give --db (write runs or parts) or --assemble")


if __name__ == "__main__":
    main()
