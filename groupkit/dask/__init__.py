"""Archives beyond one machine: the loader's frames as Dask DataFrames.

:func:`read_webhooks` reads local paths, globs and fsspec URLs (``file://``,
``memory://``, ``s3://`` with ``s3fs``...) into a :class:`DaskArchive` whose frames
have exactly the columns and dtypes of :mod:`groupkit.schema`.  Each file is one
partition, or several newline-aligned blocks when it is large plain NDJSON (gzip
cannot be split, so a gzipped file is one partition); every block goes through the
same parser as :func:`groupkit.read_webhooks`, and redeliveries are removed across
partitions, so ``frame.compute()`` equals the pandas frame row for row.

:func:`groupkit.deliveries`, :func:`groupkit.latency_summary`,
:func:`groupkit.funnel` and :func:`groupkit.error_summary` accept a
:class:`DaskArchive` and return what they return for the pandas archive of the
same files: importing :mod:`groupkit.dask` registers its implementations with
them (see :mod:`groupkit.dask.analytics`); :mod:`groupkit.analytics` never imports
it.

Requires the optional extra: ``pip install 'groupkit[dask]'``.

Examples
--------
>>> import json, tempfile, pathlib
>>> import groupkit.dask
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> hook = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [
...     {"id": "wamid.A", "status": "sent", "timestamp": "1750000000",
...      "recipient_id": "G1", "recipient_type": "group"}]}}]}]}
>>> for day in ("day1", "day2"):  # the same webhook delivered twice, in two files
...     _ = (folder / f"{day}.ndjson").write_text(json.dumps(hook) + "\\n")
>>> archive = groupkit.dask.read_webhooks(str(folder))
>>> archive.statuses.npartitions
2
>>> archive.statuses[["message_id", "status"]].compute(scheduler="sync").values.tolist()
[['wamid.A', 'sent']]
"""

from __future__ import annotations

try:
    import dask.dataframe  # noqa: F401
    import fsspec  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("groupkit.dask needs Dask and fsspec: pip install 'groupkit[dask]'") from exc

from groupkit.dask._reader import DaskArchive, read_webhooks
from groupkit.dask.analytics import deliveries, error_summary, funnel, latency_summary

__all__ = [
    "DaskArchive",
    "deliveries",
    "error_summary",
    "funnel",
    "latency_summary",
    "read_webhooks",
]
