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
from tfnas_db.cli import db_cmd, import_cmd
from tfnas_db.cli.analysis_cmd import correlate_command, export_command
from tfnas_db.cli.dashboard_cmd import dashboard_command
from tfnas_db.cli.populate_cmd import populate_command
from tfnas_db.cli.reproduce_cmd import reproduce_command
from tfnas_db.cli.runs_cmd import runs_command
from tfnas_db.cli.scorers_cmd import scorers_command
from tfnas_db.cli.search_cmd import search_command
from tfnas_db.cli.spaces_cmd import spaces_command
from tfnas_db.cli.variance_cmd import variance_command
from tfnas_db.db.store import operational_message
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
app.add_typer(import_cmd.app, name="import")
app.command("populate")(populate_command)
app.command("search")(search_command)
app.command("correlate")(correlate_command)
app.command("export")(export_command)
app.command("reproduce")(reproduce_command)
app.command("runs")(runs_command)
app.command("scorers")(scorers_command)
app.command("spaces")(spaces_command)
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


def _typer_click(name: str) -> tuple[type[BaseException], ...]:
    """typer >= 0.20 ships its own copy of click (``typer._click``) whose exceptions are
    not click's: a usage error must be caught in both forms, or it reads "unexpected"."""
    try:
        from typer._click import exceptions
    except ImportError:  # older typer: click's own classes are the only ones
        return ()
    found = getattr(exceptions, name, None)
    return (found,) if isinstance(found, type) else ()


USAGE_ERRORS = (click.ClickException, *_typer_click("ClickException"))
EXITS = (click.exceptions.Exit, typer.Exit)
ABORTS = (click.exceptions.Abort, typer.Abort)


def _usage_message(exc: BaseException) -> str:
    """click's message, minus the validator's "Value error, " prefix."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    return str(message).replace(": Value error, ", ": ")


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    target = exc.filename if exc.filename is not None else None
    return f"{reason}: {target}" if target else reason


def _fail(message: str, code: int = 2) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"error: {first}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="tfnas-db", standalone_mode=False)
    except EXITS as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    except ABORTS:
        _fail("interrupted", 130)
    except USAGE_ERRORS as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help is the message
            message = _usage_message(exc).strip()
            if message:
                print(message)
            sys.exit(2)
        _fail(_usage_message(exc))
    except TfnasError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OperationalError as exc:
        _fail(operational_message(exc))
    except SQLAlchemyError as exc:
        _fail(f"database error: {exc}")
    except OSError as exc:  # a full disk, a permission: the environment, not a bug
        _fail(_os_message(exc))
    except MemoryError:
        _fail("out of memory: try a smaller --batch-size or --limit")
    except Exception as exc:
        if os.environ.get("TFNAS_DEBUG"):
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (set TFNAS_DEBUG=1 for the traceback)")
    if isinstance(result, int) and result:
        sys.exit(result)


if __name__ == "__main__":
    main()
