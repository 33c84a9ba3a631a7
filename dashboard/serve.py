"""Run ``tfnas-db dashboard`` in a child process until the caller is done with it.

For scripts that drive the dashboard from outside (the end-to-end test, the page-open
bench): they need a served app at a known URL, started the way a user starts it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from tfnas_db.errors import TfnasError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_dashboard(db: str, port: int | None = None, timeout: float = 90.0) -> Iterator[str]:
    """Yield the base URL once Streamlit's health check answers; stop the server after."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k != "TFNAS_DB_URL"}
    command = [sys.executable, "-c", "from tfnas_db.cli.app import main; main()", "dashboard"]
    server = subprocess.Popen(
        [*command, "--db", db, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while not dashboard_answers(base):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                stderr = server.stderr.read().decode() if server.stderr else ""
                raise TfnasError(f"the dashboard did not start: {stderr.strip()[-500:]}")
            time.sleep(0.5)
        yield base
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


def dashboard_answers(base: str) -> bool:
    """Whether a Streamlit server answers its health check at ``base``."""
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False
