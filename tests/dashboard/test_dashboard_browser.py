"""`groupkit dashboard` in a real browser: Voila serves the Explorer, Vega draws the charts.

One server start, one page: open it, wait for the charts' SVG, choose one group in the
picker, and see the charts redrawn with only that group. Skips (saying why) where
Chromium, Playwright or Voila is missing; CI installs all three.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SAMPLE = Path(__file__).parents[2] / "sample_data" / "webhooks"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright is not installed"
    ),
    pytest.mark.skipif(importlib.util.find_spec("voila") is None, reason="voila is not installed"),
]

FUNNEL = ".groupkit-chart-funnel svg"


def listening(url: str) -> bool:
    # Only connect: every GET of the page would start a kernel and run the notebook.
    host, port = url.split("//")[1].strip("/").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def dashboard_url():
    process = subprocess.Popen(
        [sys.executable, "-c", "from groupkit.cli import main; main()", "dashboard", str(SAMPLE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so the test can stop Voila and its kernel with it
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", first)
        assert match, f"no URL printed: {first!r}"
        url = match.group(0)
        wait_for(lambda: listening(url) or process.poll() is not None, timeout=60.0, interval=0.1)
        assert process.poll() is None, "the dashboard stopped: " + process.stdout.read()
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        process.stdout.close()


def drawn_groups(page, chart: str) -> set[str]:
    """The groups of the marks Vega drew, read from their SVG aria-labels ("group: X; ...")."""
    labels = page.eval_on_selector_all(
        f".groupkit-chart-{chart} svg .role-mark path",
        "nodes => nodes.map(n => n.getAttribute('aria-label') || '')",
    )
    return {m.group(1) for label in labels if (m := re.search(r"group: ([^;]+)", label))}


def test_choosing_a_group_redraws_the_charts_in_the_browser(dashboard_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(dashboard_url, timeout=60_000)
            # Vega draws the funnel's bars into the DOM as SVG (no CDN: the bundle
            # comes from vl-convert through the kernel).
            page.wait_for_selector(f"{FUNNEL} .mark-rect path", timeout=90_000)
            picker = page.locator(".groupkit-explorer select[multiple]")
            # ipywidgets shows spaces in option labels as no-break spaces.
            options = [o.replace("\xa0", " ") for o in picker.locator("option").all_text_contents()]
            before_svg = page.inner_html(FUNNEL)
            assert len(options) > 1
            assert drawn_groups(page, "funnel") == set(options)
            assert drawn_groups(page, "latency-percentiles") == set(options)

            chosen = options[-1]
            picker.select_option(index=len(options) - 1)
            page.wait_for_function(
                "([selector, before]) => {"
                "  const svg = document.querySelector(selector);"
                "  return svg !== null && svg.innerHTML !== before; }",
                arg=[FUNNEL, before_svg],
                timeout=60_000,
            )
            # Charts redraw one after another; wait until the last one shows one group.
            page.wait_for_function(
                "(label) => { const marks = [...document.querySelectorAll("
                "  '.groupkit-chart-latency-percentiles svg .role-mark path')];"
                "  return marks.length > 0 && marks.every("
                "    n => (n.getAttribute('aria-label') || '').includes('group: ' + label)); }",
                arg=chosen,
                timeout=60_000,
            )
            assert drawn_groups(page, "funnel") == {chosen}
            assert drawn_groups(page, "latency-percentiles") == {chosen}
            assert page.inner_text(".groupkit-summary").startswith("1 groups")
        finally:
            browser.close()
