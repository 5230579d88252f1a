"""The error-code catalogue: every code of reference section 4, and lookup's input handling."""

from __future__ import annotations

import pytest

from groupkit.catalog import CATALOG, GENERAL_ERRORS_HREF, GROUP_ERRORS_HREF, ErrorInfo, lookup

# Reference section 4.1 (Meta's Groups table plus 130501 and 131203).
GROUP_CODES = {
    130501, 131020, 131041, 131059, 131201, 131202, 131203, 131204, 131207, 131208,
    131209, 131210, 131211, 131212, 131213, 131214, 131215,
}  # fmt: skip
# Reference section 4.2 (200-299 share one entry under 200).
GENERAL_CODES = {
    0, 1, 2, 3, 4, 10, 100, 190, 200, 368, 470, 80007, 130403, 130429, 130472, 130497,
    131000, 131005, 131008, 131009, 131016, 131021, 131026, 131031, 131037, 131042, 131045,
    131047, 131048, 131049, 131050, 131051, 131052, 131053, 131056, 131057, 131063, 131064,
    132000, 132001, 132005, 132007, 132012, 132015, 132016, 133004, 133010, 135000, 137000,
    2494100,
}  # fmt: skip


def test_catalog_holds_exactly_the_reference_codes():
    assert set(CATALOG) == GROUP_CODES | GENERAL_CODES


@pytest.mark.parametrize("code", sorted(GROUP_CODES))
def test_group_codes_are_in_the_group_family(code):
    assert CATALOG[code].family == "group"


@pytest.mark.parametrize("code", sorted(GENERAL_CODES))
def test_general_codes_are_in_the_general_family_and_link_to_the_general_table(code):
    assert CATALOG[code].family == "general"
    assert CATALOG[code].href == GENERAL_ERRORS_HREF


def test_every_entry_is_complete_and_keyed_by_its_own_code():
    for code, info in CATALOG.items():
        assert isinstance(info, ErrorInfo)
        assert info.code == code
        assert info.title and info.description and info.advice and info.retry
        assert info.href.startswith("https://developers.facebook.com/")


@pytest.mark.parametrize(
    ("code", "http_status"),
    [(131020, 400), (131041, 400), (131201, 206), (131207, 403), (131208, 429), (131215, 400)],
)
def test_group_table_http_statuses(code, http_status):
    assert CATALOG[code].http_status == http_status
    assert CATALOG[code].href == GROUP_ERRORS_HREF


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (130429, True),  # throughput: back off
        (131208, True),  # group operations rate limit
        (131000, True),
        (131016, True),
        (131049, True),  # "not within 24 h", but later can help
        (131020, False),  # single-member group: fix the request
        (131041, False),
        (131051, False),
        (131047, False),  # switch to a template
        (130403, False),  # "Do not retry"
        (470, False),
    ],
)
def test_retry_classification_follows_the_reference(code, retryable):
    assert CATALOG[code].retryable is retryable


def test_131049_says_not_within_24_hours():
    assert CATALOG[131049].retry == "not within 24 h"


def test_470_is_marked_legacy():
    assert "legacy" in CATALOG[470].title.lower()
    assert "131047" in CATALOG[470].description


def test_meta_titles_used_by_status_webhooks():
    assert CATALOG[130429].title == "Rate limit hit"
    assert CATALOG[131041].title == "Group unknown"
    assert CATALOG[130501].title == "Unsupported message type"


@pytest.mark.parametrize("given", [131041, "131041", " 131041\n"])
def test_lookup_accepts_ints_and_numeric_strings(given):
    assert lookup(given) is CATALOG[131041]


@pytest.mark.parametrize("given", [None, "", "abc", "131041x", 1.5, True, 999_999, -1])
def test_lookup_returns_none_for_unknown_or_non_numeric(given):
    assert lookup(given) is None


def test_lookup_fills_in_the_permission_range():
    info = lookup("250")
    assert info is not None
    assert (info.code, info.title, info.family) == (250, "API Permission", "general")
    assert lookup(300) is None


def test_catalog_imports_only_the_standard_library():
    # The client and simulator use the catalogue without pandas (STYLE.md).
    import ast

    import groupkit.catalog as module

    with open(module.__file__, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "dataclasses"}
