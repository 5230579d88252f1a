"""The HTML report: self-contained, the answer first, one heading per section."""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import groupkit
from groupkit import report
from groupkit.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "webhooks"


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(main, ["report", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    return out.read_text(encoding="utf-8")


def chart_specs(page: str) -> list[dict]:
    match = re.search(r"const groupkitCharts = (\[.*?\]);\n", page, re.S)
    assert match
    return [c["spec"] for c in json.loads(match.group(1).replace("<\\/", "</"))]


def csv_export(page: str) -> pd.DataFrame:
    """The groups table as the page's 'Download as CSV' link holds it."""
    data = re.search(r'href="data:text/csv;base64,([^"]+)"', page).group(1)
    return pd.read_csv(io.BytesIO(base64.b64decode(data)), dtype={"group_id": "str"})


def test_the_page_loads_nothing_from_the_network(page):
    assert "cdn.jsdelivr" not in page and "esm.sh" not in page
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"""url\(\s*['"]?https?:""", page)
    assert not re.search(r"""import[^;]{0,40}['"]https?:""", page)
    assert "@import" not in page
    assert "vegaEmbed" in page and "gk-table" in page


def test_one_heading_per_section_and_the_answer_first(page):
    headings = re.findall(r'<section id="[^"]+"><h2>(.*?)</h2>', page)
    # + Cost and Webhook health (the sample has pricing; no send log, so no Pins), and
    # "Members to reach"; the sample spans three days, so no "What changed" (two weeks).
    assert len(headings) == len(set(headings)) == 10
    assert "Members to reach" in headings and "What changed" not in headings
    assert headings[0] == "Groups to look at" and headings[1] == "Groups"
    assert page.count("Load report") == 1
    assert "Errors" not in headings


def test_the_page_has_every_group_and_every_chart(page):
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    exported = csv_export(page)
    assert set(exported["group_id"]) == set(archive.statuses["group_id"].dropna())
    for group_id in exported["group_id"]:
        assert f'title="{group_id}"' in page  # the full id on hover
    specs = chart_specs(page)
    assert len(specs) == page.count('class="chart"') == 14  # + cost, webhook health, silence
    assert all("datasets" in spec for spec in specs)


def test_inbound_errors_are_apart_from_delivery_failures(page):
    failures = page.split('<section id="failures">')[1].split("</section>")[0]
    inbound = page.split('<section id="inbound">')[1].split("</section>")[0]
    assert "<td>130501</td>" in inbound and "<td>130501</td>" not in failures
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    status_codes = archive.errors.loc[archive.errors["origin"] == "status", "code"].unique()
    for code in status_codes:
        assert f"<td>{code}</td>" in failures


def test_the_csv_export_is_the_group_summary(page):
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    want = groupkit.group_summary(archive).set_index("group_id")
    got = csv_export(page).set_index("group_id").loc[want.index]
    for column in ("messages", "recipients", "delivered", "read", "failed", "pending"):
        assert got[column].tolist() == want[column].tolist()


def test_group_table_is_slowest_first(tmp_path):
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    table = report.group_table(archive)
    assert table["delivery_p90_s"].dropna().is_monotonic_decreasing
    latency = groupkit.latency_summary(archive).set_index("group_id")["p90_s"]
    assert table.set_index("group_id")["delivery_p90_s"].loc[latency.index].tolist() == (
        latency.tolist()
    )


def test_without_the_report_extra_the_command_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # import now raises ImportError
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 6
    assert "pip install 'groupkit[report]'" in result.stderr
    assert not out.exists()


def test_the_readme_command_reads_webhooks_only():
    """The README's first command reports on the webhooks, not on the README or the
    Parquet truth files beside them (which would be listed as skipped)."""
    readme = (SAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    command = re.search(r"groupkit report (\S+) -o report\.html", readme)
    assert command is not None
    archive = groupkit.read_webhooks(SAMPLE.parents[1] / command.group(1), progress=False)
    assert archive.report.skipped_files == [] and archive.report.rejects == []
    assert archive.report.webhooks_parsed > 0
