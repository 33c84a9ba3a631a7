"""The migrations ship inside the package: a non-editable wheel can upgrade a store."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installed_non_editable_runs_db_upgrade(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            str(ROOT),
            "-w",
            str(wheels),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("tfnas_db-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    # dependencies come from the test environment (no network needed); tfnas-db itself
    # from the wheel, so the editable install's path mapping cannot leak in
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    url = f"sqlite:///{tmp_path / 'wheel.db'}"
    where = subprocess.run(
        [str(python), "-c", "import tfnas_db.db.store as s; print(s.migrations_folder())"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(site), where
    out = subprocess.run(
        [str(venv / "bin" / "tfnas-db"), "db", "upgrade", "--db", url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "upgraded (empty) -> " in out.stdout
    status = subprocess.run(
        [str(venv / "bin" / "tfnas-db"), "db", "status", "--db", url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "up to date" in status.stdout
    # the dashboard's page scripts are data files of the package: every registered page ships
    pages = subprocess.run(
        [
            str(python),
            "-c",
            "from tfnas_db.dashboard.pages import PAGES; print(all(p.path.is_file() for p in "
            "PAGES), PAGES[0].path)",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.split()
    assert pages[0] == "True" and pages[1].startswith(site), pages
    # the bundled score release ships as package data, every file beside its manifest
    env = {k: v for k, v in os.environ.items() if k != "TFNAS_RELEASE_DIR"}
    release = subprocess.run(
        [
            str(python),
            "-c",
            "from tfnas_db.db.release import bundled_manifests as b, release_folder as f\n"
            "ms = b(); print(len(ms), all(p.with_name(m.file).is_file() for p, m in ms), f())",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout.split()
    assert int(release[0]) >= 12 and release[1] == "True" and release[2].startswith(site), release
