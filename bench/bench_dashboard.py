"""Seconds to open each dashboard page on a store (target: under 2 s on a full store).

Two measurements per page:
- server side, with streamlit's AppTest: the page script's run with empty caches (what the
  first visitor waits for) and with warm caches (every later visit, widget change or page
  switch within the cache TTL);
- with --browser, in headless chromium against ``tfnas-db dashboard``: from navigation
  until every chart is drawn and the script has finished (cold server, then warm).

Usage:
  python bench/bench_dashboard.py --db STORE [--repeat 3] [--browser [--screenshots DIR]]
                                   [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tfnas_db.dashboard import data
from tfnas_db.dashboard.pages import PAGES
from tfnas_db.dashboard.serve import served_dashboard

logging.getLogger("streamlit").setLevel(logging.ERROR)
APP = str(Path(data.__file__).resolve().parent / "app.py")


def apptest_seconds(url: str, repeat: int) -> dict[str, dict[str, float]]:
    os.environ["TFNAS_DB_URL"] = url
    warmup = AppTest.from_file(APP, default_timeout=300)  # imports, not the pages' queries
    warmup.run()
    out: dict[str, dict[str, float]] = {}
    for page in PAGES:
        cold, warm = [], []
        for _ in range(repeat):
            data.clear_caches()
            app = AppTest.from_file(APP, default_timeout=300)
            if page is not PAGES[0]:
                app.switch_page(f"views/{page.file}")
            started = time.perf_counter()
            app.run()
            cold.append(time.perf_counter() - started)
            if app.exception:
                raise SystemExit(f"{page.file}: {app.exception[0].value}")
            started = time.perf_counter()
            app.run()
            warm.append(time.perf_counter() - started)
        out[page.file] = {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm)}
    return out


def browser_seconds(
    url: str, repeat: int, screenshots: Path | None = None
) -> dict[str, dict[str, float]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1700",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    out: dict[str, dict[str, float]] = {}
    with served_dashboard(url) as base:
        for round_name in ("cold", *(["warm"] * repeat)):
            for page in PAGES:
                started = time.perf_counter()
                driver.get(f"{base}/{page.url_path}")
                WebDriverWait(driver, 120, poll_frequency=0.05).until(
                    lambda drv, page=page: drv.execute_script(page.ready_script)
                )
                seconds = time.perf_counter() - started
                entry = out.setdefault(page.file, {"cold_s": 0.0, "warm_s": []})  # type: ignore[dict-item]
                if round_name == "cold":
                    entry["cold_s"] = seconds
                    if screenshots is not None:
                        time.sleep(1.0)  # let chart transitions settle
                        screenshots.mkdir(parents=True, exist_ok=True)
                        stem = Path(page.file).stem
                        driver.save_screenshot(str(screenshots / f"full-{stem}.png"))
                else:
                    entry["warm_s"].append(seconds)  # type: ignore[attr-defined]
    driver.quit()
    return {
        k: {"cold_s": v["cold_s"], "warm_s": statistics.median(v["warm_s"])}  # type: ignore[arg-type]
        for k, v in out.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--screenshots", type=Path, help="with --browser: save full-<page>.png here"
    )
    args = parser.parse_args()
    from tfnas_db.db.coverage import store_overview
    from tfnas_db.db.store import open_store
    from tfnas_db.scoring.registry import DEFAULT_SCORERS

    with open_store(args.db).session() as session:
        overview = store_overview(session, DEFAULT_SCORERS)
    record: dict[str, object] = {
        "store": {
            "dialect": args.db.split(":", 1)[0],
            "runs": [(c.run.scorer, c.run.dataset, c.run.n_scores) for c in overview.coverage],
        },
        "apptest": apptest_seconds(args.db, args.repeat),
    }
    print(json.dumps(record["apptest"], indent=1), flush=True)
    if args.browser:
        record["browser"] = browser_seconds(args.db, args.repeat, args.screenshots)
    print(json.dumps(record, indent=1))
    if args.out:
        args.out.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
