"""Parse vs cached reload of the same archive, measured in the same run.

Target: reloading a cached 1M-line archive is at least 10x faster than parsing it,
on every archive mix (``make_archive.MIXES``: a faster parse leaves the cache less
to win).  Prints one table per archive: a plain parse (no cache), the first load
with a cache (parse + writing the entries) and the cached reload, with their ratios
to the parse; the cached frames are checked equal to the parsed ones.

Usage::

    python benchmarks/bench_cache.py [ARCHIVE] [--lines 1000000] [--mix ...] [--repeat 3]

Without ``ARCHIVE`` it uses ``bench_load.py``'s archive of each mix (all three by
default), generated when missing (git-ignored).  The cache lives in a temporary
directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_archive import MIXES  # noqa: E402


def _timed(fn, repeat: int) -> tuple[object, float]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def measure(path: Path, repeat: int) -> None:
    """One archive's table: parse, first load with a cache, cached reload."""
    import pandas as pd

    import groupkit

    cache = tempfile.mkdtemp(prefix="groupkit-bench-cache-")
    try:
        fresh, parse_s = _timed(lambda: groupkit.read_webhooks(str(path), cache=False), 1)
        _, first_s = _timed(lambda: groupkit.read_webhooks(str(path), cache=cache), 1)
        cached, reload_s = _timed(lambda: groupkit.read_webhooks(str(path), cache=cache), repeat)
        for name, frame in fresh.frames().items():
            pd.testing.assert_frame_equal(cached.frames()[name], frame)
        size = sum(p.stat().st_size for p in Path(cache).rglob("*") if p.is_file())
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    rows = fresh.report.rows
    print(
        f"archive: {path.name} ({path.stat().st_size / 1e6:,.0f} MB, "
        f"{rows['messages']:,} message rows, {rows['statuses']:,} status rows)"
    )
    print(f"cache on disk: {size / 1e6:,.0f} MB (per-file parts + whole-archive entry)")
    print()
    print(f"{'step':<36} {'seconds':>9} {'vs parse':>10}")
    print(f"{'parse (no cache)':<36} {parse_s:>9.2f} {1.0:>9.2f}x")
    print(f"{'first load with cache (parse+write)':<36} {first_s:>9.2f} {first_s / parse_s:>9.2f}x")
    print(f"{'cached reload':<36} {reload_s:>9.2f} {reload_s / parse_s:>9.2f}x")
    speedup = parse_s / reload_s
    verdict = "meets" if speedup >= 10 else "MISSES"
    print(f"cached reload is {speedup:,.1f}x faster than parsing ({verdict} the 10x target)")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", nargs="?", default=None)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--mix", nargs="+", choices=list(MIXES), default=list(MIXES))
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="best of N cached reloads (the first in a fresh process pays Arrow start-up)",
    )
    args = ap.parse_args()
    if args.archive is not None:
        measure(Path(args.archive), args.repeat)
        return
    from bench_load import ensure_archive

    for mix in args.mix:
        measure(ensure_archive(args.lines, mix)[0], args.repeat)


if __name__ == "__main__":
    main()
