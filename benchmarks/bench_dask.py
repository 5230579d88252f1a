"""pandas vs Dask on the same archive: load, then latency per group, in the same run.

Prints one table: the pandas loader and analytics, and ``groupkit.dask`` on a
``distributed.LocalCluster`` (``--workers`` processes, one thread each) doing the
same work, with the results checked equal.  On one machine Dask pays for its
shuffles (redeliveries across partitions, statuses by group); it is there for
archives that do not fit one machine, so expect it slower here.

Usage::

    python benchmarks/bench_dask.py [ARCHIVE] [--lines 1000000] [--workers 2] [--blocksize 64MiB]

Without ``ARCHIVE`` it uses ``bench_load.py``'s status-heavy archive of that many
lines, generated when missing (git-ignored).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _archive(path: str | None, lines: int) -> Path:
    """The given archive, or bench_load.py's status-heavy archive of ``lines`` lines."""
    if path is not None:
        return Path(path)
    from bench_load import ensure_archive

    return ensure_archive(lines)[0]


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _persisted(archive, distributed):
    """Parse and dedupe every frame on the cluster, and wait for it."""
    done = archive.persist()
    distributed.wait([*done.frames().values(), done.rejects])
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", nargs="?", default=None)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--blocksize", default="64MiB")
    args = ap.parse_args()
    path = _archive(args.archive, args.lines)

    import distributed
    import pandas as pd

    import groupkit
    import groupkit.dask

    archive, pandas_load = _timed(
        lambda: groupkit.read_webhooks(str(path), workers=args.workers, cache=False)
    )
    want, pandas_latency = _timed(lambda: groupkit.latency_summary(archive))

    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, dashboard_address=":0"
    )
    with cluster, distributed.Client(cluster):
        lazy = groupkit.dask.read_webhooks(str(path), blocksize=args.blocksize)
        persisted, dask_load = _timed(lambda: _persisted(lazy, distributed))
        got, dask_latency = _timed(lambda: groupkit.latency_summary(persisted))
        statuses = persisted.statuses.npartitions
    pd.testing.assert_frame_equal(got, want)

    print(
        f"archive: {path} ({path.stat().st_size / 1e6:,.0f} MB, {len(archive.statuses):,} statuses)"
    )
    print(f"dask: LocalCluster {args.workers} workers x 1 thread, {statuses} partitions")
    print()
    print(f"{'step':<32} {'pandas s':>9} {'dask s':>9} {'dask/pandas':>12}")
    rows = [
        ("load (parse + dedupe)", pandas_load, dask_load),
        ("latency_summary by group", pandas_latency, dask_latency),
        ("total", pandas_load + pandas_latency, dask_load + dask_latency),
    ]
    for name, p, d in rows:
        print(f"{name:<32} {p:>9.2f} {d:>9.2f} {d / p:>11.2f}x")
    print()
    print("results equal: yes (latency_summary, assert_frame_equal)")


if __name__ == "__main__":
    main()
