"""``tfnas-db scorers``: what can be scored, what each needs, and where it comes from."""

from __future__ import annotations

from tfnas_db.cli.output import FormatOption, OutputFormat, print_csv, print_json, print_table
from tfnas_db.scoring.registry import REGISTRY, Need, ScorerSpec
from tfnas_db.scoring.spaces import SPACES


def _needs(needs: Need) -> str:
    if needs == Need.DATA_FREE:
        return "data-free"
    return "+".join(flag.name.lower() for flag in Need if flag.value and flag in needs)


def _spaces(spec: ScorerSpec) -> str:
    """The spaces that define the scorer (``degree`` needs a cell whose edges carry ops)."""
    return ",".join(
        name for name, info in SPACES.items() if not spec.requires or info.supports(spec.requires)
    )


def scorers_command(fmt: FormatOption = OutputFormat.table) -> None:
    """List the registered scorers (higher is better for every stored score).

    ``data`` is the minibatch populate scores each on unless --data says otherwise.
    """
    rows = [
        [
            s.name,
            _needs(s.needs),
            s.default_data,
            s.version,
            ",".join(s.aliases),
            _spaces(s),
            s.citation,
        ]
        for s in REGISTRY.specs()
    ]
    header = ["name", "needs", "data", "version", "aliases", "spaces", "citation"]
    if fmt == OutputFormat.json:
        print_json([dict(zip(header, row, strict=True)) for row in rows])
    elif fmt == OutputFormat.csv:
        print_csv(header, rows)
    else:
        print_table(header, rows)
