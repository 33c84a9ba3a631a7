"""The ``tfnas-db`` command: a thin skin over db/, scoring/ and search/.

``main`` runs the click command in non-standalone mode so that every user error (a bad
option, a :class:`TfnasError`, an unreachable database) ends as one ``error: ...`` line
on stderr with exit code 2, instead of a usage box or a traceback.
"""

from __future__ import annotations

import os
import sys

import click
import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from tfnas_db import __version__
from tfnas_db.cli import db_cmd
from tfnas_db.cli.analysis_cmd import correlate_command, export_command
from tfnas_db.cli.dashboard_cmd import dashboard_command
from tfnas_db.cli.populate_cmd import populate_command
from tfnas_db.cli.reproduce_cmd import reproduce_command
from tfnas_db.cli.runs_cmd import runs_command
from tfnas_db.cli.scorers_cmd import scorers_command
from tfnas_db.cli.search_cmd import search_command
from tfnas_db.cli.variance_cmd import variance_command
from tfnas_db.errors import TfnasError

app = typer.Typer(
    name="tfnas-db",
    help="A precomputed database of training-free NAS scores: populate it once, then search "
    "and analyse with cheap queries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cmd.app, name="db")
app.command("populate")(populate_command)
app.command("search")(search_command)
app.command("correlate")(correlate_command)
app.command("export")(export_command)
app.command("reproduce")(reproduce_command)
app.command("runs")(runs_command)
app.command("scorers")(scorers_command)
app.command("variance")(variance_command)
app.command("dashboard")(dashboard_command)


def _version(value: bool) -> None:
    if value:
        print(f"tfnas-db {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """tfnas-db."""


def _fail(message: str, code: int = 2) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"error: {first}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="tfnas-db", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("interrupted", 130)
    except click.ClickException as exc:
        _fail(exc.format_message())
    except TfnasError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OperationalError as exc:
        _fail(f"database error: {exc.orig or exc}")
    except SQLAlchemyError as exc:
        _fail(f"database error: {exc}")
    except Exception as exc:
        if os.environ.get("TFNAS_DEBUG"):
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (set TFNAS_DEBUG=1 for the traceback)")
    if isinstance(result, int) and result:
        sys.exit(result)


if __name__ == "__main__":
    main()
