"""Time ``groupkit report`` on the benchmark archive and sample its peak memory.

Target (issue 4): on the 1M-line archive the report finishes within the loader's
memory target (peak under 1.5 GB, as ``bench_load.py`` measures it), and every
chart embeds only aggregates.  Runs the report, then the loader alone, each in a
child process (so each peak is its own, workers included) and prints the time of
each step, both peaks, the HTML size and the largest dataset a chart embeds.

Usage::

    python benchmarks/bench_report.py [ARCHIVE] [--lines 1000000]

Without ``ARCHIVE`` it uses ``benchmarks/data/archive_<lines>.ndjson``, generating it
with ``benchmarks/make_archive.py`` when missing (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_load import _child, _measure, ensure_archive  # noqa: E402

MEMORY_TARGET_MB = 1500


def _report(path: str, out: str) -> dict:
    """The steps of ``groupkit report PATH -o OUT``, each timed."""
    import groupkit
    from groupkit import charts, report

    steps = {}
    start = time.perf_counter()
    archive = report.read_for_report(path, progress=False)  # as `groupkit report` does
    steps["load"] = time.perf_counter() - start
    start = time.perf_counter()
    frame = groupkit.deliveries(archive)
    steps["deliveries"] = time.perf_counter() - start
    start = time.perf_counter()
    page = report.build_report(archive, frame=frame, title=f"groupkit report: {Path(path).name}")
    Path(out).write_text(page, encoding="utf-8")
    steps["charts + tables + html"] = time.perf_counter() - start
    style = charts.group_style(archive)
    largest = max(
        sum(len(v) for v in chart.to_dict().get("datasets", {}).values())
        for _, chart in report._charts(archive, frame, style)
    )
    return {
        "steps": steps,
        "receipts": len(frame),
        "groups": int(archive.statuses["group_id"].nunique()),
        "html_mb": Path(out).stat().st_size / 1e6,
        "largest_dataset_rows": largest,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", nargs="?", default=None)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_measure(lambda: _report(*args.child))))
        return

    path = Path(args.archive) if args.archive else ensure_archive(args.lines)[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        run = subprocess.run(
            [sys.executable, __file__, "--child", str(path), str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    load_only = _child("groupkit", str(path))  # the loader alone, as bench_load measures it
    print(f"archive: {path} ({path.stat().st_size / 1e6:,.0f} MB)")
    print(f"receipts: {result['receipts']:,}; groups: {result['groups']:,}")
    print()
    print(f"| {'step':<24} | {'seconds':>8} |")
    print(f"|{'-' * 26}|{'-' * 10}|")
    for step, seconds in result["steps"].items():
        print(f"| {step:<24} | {seconds:>8.2f} |")
    total = sum(result["steps"].values())
    print(f"| {'total (groupkit report)':<24} | {total:>8.2f} |")
    print()
    peak, load_peak = result["peak_mb"], load_only["peak_mb"]
    verdict = "within" if peak < MEMORY_TARGET_MB else "OVER"
    print(
        f"peak memory: report {peak:,.0f} MB, loader alone {load_peak:,.0f} MB "
        f"(report adds {peak - load_peak:+,.0f} MB; {verdict} the {MEMORY_TARGET_MB:,} MB target)"
    )
    print(
        f"HTML: {result['html_mb']:.1f} MB; largest chart dataset: "
        f"{result['largest_dataset_rows']:,} rows (altair's limit: 5,000)"
    )


if __name__ == "__main__":
    main()
