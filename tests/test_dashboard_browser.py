"""End to end: ``tfnas-db dashboard`` on a small populated store, every page opened in
headless Debian chromium; the charts must render. Screenshots go to the test's temporary
folder, or to ``$TFNAS_SCREENSHOT_DIR`` (``TFNAS_SCREENSHOT_DIR=docs/screenshots`` refreshes
the README's), so a test run leaves the checkout as it was.

Skips with a message where chromium, chromedriver or selenium is missing; ``.ci/run``
installs them and sets TFNAS_REQUIRE_BROWSER=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import HANG_GUARD_SECONDS, populated_store

from tfnas_db.dashboard.pages import PAGES
from tfnas_db.dashboard.serve import served_dashboard

SCREENSHOT_DIR = os.environ.get("TFNAS_SCREENSHOT_DIR")


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


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_dashboard(
        populated_store(tmp_path_factory.mktemp("browser")), timeout=HANG_GUARD_SECONDS
    ) as base:
        yield base


def test_every_page_renders_its_charts_in_chromium(browser, dashboard: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    screenshots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    screenshots.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        browser.get(f"{dashboard}/{page.url_path}")

        WebDriverWait(browser, HANG_GUARD_SECONDS).until(
            lambda driver, page=page: driver.execute_script(page.ready_script)
        )
        time.sleep(1.0)  # let the last chart finish its transition before the screenshot
        heading = browser.find_element(By.TAG_NAME, "h1").text
        assert heading, page.file
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentError"]')
        browser.save_screenshot(str(screenshots / f"{Path(page.file).stem}.png"))
        assert (screenshots / f"{Path(page.file).stem}.png").stat().st_size > 0
