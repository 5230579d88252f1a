"""groupkit.dask on a real cluster: the same frames and the same analytics as pandas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dask
import fsspec
import pandas as pd
import pytest

import groupkit
import groupkit.dask
from groupkit import schema
from groupkit.simulate import simulate_archive

SETTINGS = {
    "mixed_heavy_duplicates": {"seed": 21, "fmt": "mixed", "duplicate": 0.5},
    "gzip_reordered": {"seed": 22, "gzip": True, "reorder": 0.6, "unknown_membership": 0.3},
}
KEYS = ["group_id", "message_id", "participant_id"]


@pytest.fixture(scope="module", params=list(SETTINGS))
def pair(request, tmp_path_factory, client):
    out = tmp_path_factory.mktemp(request.param)
    simulate_archive(out, groups=4, days=2, **SETTINGS[request.param])
    return groupkit.read_webhooks(out), groupkit.dask.read_webhooks(str(out)).persist()


def _same_frames(got: dict[str, pd.DataFrame], want: groupkit.Archive) -> None:
    for name, frame in want.frames().items():
        pd.testing.assert_frame_equal(got[name].reset_index(drop=True), frame, obj=name)


def test_frames_equal_the_pandas_frames_with_the_same_dtypes(pair):
    pandas_archive, dask_archive = pair
    assert pandas_archive.report.duplicates["statuses"] > 0  # redeliveries across files
    for name, frame in dask_archive.frames().items():
        assert frame.dtypes.astype(str).to_dict() == schema.dtypes(name), name
    _same_frames(dask_archive.compute(), pandas_archive)


def test_deliveries_equal_the_pandas_lifecycle(pair):
    pandas_archive, dask_archive = pair
    got = groupkit.deliveries(dask_archive).compute()
    want = groupkit.deliveries(pandas_archive)
    got = got.sort_values(KEYS, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_flags=False)


@pytest.mark.parametrize(
    ("by", "freq"),
    [("group_id", None), (None, None), ("biz_opaque_callback_data", None), (["hour"], "day")],
)
@pytest.mark.parametrize("metric", ["delivery", "read"])
def test_latency_summary_is_exactly_the_pandas_one(pair, by, freq, metric):
    pandas_archive, dask_archive = pair
    got = groupkit.latency_summary(dask_archive, metric=metric, by=by, freq=freq)
    want = groupkit.latency_summary(pandas_archive, metric=metric, by=by, freq=freq)
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("by", ["group_id", None, "pricing_category", "state"])
def test_funnel_is_exactly_the_pandas_one(pair, by):
    pandas_archive, dask_archive = pair
    pd.testing.assert_frame_equal(
        groupkit.funnel(dask_archive, by=by), groupkit.funnel(pandas_archive, by=by)
    )


@pytest.mark.parametrize(("by", "freq"), [(None, None), ("group_id", None), ("origin", "day")])
def test_error_summary_is_exactly_the_pandas_one(pair, by, freq):
    pandas_archive, dask_archive = pair
    got = groupkit.error_summary(dask_archive, by=by, freq=freq)
    want = groupkit.error_summary(pandas_archive, by=by, freq=freq)
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want)


def _hook(mid: str, ts: int, received: str | None = None) -> dict:
    st = {"id": mid, "status": "sent", "timestamp": str(ts), "recipient_id": "G1",
          "recipient_type": "group"}  # fmt: skip
    hook = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [st]}}]}]}
    return {"received_at": received, "payload": hook} if received else hook


def test_blocks_of_one_file_keep_lines_rejects_and_cross_block_redeliveries(tmp_path, client):
    records = [json.dumps(_hook(f"wamid.{i}", 1750000000 + i)) for i in range(300)]
    records[170] = "{not json"
    # A redelivery far from its original, received earlier: the later line is kept.
    records[5] = json.dumps(_hook("wamid.X", 1750000000, "2025-06-15T10:00:05Z"))
    records.append(json.dumps(_hook("wamid.X", 1750000000, "2025-06-15T10:00:01Z")))
    path = tmp_path / "big.ndjson"
    path.write_text("\n".join(records) + "\n")
    archive = groupkit.dask.read_webhooks(str(path), blocksize=4096)
    assert archive.statuses.npartitions > 5
    want = groupkit.read_webhooks(path)
    _same_frames(archive.compute(), want)
    assert want.statuses["source"].str.endswith(":301").any()
    rejects = archive.rejects.compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(rejects, want.report.rejects_frame())


def test_fsspec_urls_read_memory_and_file(tmp_path):
    # memory:// lives in this process, so it runs on the local scheduler (and the
    # task-based shuffle: P2P needs the cluster's workers).
    hooks = [_hook("wamid.A", 1750000000), _hook("wamid.B", 1750000001)]
    for n, hook in enumerate(hooks):
        with fsspec.open(f"memory://gk-test/day{n}.ndjson", "w") as fh:
            fh.write(json.dumps(hook) + "\n" + json.dumps(hooks[0]) + "\n")
    (tmp_path / "a.ndjson").write_text(json.dumps(hooks[1]) + "\n")
    local = {"scheduler": "sync", "dataframe.shuffle.method": "tasks"}
    with dask.config.set(local):
        statuses = groupkit.dask.read_webhooks("memory://gk-test/*.ndjson").statuses.compute()
        got = groupkit.dask.read_webhooks(f"file://{tmp_path}/*.ndjson").statuses.compute()
    assert statuses["message_id"].tolist() == ["wamid.A", "wamid.B"]
    assert statuses["source"].tolist() == ["memory:///gk-test/day0.ndjson:1",
                                           "memory:///gk-test/day1.ndjson:1"]  # fmt: skip
    assert got["source"].tolist() == [f"file://{tmp_path}/a.ndjson:1"]


def test_importing_groupkit_does_not_import_dask():
    code = (
        "import sys, groupkit; "
        "print(any(m.split('.')[0] in ('dask', 'distributed', 'fsspec') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_missing_path_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        groupkit.dask.read_webhooks(str(Path(tmp_path) / "nothing-here"))


def test_analytics_without_a_dask_implementation_refuse_a_dask_archive(pair):
    _, dask_archive = pair
    for function in (groupkit.costs, groupkit.participants, groupkit.webhook_health):
        with pytest.raises(groupkit.GroupkitError, match="does not support Dask"):
            function(dask_archive)


def test_a_dask_frame_where_an_archive_belongs_says_what_to_pass(pair):
    pandas_archive, dask_archive = pair
    # deliveries() needs an archive; a Dask frame has no implementation registered.
    with pytest.raises(groupkit.GroupkitError, match=r"groupkit\.deliveries has no implementation"):
        groupkit.deliveries(dask_archive.statuses)
    # The summaries accept a Dask deliveries frame, as they accept a pandas one.
    frame = groupkit.dask.deliveries(dask_archive)
    assert groupkit.funnel(frame, by=None).equals(groupkit.funnel(pandas_archive, by=None))
