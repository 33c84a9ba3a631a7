"""Helpers shared by test modules (tests/ is on sys.path under pytest)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def tfnas(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, in a fresh process, without the caller's store/data env."""
    env = {k: v for k, v in os.environ.items() if k not in ("TFNAS_DB_URL", "TFNAS_DATA_DIR")}
    return subprocess.run(
        [sys.executable, "-c", "from tfnas_db.cli.app import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


DASHBOARD_SCORERS = "naswot,relu_count,params,flops,logsynflow,degree"


def populated_store(folder: Path, n_archs: int = 30) -> str:
    """A small real store for dashboard tests: the first ``n_archs`` architectures scored
    with cheap scorers at batch 16 (seconds on a CPU)."""
    url = f"sqlite:///{folder / 'dashboard.db'}"
    for args in (
        ("db", "upgrade", "--db", url),
        (
            "populate",
            "--db",
            url,
            "--limit",
            str(n_archs),
            "--batch-size",
            "16",
            "--quiet",
            "--scorers",
            DASHBOARD_SCORERS,
        ),
    ):
        out = tfnas(*args)
        assert out.returncode == 0, out.stderr
    return url
