"""error_summary and error_catalog: codes explained from the catalogue, unknown codes kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from groupkit.analytics import error_catalog, error_summary
from groupkit.exceptions import GroupkitError
from tests.analytics.tiny import GROUP, T0, make_archive

REFERENCE = Path("/work/shared/reference/groups-api.md")
OTHER = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0OTk5OTk5OQZD"


def error(code, at, group=GROUP, origin="status", title=None, message=None, href=None):
    return {
        "code": code,
        "title": title,
        "message": message,
        "href": href,
        "origin": origin,
        "field": "messages",
        "group_id": group,
        "timestamp": T0 + at,
    }


@pytest.fixture
def archive():
    return make_archive(
        errors=[
            error(131026, 0),
            error(131026, 86400 * 2),
            error(131049, 100, group=OTHER),
            error(130501, 50, origin="message", title="Unsupported message type"),
            error(
                139999,
                70,
                title="Shiny new error",
                message="(#139999) Shiny new error",
                href="https://example.invalid/139999",
            ),
        ]
    )


def test_summary_explains_known_codes_and_reports_unknown_ones_as_the_webhook_said(archive):
    out = error_summary(archive).set_index("code")
    assert out.loc[131026, "count"] == 2 and out.loc[131026, "share"] == pytest.approx(0.4)
    assert out.loc[131026, "family"] == "general" and not out.loc[131026, "retryable"]
    assert out.loc[130501, "family"] == "group"
    assert out.loc[131026, "first_seen"].timestamp() == T0
    assert out.loc[131026, "last_seen"].timestamp() == T0 + 2 * 86400
    unknown = out.loc[139999]
    assert unknown["family"] == "unknown" and not unknown["known"]
    assert unknown["title"] == "Shiny new error"
    assert unknown["description"] == "(#139999) Shiny new error"
    assert unknown["href"] == "https://example.invalid/139999"
    assert out["count"].sum() == 5
    assert out.index[0] == 131026  # most frequent first


def test_summary_by_group_shares_sum_to_one_per_group(archive):
    out = error_summary(archive, by="group_id")
    assert out.groupby("group_id")["share"].sum().round(12).tolist() == [1.0, 1.0]
    assert set(out.loc[out["group_id"] == OTHER, "code"]) == {131049}


def test_summary_over_time_uses_meta_buckets(archive):
    out = error_summary(archive, freq="day")
    assert sorted(out["bucket"].dt.day.unique()) == [1, 3]
    with pytest.raises(GroupkitError):
        error_summary(archive, freq="week")


def test_empty_archive_gives_an_empty_summary():
    out = error_summary(make_archive())
    assert out.empty and "count" in out.columns


def test_catalog_covers_every_code_in_the_reference():
    text = REFERENCE.read_text() if REFERENCE.exists() else ""
    if not text:
        pytest.skip("team reference not available")
    section = text[text.index("## 4. Error codes") : text.index("### 4.3")]
    codes = {int(c) for c in re.findall(r"^\| `?\**(\d+)", section, flags=re.M)}
    codes |= {int(c) for c in re.findall(r"\*\*(\d{6})\*\*", section)}
    catalog = set(error_catalog()["code"].astype(int))
    assert codes, "no codes parsed from the reference"
    assert codes - catalog == set()
    assert {130501, 131203, 131020, 131026, 131049, 131000, 131041} <= catalog


def test_catalog_columns():
    cat = error_catalog()
    assert list(cat.columns) == [
        "code",
        "title",
        "description",
        "family",
        "retryable",
        "retry",
        "advice",
        "http_status",
        "href",
    ]
    assert set(cat["family"]) == {"group", "general"}
    assert cat["code"].is_unique
