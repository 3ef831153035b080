"""The HTML report in headless Chromium: loads offline with no console errors and no network
requests, every section and chart is visible, it fits a phone screen; saves screenshots.

Needs `chromium` + `chromedriver` (Debian: chromium, chromium-driver) and `selenium`. Without
them the test skips with the reason, except under CI (env CI set), where it fails.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from crmkit.report import write_report

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run under CI: {reason}")
    pytest.skip(reason)


def _driver(user_data_dir: str):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install selenium)")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        _missing(
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
    opts = Options()
    opts.binary_location = browser
    for flag in [*FLAGS, f"--user-data-dir={user_data_dir}", "--window-size=1200,1600"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(driver))


def _screenshot(drv, path: Path, width: int, height: int) -> None:
    shot = drv.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}},
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def test_report_in_headless_chromium(report_en, tmp_path: Path):
    html = write_report(report_en, tmp_path / "report.html")
    url = html.resolve().as_uri()
    drv = _driver(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))
    try:
        drv.execute_cdp_cmd("Network.enable", {})
        drv.get_log("performance")  # drop the browser's own start-up page requests
        drv.get_log("browser")
        drv.get(url)
        assert drv.execute_script("return document.readyState") == "complete"
        # Every section and every chart is there and visible.
        for sec in report_en.sections:
            el = drv.find_element("id", sec.key)
            assert el.is_displayed() and el.size["height"] > 20, sec.key
            for chart in sec.charts:
                svg = el.find_element("css selector", f'figure[data-chart="{chart.key}"] svg')
                assert svg.is_displayed(), chart.key
                assert svg.size["width"] > 100 and svg.size["height"] > 40, chart.key
        _screenshot(drv, tmp_path / "report-desktop.png", 1200, 1600)
        # Readable on a phone: nothing wider than the screen except scrollable tables.
        drv.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
        )
        overflow = drv.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 1
        _screenshot(drv, tmp_path / "report-phone.png", 390, 844)
        assert (tmp_path / "report-desktop.png").stat().st_size > 10_000
        # No console errors, and no request other than the page itself.
        errors = [e for e in drv.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        requests = []
        for entry in drv.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg["method"] == "Network.requestWillBeSent":
                requests.append(msg["params"]["request"]["url"])
        assert requests and all(r == url for r in requests), requests
    finally:
        drv.quit()
