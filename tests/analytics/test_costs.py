"""costs(): each delivery counted once, classified by the rules of its date, priced by a card.

Every expected number below is counted or multiplied by hand from the payloads.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

import groupkit
from groupkit.analytics.costs import country_of, read_rates
from tests.analytics.hooks import GROUP, post, pricing, status

GB = "447700900123"  # +44 7700 900123, a UK mobile number
US = "16505551234"  # +1 650-555-1234, California
BR = "5511987654321"  # +55 11 98765-4321, Sao Paulo mobile
MARKETING = pricing("group_marketing", billable=True)
SERVICE_FREE = pricing("group_service", "free_group_customer_service", billable=False)


def _archive(*records):
    return groupkit.parse_webhooks(list(records))


def _unix(when: str) -> int:
    return int(pd.Timestamp(when, tz="UTC").timestamp())


def test_a_pricing_on_delivered_and_on_read_is_one_delivery():
    archive = _archive(
        post(status("wamid.A", "sent", 0)),
        post(status("wamid.A", "delivered", 5, GB, pricing=MARKETING)),
        post(status("wamid.A", "read", 60, GB, pricing=MARKETING)),
    )
    out = groupkit.costs(archive, by=None)
    assert out[["pricing_category", "country", "billable_deliveries"]].values.tolist() == [
        ["group_marketing", "GB", 1]
    ]


def test_a_redelivered_priced_status_is_one_delivery():
    delivered = post(status("wamid.A", "delivered", 5, GB, pricing=MARKETING))
    again_later = post(status("wamid.A", "read", 90, GB, pricing=MARKETING))
    archive = _archive(
        post(status("wamid.A", "sent", 0)),
        delivered,
        delivered,  # exact redelivery: dropped by the loader
        post(status("wamid.A", "read", 60, GB, pricing=MARKETING)),
        again_later,  # the read again with a later timestamp: kept, still one delivery
    )
    assert archive.report.duplicates["statuses"] == 1
    out = groupkit.costs(archive, by=None)
    assert out["billable_deliveries"].sum() == 1
    assert out["free_deliveries"].sum() == 0


def test_each_participant_delivered_is_billed_and_free_and_exempt_are_apart():
    exempt = pricing("group_service", "regular", subtype="paid_exempt", billable=False)
    archive = _archive(
        post(status("wamid.M", "sent", 0)),
        post(
            status("wamid.M", "delivered", 3, GB, pricing=MARKETING),
            status("wamid.M", "delivered", 4, US, pricing=MARKETING),
            status("wamid.M", "delivered", 4, BR, pricing=MARKETING),
        ),
        post(status("wamid.S", "sent", 10)),
        post(status("wamid.S", "delivered", 12, GB, pricing=SERVICE_FREE)),
        post(status("wamid.E", "sent", 20)),
        post(status("wamid.E", "delivered", 22, US, pricing=exempt)),
    )
    out = groupkit.costs(archive, by=None)
    got = {
        (r.pricing_category, r.country): (
            r.billable_deliveries,
            r.free_deliveries,
            r.exempt_deliveries,
        )
        for r in out.itertuples()
    }
    assert got == {
        ("group_marketing", "BR"): (1, 0, 0),
        ("group_marketing", "GB"): (1, 0, 0),
        ("group_marketing", "US"): (1, 0, 0),
        ("group_service", "GB"): (0, 1, 0),
        ("group_service", "US"): (0, 0, 1),
    }


def test_without_the_billable_flag_the_type_decides():
    archive = _archive(
        post(status("wamid.A", "delivered", 5, GB, pricing=pricing("group_utility", "regular"))),
        post(
            status(
                "wamid.B",
                "delivered",
                5,
                GB,
                pricing=pricing("group_utility", "free_group_customer_service"),
            )
        ),
    )
    out = groupkit.costs(archive, by=None)
    assert out[["pricing_type", "billable_deliveries", "free_deliveries"]].values.tolist() == [
        ["free_group_customer_service", 0, 1],
        ["regular", 1, 0],
    ]


def test_a_failed_message_costs_nothing_even_with_a_stray_priced_delivered():
    archive = _archive(
        post(status("wamid.F", "sent", 0)),
        post(status("wamid.F", "failed", 5)),
        post(status("wamid.F", "delivered", 30, GB, pricing=MARKETING)),
    )
    assert groupkit.costs(archive).empty


def test_a_participant_known_only_by_a_bsuid_is_country_unknown():
    bsuid_only = "GB.13491208655302741918"
    paired = "US.99991208655302741918"
    archive = _archive(
        post(status("wamid.A", "delivered", 5, None, bsuid=bsuid_only, pricing=MARKETING)),
        # This BSUID is paired with a phone on another status, so its country is known.
        post(status("wamid.B", "delivered", 5, US, bsuid=paired)),
        post(status("wamid.A", "delivered", 6, None, bsuid=paired, pricing=MARKETING)),
    )
    out = groupkit.costs(archive, by=None)
    assert dict(zip(out["country"], out["billable_deliveries"], strict=True)) == {
        "US": 1,
        "unknown": 1,
    }


def test_country_comes_from_the_phone_number_library():
    assert [country_of(n) for n in (GB, US, BR, "+4915123456789", "33612345678")] == [
        "GB",
        "US",
        "BR",
        "DE",
        "FR",
    ]
    assert country_of("US.13491208655302741918") == "unknown"
    assert country_of("not a number") == "unknown"


def test_deliveries_either_side_of_1_october_2026_follow_their_dates_rules():
    before = _unix("2026-09-30 23:00")
    after = _unix("2026-10-01 01:00")
    service_regular = pricing("group_service", "regular", billable=True)
    archive = _archive(
        post(status("wamid.A", "delivered", 0, GB, pricing=SERVICE_FREE, t0=before)),
        post(status("wamid.B", "delivered", 0, GB, pricing=SERVICE_FREE, t0=after)),
        # From 1 October a service delivery past the free tier is regular, and billed.
        post(status("wamid.C", "delivered", 0, GB, pricing=service_regular, t0=after)),
    )
    out = groupkit.costs(archive, by=None)
    rows = out[["pricing_type", "pricing_rules", "billable_deliveries", "free_deliveries"]]
    assert rows.values.tolist() == [
        ["free_group_customer_service", "before 2026-10-01", 0, 1],
        ["free_group_customer_service", "from 2026-10-01", 0, 1],
        ["regular", "from 2026-10-01", 1, 0],
    ]


RATES = pd.DataFrame(
    {
        "country": ["*", "*", "GB", "*"],
        "category": ["marketing", "marketing", "group_marketing", "utility"],
        "price": [0.10, 0.12, 0.05, 0.02],
        "currency": ["USD", "USD", "USD", "USD"],
        "effective_from": ["2026-01-01", "2026-03-02", "2026-01-01", "2026-01-01"],
    }
)


def test_a_rate_card_with_two_effective_dates_prices_each_delivery_by_its_date():
    day = 86_400
    archive = _archive(
        # 1 March: US at the "*" rate 0.10; GB at its own rate 0.05.
        post(
            status("wamid.A", "delivered", 5, US, pricing=MARKETING),
            status("wamid.A", "delivered", 6, GB, pricing=MARKETING),
        ),
        # 2 March: US at the new "*" rate 0.12 (twice), GB still 0.05.
        post(
            status("wamid.B", "delivered", day + 5, US, pricing=MARKETING),
            status("wamid.B", "delivered", day + 6, GB, pricing=MARKETING),
        ),
        post(status("wamid.C", "delivered", day + 9, US, pricing=MARKETING)),
        # Free: no cost whatever the card says.
        post(status("wamid.D", "delivered", day + 9, US, pricing=SERVICE_FREE)),
    )
    out = groupkit.costs(archive, RATES, by=None, freq="day")
    got = {
        (str(r.bucket.date()), r.country, r.pricing_category): round(r.cost, 6)
        for r in out.itertuples()
    }
    assert got == {
        ("2026-03-01", "GB", "group_marketing"): 0.05,
        ("2026-03-01", "US", "group_marketing"): 0.10,
        ("2026-03-02", "GB", "group_marketing"): 0.05,
        ("2026-03-02", "US", "group_marketing"): 0.24,
        ("2026-03-02", "US", "group_service"): 0.0,
    }
    assert set(out.loc[out["billable_deliveries"] > 0, "currency"]) == {"USD"}
    assert out.attrs["unpriced_deliveries"] == 0


def test_a_rate_card_from_csv_and_a_delivery_no_rate_covers(tmp_path):
    path = tmp_path / "rates.csv"
    RATES.assign(note="illustrative").to_csv(path, index=False)
    archive = _archive(
        post(status("wamid.A", "delivered", 5, US, pricing=MARKETING)),
        # Before every effective date: no rate, so no cost (never a silent zero).
        post(status("wamid.B", "delivered", 0, US, pricing=MARKETING, t0=_unix("2025-12-31"))),
    )
    out = groupkit.costs(archive, path, by=None)
    # The unpriced delivery is a row of its own, without currency or cost.
    rows = out[["currency", "billable_deliveries", "cost"]].astype("object")
    assert rows.where(rows.notna(), None).values.tolist() == [
        ["USD", 1, 0.10],
        [None, 1, None],
    ]
    assert out.attrs["unpriced_deliveries"] == 1


def test_costs_by_group_name_the_group():
    archive = _archive(post(status("wamid.A", "delivered", 5, GB, pricing=MARKETING)))
    out = groupkit.costs(archive)
    assert out.columns[0] == "group" and out.columns[-1] == "group_id"
    assert out["group_id"].tolist() == [GROUP]


@pytest.mark.parametrize(
    ("card", "message"),
    [
        (RATES.drop(columns="currency"), "lacks the column(s) currency"),
        (RATES.assign(effective_from="soon"), "effective_from 'soon' is not a date"),
        (RATES.assign(price=-1), "is no price"),
        (RATES.assign(country="Britain"), "neither an ISO 3166 alpha-2 code"),
    ],
)
def test_a_bad_rate_card_says_what_is_wrong(card, message):
    with pytest.raises(groupkit.GroupkitError, match=re.escape(message)):
        read_rates(card)


def test_a_missing_rate_card_file_is_a_groupkit_error(tmp_path):
    with pytest.raises(groupkit.GroupkitError, match="cannot read rate card"):
        read_rates(tmp_path / "none.csv")


def test_dask_archives_are_refused_clearly():
    # Any Dask collection (the ``__dask_graph__`` protocol), without importing Dask.
    fake = type("LazyFrame", (), {"__dask_graph__": lambda self: {}})()
    for function in (groupkit.costs, groupkit.webhook_health, groupkit.pins):
        with pytest.raises(groupkit.GroupkitError, match="does not support Dask"):
            function(fake)


def test_the_sample_rate_card_is_marked_illustrative_and_reads():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "sample_data" / "rates-illustrative.csv"
    raw = pd.read_csv(path)
    assert raw["note"].str.contains("illustrative").all()
    card = read_rates(path)
    assert card["effective_from"].nunique() >= 2


def test_grouping_by_a_column_the_priced_deliveries_lack_names_it():
    archive = _archive(
        post(status("wamid.A", "sent", 0)),
        post(status("wamid.A", "delivered", 5, GB, pricing=MARKETING)),
    )
    with pytest.raises(groupkit.GroupkitError, match="cannot group costs by nope: not a column"):
        groupkit.costs(archive, by=["group_id", "nope"])
