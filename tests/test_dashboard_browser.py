"""End to end: ``tfnas-db dashboard`` on a small populated store, every page opened in
headless Debian chromium; the charts must render and screenshots land in docs/screenshots/.

Skips with a message where chromium, chromedriver or selenium is missing; ``.ci/run``
installs them and sets TFNAS_REQUIRE_BROWSER=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import populated_store

from tfnas_db.dashboard.pages import PAGES

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("TFNAS_SCREENSHOT_DIR", REPO / "docs" / "screenshots"))
# Charts each page must draw: Vega-Lite (Altair) charts, and Graphviz drawings.
EXPECTED = {
    "overview.py": (1, 0),
    "explorer.py": (0, 1),
    "correlations.py": (1, 0),
    "search.py": (1, 0),
    "penalties.py": (2, 0),
}


def _need(what: str) -> None:
    message = (
        f"browser test needs {what} (apt-get install chromium chromium-driver; "
        "pip install selenium)"
    )
    if os.environ.get("TFNAS_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; TFNAS_REQUIRE_BROWSER=1 makes it mandatory")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _need("selenium")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        _need("chromium and chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--window-size=1400,1700",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
    yield driver
    driver.quit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = populated_store(tmp_path_factory.mktemp("browser"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "TFNAS_DB_URL"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tfnas_db.cli.app import main; main()",
            "dashboard",
            "--db",
            url,
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"dashboard did not start: {server.stderr.read().decode()[-2000:]}")
        time.sleep(0.5)
    yield base
    server.terminate()
    server.wait(timeout=30)


def _rendered(vega: int, graphviz: int):  # type: ignore[no-untyped-def]
    """Wait condition: the page's charts are drawn and its script is no longer running."""
    from selenium.webdriver.common.by import By

    def done(driver) -> bool:  # type: ignore[no-untyped-def]
        drawn = driver.find_elements(
            By.CSS_SELECTOR,
            '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg',
        )
        cells = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stGraphVizChart"] svg')
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        return len(drawn) >= vega and len(cells) >= graphviz and not running

    return done


def test_every_page_renders_its_charts_in_chromium(browser, dashboard: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        vega, graphviz = EXPECTED[page.file]
        browser.get(f"{dashboard}/{page.url_path}")

        WebDriverWait(browser, 90).until(_rendered(vega, graphviz))
        time.sleep(1.0)  # let the last chart finish its transition before the screenshot
        heading = browser.find_element(By.TAG_NAME, "h1").text
        assert heading, page.file
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentError"]')
        browser.save_screenshot(str(SCREENSHOTS / f"{Path(page.file).stem}.png"))
