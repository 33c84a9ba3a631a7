"""Helpers shared by test modules (tests/ is on sys.path under pytest)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest
    from streamlit.testing.v1 import AppTest

# Upper bound on how long one test may wait for a subprocess, a server or a page before
# calling it hung. It only turns a hang into a failure; it never measures speed (the suite
# asserts no timings; bench/ does), so it is far above anything a slow, busy machine needs:
# the slowest wait measured (a CLI store fixture under xdist contention) was about 90 s.
HANG_GUARD_SECONDS = float(os.environ.get("TFNAS_TEST_HANG_GUARD", "1800"))


def tfnas(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, in a fresh process, without the caller's store/data env."""
    env = {k: v for k, v in os.environ.items() if k not in ("TFNAS_DB_URL", "TFNAS_DATA_DIR")}
    return subprocess.run(
        [sys.executable, "-c", "from tfnas_db.cli.app import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=HANG_GUARD_SECONDS,
    )


def dashboard_app_file() -> str:
    from tfnas_db.dashboard import data

    return str(Path(data.__file__).resolve().parent / "app.py")


def open_page(url: str, monkeypatch: pytest.MonkeyPatch, file: str = "overview.py") -> AppTest:
    """One dashboard page on the store at ``url`` under streamlit's AppTest, rendered once
    without an exception (the data layer's caches cleared, so no earlier test's store
    answers)."""
    from streamlit.testing.v1 import AppTest

    from tfnas_db.dashboard import data
    from tfnas_db.dashboard.pages import PAGES

    monkeypatch.setenv("TFNAS_DB_URL", url)
    data.clear_caches()
    app = AppTest.from_file(dashboard_app_file(), default_timeout=HANG_GUARD_SECONDS)
    if file != PAGES[0].file:
        app.switch_page(f"views/{file}")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


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
