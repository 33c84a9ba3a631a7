"""``--score-missing``: score what a search visited and the store lacks, then search again.

ET-NAS reads its costliest measure (loss_slope) only on its Pareto fronts, as the paper
computes it only there; on a store that holds it for few architectures, the search names
the ones it needs (``tfnas_db.errors.ScoresNeeded``) and this scores exactly those.
"""

from __future__ import annotations

from collections.abc import Sequence

from tfnas_db.cli.output import err_console
from tfnas_db.db.queries import pick_run
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.populate import PopulateConfig, populate


def score_needed(
    store: Store,
    space: str,
    dataset: str,
    scorer: str,
    arch_index: Sequence[int],
    *,
    quiet: bool = False,
) -> None:
    """Populate the needed architectures into the run the search reads (same batch size,
    seed and data source), or a new run with populate's defaults if there is none."""
    with store.session() as session:
        try:
            run = pick_run(session, space, dataset, scorer)
        except TfnasError:
            run = None
    options: dict[str, object] = {}
    if run is not None:
        if run.data_source == "real":
            raise TfnasError(
                f"the stored {scorer} run {run.id} on {dataset} was scored on real data; "
                f"score the {len(arch_index)} missing architectures with tfnas-db populate "
                f"--scorers {scorer} --data-dir DIR --archs FILE"
            )
        options = {
            "batch_size": run.batch_size,
            "seed": run.seed,
            "data_source": None if run.data_source == "none" else run.data_source,
        }
    archs = [str(i) for i in arch_index]
    err_console.print(
        f"scoring {scorer} for the {len(archs)} architectures the search needs "
        f"on {dataset} ({space})"
    )
    populate(
        store,
        PopulateConfig(space=space, dataset=dataset, scorers=scorer, archs=archs, **options),
        show_progress=not quiet,
    )
