"""A real browser (Debian's headless Chromium) opens the report and draws every chart.

Skips, saying why, where Chromium or Playwright is missing; CI installs both.  Never
downloads a browser: Playwright drives the system's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from groupkit import report

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "webhooks"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Per chart: is there an SVG, and how many mark shapes (lines, bars, cells) does it hold?
_MARKS_JS = """
() => Array.from(document.querySelectorAll('div.chart')).map((div) => {
  const svg = div.querySelector('svg');
  return {
    id: div.id,
    svg: svg !== null,
    marks: svg ? svg.querySelectorAll('g.mark-line path, g.mark-rect path, path.mark-rect').length
      + svg.querySelectorAll('g[class*="mark-"] path').length : 0,
  };
})
"""


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium); CI installs it")
    return path


def test_every_chart_draws_in_chromium(tmp_path):
    executable = _chromium()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    out = report.write_report(SAMPLE, tmp_path / "report.html")
    problems: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        # Playwright starts Chromium with a fresh temporary profile of its own.
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri())
            page.wait_for_function("window.groupkitRendered !== undefined", timeout=20_000)
            page.evaluate("() => window.groupkitRendered.then(() => true)")
            charts = page.evaluate(_MARKS_JS)
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert len(charts) == 11
    for chart in charts:
        assert chart["svg"], f"{chart['id']} drew no SVG"
        assert chart["marks"] > 0, f"{chart['id']} has no marks"
    assert problems == []
    assert [url for url in requests if not url.startswith("file:")] == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
