"""Loader time and peak memory on awkward archives (issue 14, item 11).

Two layouts that used to cost memory without bound, each against the same
webhooks as one NDJSON file:

* a folder of one-webhook files (one JSON document per file, as object-store
  dumps write them): target at most 1.5 GB peak, and under 0.5 ms per file
  beyond the time of the same webhooks as one NDJSON file;
* one file of rejected (garbage) lines: target at most 1.5 GB peak.

Each load runs in its own process; peak memory counts that process, all its
workers and the system's shared memory (the helpers of ``bench_load.py``).

Usage::

    python benchmarks/bench_awkward.py [--files 100000] [--lines 5000000]

The archives are generated once per size into ``benchmarks/data/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

from bench_load import _measure, ensure_archive  # noqa: E402

TARGET_MB = 1500
TARGET_MS_PER_FILE = 0.5


def _load(path: str) -> dict:
    import groupkit

    archive = groupkit.read_webhooks(path, progress=False)
    return {
        "status_rows": len(archive.statuses),
        "records": archive.report.records_read,
        "rejects": len(archive.report.rejects),
        "files": archive.report.files_read,
    }


def _child(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_files(count: int) -> tuple[Path, Path]:
    """``count`` one-webhook files in a folder, and the same webhooks as one NDJSON file."""
    plain, _ = ensure_archive(count)  # bench_load's archive of that size, split up here
    folder = DATA / f"onefile_{count}"
    done = folder / ".complete"
    if not done.exists():
        folder.mkdir(exist_ok=True)
        with open(plain, "rb") as fh:
            for i, line in enumerate(fh):
                sub = folder / f"{i // 1000:04d}"
                if i % 1000 == 0:
                    sub.mkdir(exist_ok=True)
                (sub / f"hook-{i:07d}.json").write_bytes(line.rstrip(b"\n"))
        done.write_text("")
    return plain, folder


def ensure_garbage(count: int) -> Path:
    """One file of ``count`` lines, none of them JSON."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"garbage_{count}.ndjson"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            for i in range(count):
                fh.write(f"garbage line {i} <html>not a webhook</html>\n")
        tmp.rename(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100_000, help="one-webhook files (0 skips)")
    ap.add_argument("--lines", type=int, default=5_000_000, help="rejected lines (0 skips)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import groupkit  # noqa: F401  (the clock starts after the import)

        print(json.dumps(_measure(lambda: _load(args.child))))
        return

    print(f"{os.cpu_count()} CPUs; peak = all processes' resident memory + shared memory")
    rows = []
    ndjson_s = None
    if args.files:
        plain, folder = ensure_files(args.files)
        for label, path in (("same webhooks, one NDJSON", plain), ("one-webhook files", folder)):
            started = time.perf_counter()
            r = _child(path)
            print(f"  measured {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
            rows.append((f"{label} ({args.files:,})", r))
        ndjson_s = rows[0][1]["seconds"]
    if args.lines:
        garbage = ensure_garbage(args.lines)
        r = _child(garbage)
        rows.append((f"rejected lines ({args.lines:,})", r))
    print()
    print(
        f"| {'archive':<40} | {'seconds':>8} | {'peak MB':>8} | {'records':>10} "
        f"| {'rejects':>10} | {'ms/file beyond NDJSON':>21} |"
    )
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 10}|{'-' * 12}|{'-' * 12}|{'-' * 23}|")
    for label, r in rows:
        beyond = (
            ""
            if not label.startswith("one-webhook") or ndjson_s is None
            else (f"{(r['seconds'] - ndjson_s) * 1e3 / args.files:.3f}")
        )
        print(
            f"| {label:<40} | {r['seconds']:>8.2f} | {r['peak_mb']:>8.0f} | {r['records']:>10,} "
            f"| {r['rejects']:>10,} | {beyond:>21} |"
        )
    print()
    print(
        f"targets: peak <= {TARGET_MB} MB on each; one-webhook files < {TARGET_MS_PER_FILE} ms "
        "per file beyond the NDJSON time"
    )


if __name__ == "__main__":
    main()
