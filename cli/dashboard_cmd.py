"""``tfnas-db dashboard``: start the Streamlit app on a store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tfnas_db.cli.output import DbOption
from tfnas_db.db.store import resolve_url


def dashboard_command(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = True,
    db: DbOption = None,
) -> None:
    """Start the web dashboard on the store (Ctrl-C to stop)."""
    url = resolve_url(db).render_as_string(hide_password=False)
    app = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    env = {**os.environ, "TFNAS_DB_URL": url}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.headless",
        str(headless).lower(),
        "--browser.gatherUsageStats",
        "false",
    ]
    # Replace this process with Streamlit's (rather than waiting on a child): a signal to
    # `tfnas-db dashboard` (Ctrl-C, or a script stopping the server it started) then reaches
    # the server itself and leaves no orphaned Streamlit process behind.
    sys.stdout.flush()
    os.execve(sys.executable, command, env)
