"""The report's Cost, Webhook health and Pins sections show the functions' own numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import groupkit
from groupkit.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
HOOKS, SENDS = SAMPLE / "webhooks", SAMPLE / "sends"
RATES = SAMPLE / "rates-illustrative.csv"


def _report(tmp_path, *args: str) -> str:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def _section(page: str, anchor: str) -> str:
    return re.sub(r"<[^>]+>", "", page.split(f'<section id="{anchor}">')[1].split("</section>")[0])


@pytest.fixture(scope="module")
def archive():
    return groupkit.read_webhooks([str(HOOKS), str(SENDS)], progress=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    return _report(tmp_path_factory.mktemp("chp"), str(HOOKS), str(SENDS), "--rates", str(RATES))


def test_the_three_sections_come_before_the_load_report(page):
    headings = re.findall(r'<section id="[^"]+"><h2>(.*?)</h2>', page)
    assert headings[-4:] == ["Cost", "Webhook health", "Pins", "Load report"]


def test_the_cost_section_leads_with_the_total_costs_computes(page, archive):
    table = groupkit.costs(archive, RATES)
    total = table["cost"].sum()
    text = _section(page, "cost")
    assert f"{total:,.2f} USD for {int(table['billable_deliveries'].sum()):,} billable" in text


def test_the_health_section_counts_as_webhook_health(page, archive):
    text = _section(page, "health")
    health = groupkit.webhook_health(archive, freq="day")
    assert f"{int(health['webhooks'].sum()):,} webhooks" in text
    assert f"{int(health['redeliveries'].sum()):,} redelivered" in text
    assert f"{int(health['out_of_order'].sum()):,} statuses out of order" in text


def test_the_pins_section_counts_as_pins(page, archive):
    text = _section(page, "pins")
    table = groupkit.pins(archive)
    groups = table["group_id"].nunique()
    assert f"{len(table):,} pins in {groups:,} groups" in text
    replaced = int((table["ended_by"] == "replaced").sum())
    assert f"{replaced} replaced by a 4th pin" in text


def test_without_a_rate_card_the_cost_is_in_deliveries_and_says_how_to_price(tmp_path):
    page = _report(tmp_path, str(HOOKS))
    text = _section(page, "cost")
    assert "give a rate card" in text and "--rates" in text
    assert '<section id="pins">' not in page  # no send log, no pins


def test_a_bad_rate_card_fails_before_reading_the_archive(tmp_path):
    card = tmp_path / "card.csv"
    card.write_text("country,category,price\n*,marketing,0.1\n")
    result = CliRunner().invoke(
        main, ["report", str(HOOKS), "-o", str(tmp_path / "r.html"), "--rates", str(card)]
    )
    assert result.exit_code != 0
    assert "lacks the column(s) currency, effective_from" in result.output
    assert not (tmp_path / "r.html").exists()


def test_the_cost_chart_names_groups_as_the_rest_of_the_report(page, archive):
    from tests.report.test_report import chart_specs

    names = set(archive.group_events["subject"].dropna())  # the groups' own subjects
    labelled = set()
    for spec in chart_specs(page):
        if "per group, by pricing category" in str(spec.get("title", "")):
            for rows in spec["datasets"].values():
                labelled |= {row["group"] for row in rows if "group" in row}
    assert labelled, "no cost chart in the report"
    # Groups with a subject are labelled by it, as in the table above the chart.
    assert names and names <= labelled
