"""Every view of one archive gives the same counts: one set of counting rules.

The sample archive has the hard cases: groups without membership webhooks (receipts
of unknown recipients) and messages that failed at group level.  The views compared:
:func:`groupkit.funnel` (the reference), :func:`groupkit.group_summary`, the HTML
report's header and its groups table, ``groupkit summary``, the dashboard's Explorer,
and the counts the notebooks show (their stored outputs, which nbval re-checks).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import groupkit
from groupkit.cli import main
from groupkit.widgets import Explorer
from tests.report.test_report import csv_export

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "webhooks"
NOTEBOOKS = ROOT / "notebooks"
COUNTS = ["messages", "messages_failed", "recipients", "delivered", "read", "failed", "pending"]


@pytest.fixture(scope="module")
def archive():
    return groupkit.read_webhooks(SAMPLE, progress=False)


@pytest.fixture(scope="module")
def reference(archive) -> pd.DataFrame:
    """The funnel per group, and its overall row, as every view should count."""
    return groupkit.funnel(archive).set_index("group_id")[COUNTS]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("views") / "report.html"
    result = CliRunner().invoke(main, ["report", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    return out.read_text(encoding="utf-8")


def test_the_archive_has_the_cases_views_used_to_disagree_on(archive):
    total = groupkit.funnel(archive, by=None).iloc[0]
    assert total["recipients_unknown"] > 0 and total["messages_failed"] > 0


def test_group_summary_counts_as_the_funnel(archive, reference):
    summary = groupkit.group_summary(archive).set_index("group_id")
    pd.testing.assert_frame_equal(summary.loc[reference.index, COUNTS], reference)


def test_the_report_header_and_table_count_as_the_funnel(archive, reference, page):
    kpis = {
        html.unescape(name): float(value)
        for name, value in re.findall(r'data-kpi="([^"]+)" data-value="([^"]*)"', page)
        if value
    }
    total = reference.sum()
    assert kpis["messages sent"] == total["messages"]
    assert kpis["receipts"] == total["recipients"]
    assert kpis["delivered"] == total["delivered"]
    assert kpis["read"] == total["read"]
    assert kpis["failed"] == total["failed"]
    assert kpis["pending"] == total["pending"]
    assert kpis["messages failed"] == total["messages_failed"]
    assert kpis["groups"] == len(reference)
    table = csv_export(page).set_index("group_id").loc[reference.index, COUNTS]
    pd.testing.assert_frame_equal(table, reference, check_dtype=False)


def test_groupkit_summary_prints_the_funnel_counts(archive, reference):
    result = CliRunner().invoke(main, ["summary", str(SAMPLE), "--no-progress"])
    assert result.exit_code == 0, result.stderr
    lines = result.output.split("busiest first):\n")[1].strip().splitlines()
    assert lines[0].split() == [
        "group", "messages", "failed", "msgs", "receipts", "delivered", "read", "failed",
        "pending", "inbound",
    ]  # fmt: skip
    names = groupkit.group_summary(archive).set_index("group")["group_id"]
    printed = {}
    for line in lines[1:]:
        words = line.split()
        printed[" ".join(words[:-8])] = [int(v) for v in words[-8:-1]]
    assert printed.pop("all groups") == [int(reference[c].sum()) for c in COUNTS]
    assert {names[name]: counts for name, counts in printed.items()} == {
        gid: row.tolist() for gid, row in reference.iterrows()
    }


def test_the_dashboard_counts_as_the_funnel(archive, reference):
    explorer = Explorer(archive, offline=False)
    shown = explorer.funnel.set_index("group_id")[COUNTS]
    pd.testing.assert_frame_equal(shown.loc[reference.index], reference)
    total = reference.sum()
    text = explorer.summary.value
    assert f"{total['recipients']:,} receipts" in text
    assert f"{total['failed']:,} failed" in text
    assert f"{total['delivered']:,} delivered" in text


def _tagged_outputs(tag: str) -> dict[str, str]:
    """The text output of each notebook's cell tagged ``tag``."""
    found = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if tag in cell.get("metadata", {}).get("tags", []):
                found[path.name] = "".join(
                    "".join(out.get("text", ""))
                    + "".join(out.get("data", {}).get("text/plain", ""))
                    for out in cell["outputs"]
                )
    return found


def test_the_notebooks_show_the_funnel_counts(reference):
    shown = _tagged_outputs("counts")
    assert set(shown) >= {"01_quickstart.ipynb", "02_latency_by_group.ipynb", "03_errors.ipynb"}
    total = reference.sum()
    for name, text in shown.items():
        for column in ("recipients", "delivered", "failed", "pending"):
            figures = {f"{int(total[column]):,}", str(int(total[column]))}
            pattern = "|".join(rf"\b{re.escape(f)}\b" for f in figures)
            assert re.search(pattern, text), (name, column, text)
