"""The Explorer's receipts panel: pick a message, see who has not read it, export CSV.

Driven as a notebook user would: the Explorer's group picker, the panel's message
dropdown and its two buttons.  What it shows is checked against the sample's truth
(``sample_data/truth``) and against the public functions it must agree with.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import groupkit
from groupkit.widgets import Explorer

SAMPLE = Path(__file__).parents[2] / "sample_data"


@pytest.fixture(scope="module")
def archive() -> groupkit.Archive:
    return groupkit.read_webhooks(SAMPLE / "webhooks", workers=1)


@pytest.fixture
def explorer(archive, tmp_path) -> Explorer:
    return Explorer(archive, offline=False, export_dir=tmp_path / "exports")


def test_it_offers_every_message_newest_first_and_shows_the_newest(archive, explorer):
    panel = explorer.receipts
    truth = pd.read_parquet(SAMPLE / "truth" / "deliveries.parquet")
    messages = truth.drop_duplicates("message_id")
    assert len(panel.message.options) == len(messages)
    sent = messages.dropna(subset=["sent_at"])  # messages never sent are listed last
    newest = sent.sort_values(["sent_at", "message_id"]).iloc[-1]["message_id"]
    assert panel.message.value == newest
    want = truth[truth["message_id"] == newest].set_index("participant_id")
    got = panel.receipts.set_index("participant_id")
    assert set(got.index) == set(want.index)
    unread = int((want["state"] != "read").sum())
    assert f"{len(want)} recipients · {unread} have not read" in panel.receipts_summary.value


def test_choosing_a_message_shows_its_recipients_and_their_states(archive, explorer):
    panel = explorer.receipts
    truth = pd.read_parquet(SAMPLE / "truth" / "deliveries.parquet")
    # A message some member has not read.
    unread = truth[truth["state"].isin(["delivered", "pending"]) & truth["member_at_send"]]
    mid = unread["message_id"].iloc[0]
    panel.message.value = mid
    got = panel.receipts.set_index("participant_id")
    want = truth[truth["message_id"] == mid].set_index("participant_id")
    assert set(got.index) == set(want.index)
    assert (got.loc[want.index, "read_at"].tolist()) == want["read_at"].tolist()
    pd.testing.assert_frame_equal(
        panel.receipts, groupkit.message_receipts(archive, mid), check_like=False
    )
    for pid in want.index:
        assert pid in panel.receipts_table.value
    assert "have not read" in panel.receipts_summary.value


def test_choosing_groups_narrows_messages_and_participants(archive, explorer):
    chosen = explorer.groups.value[:1]
    explorer.groups.value = chosen
    panel = explorer.receipts
    truth = pd.read_parquet(SAMPLE / "truth" / "deliveries.parquet")
    in_group = truth.loc[truth["group_id"].isin(chosen), "message_id"].unique()
    assert {mid for _, mid in panel.message.options} == set(in_group)
    assert set(panel.participants["group_id"]) == set(chosen)
    streaks = panel.participants["silent_streak"].tolist()
    assert streaks == sorted(streaks, reverse=True)
    explorer.groups.value = ()
    assert panel.message.options == () and panel.message.value is None
    assert "no business message" in panel.receipts_summary.value


def test_the_buttons_write_csv_files_and_say_where(archive, explorer, tmp_path):
    panel = explorer.receipts
    panel.export_receipts_button.click()
    path = panel.last_export
    assert path is not None and path.exists() and path.parent == (tmp_path / "exports").resolve()
    assert str(path) in panel.exported.value
    written = pd.read_csv(path, dtype={"participant_id": str})
    assert written["participant_id"].tolist() == panel.receipts["participant_id"].tolist()
    assert written["state"].tolist() == panel.receipts["state"].astype(str).tolist()

    panel.export_participants_button.click()
    people = pd.read_csv(panel.last_export, dtype={"participant_id": str})
    assert panel.last_export.name == "participants.csv"
    expected = groupkit.participants(archive)
    assert len(people) == len(expected)
    assert people["read"].sum() == expected["read"].sum()
    assert set(people["participant_id"]) == set(expected["participant_id"])
