"""The HTML report: self-contained, with the load report, group tables and every chart."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import groupkit
from groupkit import report
from groupkit.cli import main
from groupkit.simulate import simulate_archive

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


def test_the_page_loads_nothing_from_the_network(page):
    assert "cdn.jsdelivr" not in page and "unpkg" not in page
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"""url\(\s*['"]?https?:""", page)
    assert "@import" not in page
    # the Vega bundle is inlined, once
    assert page.count("<script>") == 2
    assert "vegaEmbed" in page


def test_the_page_has_the_load_report_tables_and_every_chart(page):
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    assert "Load report" in page
    assert f"{archive.report.records_read:,} records" in page
    for group_id in archive.statuses["group_id"].dropna().unique():
        assert group_id in page  # the group table lists every group
    for code in archive.errors["code"].dropna().unique():
        assert f"<td>{code}</td>" in page
    specs = chart_specs(page)
    assert len(specs) == page.count('class="chart"') == 11
    assert all("datasets" in spec for spec in specs)


def test_group_table_matches_the_funnel_and_latency(tmp_path):
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    frame = groupkit.deliveries(archive)
    table = report.group_table(frame).set_index("group_id")
    funnel = groupkit.funnel(frame).set_index("group_id")
    latency = groupkit.latency_summary(frame, metric="read").set_index("group_id")
    assert table["recipients"].loc[funnel.index].tolist() == funnel["recipients"].tolist()
    assert table["read_p50_s"].loc[latency.index].tolist() == latency["p50_s"].tolist()
    assert table["delivery_p50_s"].is_monotonic_decreasing  # slowest group first


def test_many_groups_are_pooled_in_charts_but_listed_in_tables(tmp_path):
    simulate_archive(tmp_path / "hooks", groups=14, days=2, seed=1)
    archive = groupkit.read_webhooks(tmp_path / "hooks", progress=False)
    page = report.build_report(archive, max_groups=5, bundle=lambda: "/* js */")
    for group_id in archive.statuses["group_id"].dropna().unique():
        assert group_id in page
    funnel = next(s for s in chart_specs(page) if "Delivery funnel" in str(s.get("title")))
    assert funnel["encoding"]["color"]["scale"]["domain"][-1] == "other groups"
    assert len(funnel["encoding"]["color"]["scale"]["domain"]) == 6


def test_without_the_report_extra_the_command_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # import now raises ImportError
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(SAMPLE), "-o", str(out)])
    assert result.exit_code != 0
    assert "pip install 'groupkit[report]'" in result.output
    assert not out.exists()
