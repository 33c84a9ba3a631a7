"""Write the bundled score release (data/release) from a store that populate filled.

The release is computed by tfnas-db's own populate with its defaults, e.g.::

    tfnas-db populate --db release.db --dataset cifar100 --scorers synflow,logsynflow

then every finished run that covers the whole space is written here as one Parquet file
plus a manifest (see tfnas_db.db.release)::

    python scripts/build_release.py --db release.db --scorers synflow,logsynflow

Only runs with the default batch size and seed, and the scorer's default data source,
are written: the release must be what a user's populate with default options computes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy import select

from tfnas_db.db.models import Dataset, ScoreRun, SearchSpace
from tfnas_db.db.release import release_folder, write_release_file
from tfnas_db.db.store import open_store
from tfnas_db.scoring.registry import REGISTRY

DEFAULT_BATCH_SIZE = 128
DEFAULT_SEED = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the store populate filled")
    parser.add_argument("--scorers", default="all", help="comma-separated names, or all")
    parser.add_argument("--out", type=Path, default=release_folder())
    parser.add_argument("--gpu-model", default=None, help="the GPU that scored, if any")
    args = parser.parse_args()

    wanted = {spec.name for spec in REGISTRY.resolve(args.scorers)}
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
            try:
                manifest = write_release_file(session, run_id, args.out, gpu_model=args.gpu_model)
            except Exception as exc:  # an unfinished run: say so and go on
                print(f"skip run {run_id} ({scorer} on {space}/{dataset}): {exc}")
                continue
            print(
                f"wrote {space}/{dataset}/{manifest.file}: {manifest.row_count} rows "
                f"{manifest.status_counts}"
            )


if __name__ == "__main__":
    main()
