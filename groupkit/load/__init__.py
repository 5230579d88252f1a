"""The loader: archived webhooks in, typed frames out.

Data flows one way through the modules of this package::

    sources   paths, globs, gzip, format detection          -> bytes of records
    records   cut bytes into records; route each            -> lane or walker
    lane      the C lanes (_scan.c), common status and message POSTs -> Arrow columns
    walk      the msgspec walker, every other record        -> column lists per frame
    build     column lists -> Arrow tables -> typed pandas frames; redeliveries dropped
    engine    worker processes and the shared-memory hand-over (handover)
    cache     parsed files and archives kept on disk
    api       read_webhooks, parse_webhooks, read_record

What each frame's columns are, their dtypes and the JSON paths they come from is
declared once, in :mod:`groupkit.schema`; the model (:mod:`groupkit.load.model`)
and the lane's key tables are generated from or checked against it.
"""

from groupkit.load.api import parse_bytes, parse_webhooks, part_frames, read_record, read_webhooks
from groupkit.load.parts import Part

__all__ = ["Part", "parse_bytes", "parse_webhooks", "part_frames", "read_record", "read_webhooks"]
