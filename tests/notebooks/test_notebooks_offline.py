"""The notebooks as a reader gets them: charts that draw with no network, no scaffolding.

The stored outputs are what a reader opens (nbval checks that re-running the
notebooks gives them again).  Each notebook is exported to HTML with nbconvert, as
a viewer shows it, and opened in headless Chromium with every request that is not
the page itself refused: each chart must still draw, from the Vega that
:func:`groupkit.charts.enable_offline` inlined.  A chart that loaded Vega from a CDN
(altair's default) would draw nothing here.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _html_outputs(cell: dict) -> list[str]:
    return [
        "".join(out.get("data", {}).get("text/html", ""))
        for out in cell.get("outputs", [])
        if "text/html" in out.get("data", {})
    ]


def _charts(path: Path) -> int:
    return sum(
        html.count('class="groupkit-chart"')
        for cell in _cells(path)
        for html in _html_outputs(cell)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_scaffolding_shows(path):
    for cell in _cells(path):
        source = "".join(cell["source"])
        assert "NBVAL" not in source.upper().replace("-", "_"), source[:80]
        assert "nbval" not in source.lower()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_chart_output_points_at_the_network(path):
    seen_bundle = False
    for cell in _cells(path):
        for html in _html_outputs(cell):
            # enable_offline's output: the bundle, then a note in a div of its own
            seen_bundle = seen_bundle or 'class="groupkit-offline"' in html
            if "vegaEmbed" in html or "vega" in html.lower():
                assert not re.search(r"""<script[^>]+src=["']?https?:""", html)
                assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
                assert not re.search(r"""require\.config|import\(["']https?:""", html)
            if 'class="groupkit-chart"' in html:
                assert seen_bundle, "a chart before the cell that inlines Vega"


def test_the_analysis_notebooks_have_charts():
    assert {p.stem for p in NOTEBOOKS if _charts(p)} >= {
        "02_latency_by_group",
        "03_errors",
    }


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium); CI installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if _charts(p)], ids=[p.stem for p in NOTEBOOKS if _charts(p)]
)
def test_every_chart_draws_with_the_network_refused(path, browser, tmp_path):
    nbconvert = pytest.importorskip("nbconvert")
    body, _ = nbconvert.HTMLExporter(template_name="basic").from_filename(str(path))
    page_file = tmp_path / f"{path.stem}.html"
    page_file.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    refused: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:

        def only_the_page(route):
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_page)
        page.goto(page_file.as_uri())
        expected = _charts(path)
        page.wait_for_function(
            f"document.querySelectorAll('.groupkit-chart svg').length >= {expected}",
            timeout=30_000,
        )
        drawn = page.eval_on_selector_all(
            ".groupkit-chart",
            "(divs) => divs.map((d) => d.querySelectorAll('svg path, svg line').length)",
        )
    finally:
        page.close()
    assert len(drawn) == expected and all(marks > 0 for marks in drawn), drawn
    assert refused == []  # nothing even tried the network
