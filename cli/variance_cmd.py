"""``tfnas-db variance``: how far each score moves when only the seed changes."""

from __future__ import annotations

import random
from typing import Annotated

import typer

from tfnas_db.cli.output import (
    DatasetOption,
    DbOption,
    FormatOption,
    OutputFormat,
    SpaceOption,
    console,
    print_csv,
    print_json,
    print_table,
)
from tfnas_db.db.seeds import scores_by_run
from tfnas_db.db.store import open_store
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.populate import PopulateConfig, populate
from tfnas_db.scoring.minibatch import resolve_data
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import DEFAULT_SPACE, get_space
from tfnas_db.search.seed_variance import seed_variance


def variance_command(
    scorers: Annotated[
        str, typer.Option("--scorer", "--scorers", help="Comma-separated scorer names.")
    ] = "naswot",
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 to score with.")] = 5,
    limit: Annotated[int, typer.Option(help="Architectures (a seeded random sample).")] = 200,
    top_k: Annotated[int, typer.Option(help="k of the top-k overlap between seeds.")] = 10,
    space: SpaceOption = DEFAULT_SPACE,
    dataset: DatasetOption = "cifar10",
    batch_size: Annotated[int, typer.Option(help="Minibatch size K.")] = 128,
    data: Annotated[
        str | None,
        typer.Option(help="natural, synthetic or real; default: each scorer's own."),
    ] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="Folder of real data (as for populate).")
    ] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda.")] = None,
    threads: Annotated[
        int | None,
        typer.Option(help="torch threads (default: this machine's cores / its populate workers)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Score the same architectures with seeds 0..N-1 (stored, resumable) and print, per
    scorer, the mean within-architecture std, Kendall tau between seeds and top-k overlap.

    The seed sets both the minibatch and every network's initialisation, so this is the
    spread a user gets from reseeding a populate.
    """
    if seeds < 2:
        raise TfnasError(f"--seeds must be at least 2 to compare seeds, got {seeds}")
    info = get_space(space)
    if not 2 <= limit <= info.n_archs:
        raise TfnasError(f"--limit must be between 2 and {info.n_archs}, got {limit}")
    if top_k < 1:
        raise TfnasError(f"--top-k must be at least 1, got {top_k}")
    specs = REGISTRY.resolve(scorers)
    choice = resolve_data(data, data_dir)
    indices = sorted(random.Random(0).sample(range(info.n_archs), limit))
    store = open_store(db)
    run_ids: dict[str, list[int]] = {spec.name: [] for spec in specs}
    for seed in range(seeds):
        config = PopulateConfig(
            space=space,
            dataset=dataset,
            scorers=[spec.name for spec in specs],
            batch_size=batch_size,
            seed=seed,
            data_dir=choice.data_dir,
            data_source=choice.source,
            archs=[str(i) for i in indices],
            device=device,
            threads=threads,
        )
        summary = populate(store, config, show_progress=not quiet)
        if summary.interrupted:
            raise typer.Exit(130)
        for name, run_id in summary.run_ids.items():
            run_ids[name].append(run_id)
    header = ["scorer", "archs", "seeds", "mean std", "std between", "ratio", "tau mean"]
    header += ["tau min", f"top-{top_k} overlap"]
    rows, records = [], []
    with store.session() as session:
        for name, ids in run_ids.items():
            matrix = scores_by_run(session, ids, indices).to_numpy(float)
            stats = seed_variance(matrix, top_k)
            records.append({"scorer": name, "run_ids": ids, **stats.as_dict()})
            rows.append(
                [
                    name,
                    stats.n_archs,
                    stats.n_seeds,
                    f"{stats.mean_std:.4g}",
                    f"{stats.between_std:.4g}",
                    f"{stats.noise_ratio:.3f}",
                    f"{stats.tau_mean:.3f}",
                    f"{stats.tau_min:.3f}",
                    f"{stats.top_k_overlap:.2f}",
                ]
            )
    if fmt == OutputFormat.json:
        print_json(records)
    elif fmt == OutputFormat.csv:
        print_csv(header, rows)
    else:
        print_table(header, rows)
        console.print(
            f"{limit} architectures of {space} (seeded sample), {dataset}, batch {batch_size}; "
            "ratio = mean std within an architecture / std of the seed-mean across them"
        )
