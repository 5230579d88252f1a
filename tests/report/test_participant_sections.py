"""The report's "What changed" and "Members to reach": what they say, and that they draw.

A simulated archive of two weeks and a day: long enough for "What changed".  The
sections must say what groupkit.compare and groupkit.participants compute, and a
real browser (Debian's Chromium, as in test_browser.py) must draw their charts and
switch the "who has not read" table with its select box.
"""

from __future__ import annotations

import re

import pytest

import groupkit
from groupkit import report
from groupkit.report.participants import MIN_STREAK, REPORT_METRICS
from groupkit.simulate import simulate_archive
from tests.report.test_browser import _MARKS_JS, CHROMIUM_ARGS, WIDTH, _chromium


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weeks")
    simulate_archive(folder / "hooks", groups=5, days=15, seed=14, messages_per_day=(3, 8))
    out = report.write_report(folder / "hooks", folder / "report.html")
    archive = groupkit.read_webhooks(folder / "hooks", progress=False)
    return archive, out.read_text(encoding="utf-8"), out


def section(page: str, anchor: str) -> str:
    return page.split(f'<section id="{anchor}">')[1].split("</section>")[0]


def test_what_changed_lists_exactly_the_significant_changes(weeks):
    archive, page, _ = weeks
    table = groupkit.compare(archive, last="7D")
    table = table[table["metric"].astype(str).isin(REPORT_METRICS)]
    significant = table[table["significant"]]
    changed = section(page, "changed")
    items = re.findall(r'<li data-metric="([^"]+)"><b>([^<]+)</b>', changed)
    expected = zip(significant["metric"].astype(str), significant["group"], strict=True)
    assert items and sorted(items) == sorted(expected)
    assert "The last 7 days" in changed and 'class="chart"' in changed


def test_a_short_archive_has_no_what_changed():
    archive = groupkit.read_webhooks("sample_data/webhooks", progress=False)
    page = report.build_report(archive, bundle=lambda: "")
    assert 'id="changed"' not in page and 'id="members"' in page


def test_members_to_reach_are_the_longest_silent_streaks(weeks):
    archive, page, _ = weeks
    people = groupkit.participants(archive)
    quiet = people[people["member"].fillna(True) & (people["silent_streak"] >= MIN_STREAK)]
    members = section(page, "members")
    assert len(quiet) >= 1  # this seed has someone to reach
    # Longest streak first, then the least read.
    quiet = quiet.sort_values(
        ["silent_streak", "read_rate", "group", "participant_id"],
        ascending=[False, True, True, True],
    )
    table = members.split('<div id="members-to-reach">')[1].split("</div>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)]
    rows = [row for row in rows if row]  # the header row has no <td>
    assert [(row[2], int(row[3])) for row in rows] == list(
        zip(quiet["participant_id"], quiet["silent_streak"], strict=True)
    )
    # The picker: the latest three messages of each group, each with its table.
    options = re.findall(r'<option value="([^"]+)"', members)
    tables = re.findall(r'<div class="gk-receipts" data-message-id="([^"]+)"', members)
    assert options == tables and len(options) == 3 * archive.statuses["group_id"].nunique()


@pytest.fixture(scope="module")
def browsed(weeks):
    executable = _chromium()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    _, _, out = weeks
    seen: dict = {"problems": []}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.on("console", lambda m: m.type == "error" and seen["problems"].append(m.text))
            page.on("pageerror", lambda e: seen["problems"].append(str(e)))
            page.goto(out.as_uri())
            page.wait_for_function("window.groupkitRendered !== undefined", timeout=20_000)
            page.evaluate("() => window.groupkitRendered.then(() => true)")
            charts = {c["id"]: c for c in page.evaluate(_MARKS_JS)}
            seen["section_charts"] = {
                anchor: [
                    charts[div]
                    for div in page.eval_on_selector_all(
                        f"#{anchor} div.chart", "(ds) => ds.map((d) => d.id)"
                    )
                ]
                for anchor in ("changed", "members")
            }
            visible = "#members .gk-receipts:not([hidden])"
            ids = "(ds) => ds.map((d) => d.dataset.messageId)"
            seen["visible_first"] = page.eval_on_selector_all(visible, ids)
            second = page.eval_on_selector_all(
                "#members select.gk-message-pick option", "(os) => os[1].value"
            )
            page.select_option("#members select.gk-message-pick", second)
            seen["second"] = second
            seen["visible_second"] = page.eval_on_selector_all(visible, ids)
            seen["width"] = page.evaluate("() => document.documentElement.scrollWidth")
        finally:
            browser.close()
    return seen


def test_the_new_sections_draw_their_charts(browsed):
    for anchor, drawn in browsed["section_charts"].items():
        assert drawn, f"no chart in #{anchor}"
        for chart in drawn:
            assert chart["svg"] and chart["marks"] > 0, (anchor, chart)
    assert browsed["problems"] == []
    assert browsed["width"] <= WIDTH


def test_the_select_box_shows_one_message_at_a_time(browsed):
    assert len(browsed["visible_first"]) == 1
    assert browsed["visible_second"] == [browsed["second"]]
    assert browsed["visible_first"] != browsed["visible_second"]
