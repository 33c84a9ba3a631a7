"""``tfnas-db dashboard``: start the Streamlit app on a store."""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from tfnas_db.cli.output import DbOption
from tfnas_db.db.store import check_backend, resolve_url
from tfnas_db.errors import TfnasError


def check_port_free(port: int) -> None:
    """Refuse a port another server listens on (Streamlit would print a traceback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise TfnasError(
                    f"port {port} is in use (another dashboard?): pick another with --port"
                ) from None
            if exc.errno == errno.EACCES:
                raise TfnasError(
                    f"port {port} needs privileges to serve on: pick one above 1023 with --port"
                ) from None
            raise


def dashboard_command(
    port: Annotated[int, typer.Option(help="Port to serve on (1-65535).", min=1, max=65535)] = 8501,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = True,
    db: DbOption = None,
) -> None:
    """Start the web dashboard on the store (Ctrl-C to stop)."""
    parsed = resolve_url(db)
    check_backend(parsed)
    check_port_free(port)
    url = parsed.render_as_string(hide_password=False)
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
