"""A real browser (Debian's headless Chromium) opens the report of a 50-group archive.

At 1,280 px: nothing overflows sideways, every chart draws (the cost, webhook-health and
pin charts included), nothing is fetched from the network, the headline names the
slowest group first (the simulator's truth says which), and the groups table sorts and
pages.  Skips, saying why, where Chromium or Playwright
is missing; CI installs both.  Never downloads a browser: Playwright drives the
system's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import groupkit
from groupkit import report
from groupkit.analytics.groups import groups_to_watch
from groupkit.report.page import MIN_RECEIPTS
from groupkit.simulate import simulate_archive
from groupkit.simulate.pins import simulate_pins

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
WIDTH = 1280

# Per chart: is there an SVG, and how many mark shapes (lines, bars, cells) does it hold?
_MARKS_JS = """
() => Array.from(document.querySelectorAll('div.chart')).map((div) => {
  const svg = div.querySelector('svg');
  return {
    id: div.id,
    svg: svg !== null,
    marks: svg ? svg.querySelectorAll('g[class*="mark-"] path').length : 0,
  };
})
"""
# Everything wider than the window, or a box that scrolls sideways.
_OVERFLOW_JS = """
() => {
  const page = document.documentElement.scrollWidth;
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map((e) => e.tagName + '.' + e.className);
  const scrolling = Array.from(document.querySelectorAll('body *'))
    .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'hidden'
      && getComputedStyle(e).overflowX !== 'visible')
    .map((e) => e.tagName + '.' + e.className);
  return {page, wide, scrolling};
}
"""


# Per section of the issue-18 views: its charts, each with its SVG mark count.
_SECTION_MARKS_JS = """
() => Object.fromEntries(['cost', 'health', 'pins'].map((id) => {
  const section = document.getElementById(id);
  const charts = section ? Array.from(section.querySelectorAll('div.chart')) : [];
  return [id, charts.map((div) => {
    const svg = div.querySelector('svg');
    return svg ? svg.querySelectorAll('g[class*="mark-"] path').length : -1;
  })];
}))
"""


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium); CI installs it")
    return path


@pytest.fixture(scope="module")
def fifty(tmp_path_factory):
    """A 50-group, 4-day simulated archive, its report, and the truth it came from."""
    folder = tmp_path_factory.mktemp("fifty")
    sim = simulate_archive(folder / "hooks", groups=50, days=4, seed=3)
    simulate_pins(sim, folder / "hooks" / "sends.jsonl", seed=3)  # for the Pins section
    rates = Path(__file__).resolve().parents[2] / "sample_data" / "rates-illustrative.csv"
    out = report.write_report(folder / "hooks", folder / "report.html", rates=rates)
    return sim, out


def _slowest_by_truth(truth: pd.DataFrame) -> str:
    """The group with the highest p90 delivery latency, computed from the simulator's
    truth with numpy, among groups with enough measured deliveries to be ranked."""
    seconds = truth["delivery_latency"].dt.total_seconds()
    measured = truth.assign(seconds=seconds).dropna(subset=["seconds"])
    ranked = {
        gid: np.quantile(rows["seconds"], 0.9)
        for gid, rows in measured.groupby("group_id")
        if len(rows) >= MIN_RECEIPTS
    }
    return max(ranked, key=ranked.get)


@pytest.fixture(scope="module")
def browsed(fifty, tmp_path_factory):
    executable = _chromium()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    _, out = fifty
    seen: dict = {"problems": [], "requests": []}
    with sync_api.sync_playwright() as pw:
        # Playwright starts Chromium with a fresh temporary profile of its own.
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.on(
                "console",
                lambda m: m.type in ("error", "warning") and seen["problems"].append(m.text),
            )
            page.on("pageerror", lambda e: seen["problems"].append(str(e)))
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.goto(out.as_uri())
            page.wait_for_function("window.groupkitRendered !== undefined", timeout=20_000)
            page.evaluate("() => window.groupkitRendered.then(() => true)")
            page.wait_for_selector("#groups .gk-info:not(:empty)", timeout=20_000)
            seen["charts"] = page.evaluate(_MARKS_JS)
            seen["sections"] = page.evaluate(_SECTION_MARKS_JS)
            seen["overflow"] = page.evaluate(_OVERFLOW_JS)
            seen["slowest"] = page.eval_on_selector_all(
                "#watch-slowest li", "(items) => items.map((li) => li.dataset.groupId)"
            )
            info = "#groups .gk-info"
            seen["info"] = page.inner_text(info)
            first_cell = "#groups tbody tr:not([hidden]) td:first-child"
            seen["first_by_p90"] = page.get_attribute(f"{first_cell} .gname", "title")
            page.click("#groups thead th:nth-child(2)")  # Messages: a number sorts largest first
            seen["first_by_messages"] = page.get_attribute(f"{first_cell} .gname", "title")
            seen["first_messages"] = page.inner_text(
                "#groups tbody tr:not([hidden]) td:nth-child(2)"
            )
            page.click("#groups .gk-next")
            seen["info_page_2"] = page.inner_text(info)
            page.screenshot(path=str(out.with_suffix(".png")), full_page=True)
        finally:
            browser.close()
    return seen


def test_the_report_fits_1280_px_without_sideways_scrolling(browsed):
    overflow = browsed["overflow"]
    assert overflow["page"] <= WIDTH
    assert overflow["wide"] == []
    assert overflow["scrolling"] == []


def test_every_chart_draws_offline(browsed):
    assert len(browsed["charts"]) == 15  # 11 + cost, webhook health, pins + silence chart
    for chart in browsed["charts"]:
        assert chart["svg"], f"{chart['id']} drew no SVG"
        assert chart["marks"] > 0, f"{chart['id']} has no marks"
    assert browsed["problems"] == []
    # The page's own file only: no network.
    assert [u for u in browsed["requests"] if not u.startswith(("file:", "blob:", "data:"))] == []


def test_the_headline_names_the_slowest_group_first(fifty, browsed):
    sim, _ = fifty
    assert browsed["slowest"][0] == _slowest_by_truth(sim.truth.deliveries)


def test_the_groups_table_sorts_and_pages(fifty, browsed):
    sim, _ = fifty
    archive = groupkit.read_webhooks(sim.out, progress=False)
    summary = groupkit.group_summary(archive)
    assert browsed["info"] == "Groups 1 to 25 of 50"
    assert browsed["info_page_2"] == "Groups 26 to 50 of 50"
    slowest = summary.sort_values("delivery_p90_s", ascending=False).iloc[0]
    assert browsed["first_by_p90"] == slowest["group_id"]
    # After a click on "Messages": the busiest group first (any of them, on a tie).
    busiest = summary[summary["messages"] == summary["messages"].max()]
    assert browsed["first_by_messages"] in set(busiest["group_id"])
    assert browsed["first_messages"] == f"{summary['messages'].max():,}"
    # The headline and the table rank with the same rules.
    watch = groups_to_watch(summary, min_receipts=MIN_RECEIPTS)
    assert watch[watch["concern"] == "slowest"]["group_id"].tolist() == browsed["slowest"]


def test_the_cost_health_and_pins_sections_draw(browsed):
    # Each section is there with one chart, drawn as SVG with marks (-1 = no SVG).
    sections = browsed["sections"]
    assert set(sections) == {"cost", "health", "pins"}
    for name, marks in sections.items():
        assert len(marks) == 1, f"{name}: {marks}"
        assert marks[0] > 0, f"the {name} chart drew no marks"
