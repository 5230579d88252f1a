"""Parse vs cached reload of the same archive, measured in the same run.

Target (issue 7): reloading a cached 1M-line archive is at least 10x faster than
parsing it.  Prints one table: a plain parse (no cache), the first load with a cache
(parse + writing the entries) and the cached reload, with their ratios to the parse;
the cached frames are checked equal to the parsed ones.

Usage::

    python benchmarks/bench_cache.py [ARCHIVE] [--lines 1000000] [--repeat 3]

Without ``ARCHIVE`` it uses ``benchmarks/data/archive_<lines>.ndjson``, generating it
with ``benchmarks/make_archive.py`` when missing (git-ignored).  The cache lives in a
temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _archive(path: str | None, lines: int) -> Path:
    if path is not None:
        return Path(path)
    target = HERE / "data" / f"archive_{lines}.ndjson"
    if not target.exists():
        target.parent.mkdir(exist_ok=True)
        script = HERE / "make_archive.py"
        subprocess.run(
            [sys.executable, str(script), str(target), "--lines", str(lines)], check=True
        )
    return target


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", nargs="?", default=None)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="best of N cached reloads (the first in a fresh process pays Arrow start-up)",
    )
    args = ap.parse_args()
    path = _archive(args.archive, args.lines)

    import pandas as pd

    import groupkit

    cache = tempfile.mkdtemp(prefix="groupkit-bench-cache-")
    try:
        fresh, parse_s = _timed(lambda: groupkit.read_webhooks(str(path), cache=False), 1)
        _, first_s = _timed(lambda: groupkit.read_webhooks(str(path), cache=cache), 1)
        cached, reload_s = _timed(
            lambda: groupkit.read_webhooks(str(path), cache=cache), args.repeat
        )
        for name, frame in fresh.frames().items():
            pd.testing.assert_frame_equal(cached.frames()[name], frame)
        size = sum(p.stat().st_size for p in Path(cache).rglob("*") if p.is_file())
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    rows = fresh.report.rows["statuses"]
    print(f"archive: {path} ({path.stat().st_size / 1e6:,.0f} MB, {rows:,} status rows)")
    print(f"cache on disk: {size / 1e6:,.0f} MB (per-file parts + whole-archive entry)")
    print()
    print(f"{'step':<34} {'seconds':>9} {'vs parse':>10}")
    print(f"{'parse (no cache)':<34} {parse_s:>9.2f} {1.0:>9.2f}x")
    print(f"{'first load with cache (parse+write)':<34} {first_s:>9.2f} {first_s / parse_s:>9.2f}x")
    print(f"{'cached reload':<34} {reload_s:>9.2f} {reload_s / parse_s:>9.2f}x")
    print()
    speedup = parse_s / reload_s
    verdict = "meets" if speedup >= 10 else "MISSES"
    print(f"cached reload is {speedup:,.1f}x faster than parsing ({verdict} the 10x target)")


if __name__ == "__main__":
    main()
