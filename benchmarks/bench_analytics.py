"""Time ``deliveries`` + ``latency_summary`` against the load of the same archive.

Target (issue 3): on the 1M-line benchmark archive, the analytics add no more time
than the load itself takes.  Prints one table with each step's time and its ratio
to the load.

Usage::

    python benchmarks/bench_analytics.py [ARCHIVE] [--lines 1000000]

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", nargs="?", default=None)
    ap.add_argument("--lines", type=int, default=1_000_000)
    args = ap.parse_args()
    path = _archive(args.archive, args.lines)

    import groupkit

    archive, load_s = _timed(lambda: groupkit.read_webhooks(str(path)))
    frame, deliveries_s = _timed(lambda: groupkit.deliveries(archive))
    summary, latency_s = _timed(lambda: groupkit.latency_summary(frame, metric="delivery"))
    _, read_s = _timed(lambda: groupkit.latency_summary(frame, metric="read", by=None))
    analytics_s = deliveries_s + latency_s + read_s

    print(f"archive: {path} ({path.stat().st_size / 1e6:,.0f} MB)")
    print(
        f"statuses: {len(archive.statuses):,}  deliveries rows: {len(frame):,}  "
        f"groups: {len(summary):,}"
    )
    print()
    print(f"{'step':<40}{'seconds':>10}{'x load':>10}")
    rows = [
        ("read_webhooks (load)", load_s),
        ("deliveries", deliveries_s),
        ("latency_summary(delivery, by=group_id)", latency_s),
        ("latency_summary(read, by=None)", read_s),
        ("analytics total", analytics_s),
    ]
    for name, seconds in rows:
        print(f"{name:<40}{seconds:>10.2f}{seconds / load_s:>10.2f}")
    verdict = "PASS" if analytics_s <= load_s else "FAIL"
    print(f"\nanalytics / load = {analytics_s / load_s:.2f} (target <= 1.00): {verdict}")


if __name__ == "__main__":
    main()
