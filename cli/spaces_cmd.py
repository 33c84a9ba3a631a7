"""``tfnas-db spaces``: the search spaces this tfnas-db knows, and how each is fed."""

from __future__ import annotations

from tfnas_db.cli.output import FormatOption, OutputFormat, print_csv, print_json, print_table
from tfnas_db.scoring.spaces import DEFAULT_SPACE, SPACES


def spaces_command(fmt: FormatOption = OutputFormat.table) -> None:
    """List the search spaces: size, datasets, the command that brings accuracies, and
    the notions some scorers and strategies need (``cell_degree`` for ET-NAS)."""
    rows = [
        [
            name + (" (default)" if name == DEFAULT_SPACE else ""),
            "from your files" if info.size is None else info.size,
            ",".join(info.datasets),
            ",".join(sorted(info.feature_functions)) or "-",
            info.description,
            info.accuracy_hint,
        ]
        for name, info in SPACES.items()
    ]
    header = ["space", "size", "datasets", "features", "description", "accuracies"]
    if fmt == OutputFormat.json:
        print_json([dict(zip(header, row, strict=True)) for row in rows])
    elif fmt == OutputFormat.csv:
        print_csv(header, rows)
    else:
        print_table(header, rows)
