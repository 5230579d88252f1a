"""Loader speed and memory against the baselines, all measured in the same run.

Each measurement runs in its own process so its peak memory is its own; peak
memory is the largest sum of resident memory over the process and its workers,
sampled every 100 ms.  Times start once the library is imported (``orjson``,
``pandas`` for the naive script, ``groupkit``): what is compared is reading the
archive; the import times are printed apart.  Prints one table with the ratios
the targets are set in:

* ``groupkit`` within 1.5x the time of ``orjson.loads`` over the same lines;
* at least 20x faster than the naive ``json.loads`` + ``pandas.json_normalize``;
* peak memory under 1.5 GB; gzip within 2.5x of the plain orjson floor.

Usage::

    python benchmarks/bench_load.py [--lines 1000000] [--skip-naive] [--repeat 1]
                                    [--before PATH]

``--before PATH`` also measures the groupkit of another checkout (for example a
``git worktree`` of the commit before a change, with its extension built) in the
same run, on the same archive, rows labelled ``before``: a change's before and
after come from one table, not from two days' machines.

The archive is generated once into ``benchmarks/data/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def _shmem_mb() -> float:
    """System-wide shared memory (tmpfs such as /dev/shm) in use, in MB."""
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("Shmem:"):
                return int(line.split()[1]) / 1e3
    return 0.0


def _tree_rss_mb(root: int) -> float:
    """Memory held by ``root`` and all its descendants, in MB (Linux /proc).

    Private resident memory (anonymous and file-backed) of every process; shared
    memory is counted once, system-wide, by :func:`_shmem_mb` (the loader hands
    tables over through /dev/shm, whose pages no process's RSS fully shows).
    """
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith(("RssAnon:", "RssFile:")):
                        total += int(line.split()[1]) * 1024
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total / 1e6


def _measure(fn) -> dict:
    peak = [0.0]
    done = threading.Event()
    shm_before = _shmem_mb()

    def sample() -> None:
        while not done.is_set():
            used = _tree_rss_mb(os.getpid()) + max(0.0, _shmem_mb() - shm_before)
            peak[0] = max(peak[0], used)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    extra = fn()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return {"seconds": seconds, "peak_mb": peak[0], **(extra or {})}


def _run_orjson(path: str) -> dict:
    import orjson

    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                orjson.loads(line)
                n += 1
    return {"records": n}


def _run_naive(path: str) -> dict:
    import pandas as pd

    with open(path) as fh:
        hooks = [json.loads(line) for line in fh if line.strip()]
    changes = pd.json_normalize([c for h in hooks for e in h["entry"] for c in e["changes"]])
    statuses = changes[["value.statuses"]].explode("value.statuses").dropna()
    frame = pd.json_normalize(statuses["value.statuses"].tolist())
    frame["timestamp"] = pd.to_datetime(frame["timestamp"].astype(int), unit="s", utc=True)
    frame = frame.drop_duplicates(subset=["id", "status", "recipient_participant_id"])
    return {"status_rows": len(frame)}


def _run_groupkit(path: str) -> dict:
    import groupkit

    archive = groupkit.read_webhooks(path, progress=False)
    return {
        "status_rows": len(archive.statuses),
        "records": archive.report.records_read,
        "rejects": len(archive.report.rejects),
    }


RUNNERS = {"orjson": _run_orjson, "naive": _run_naive, "groupkit": _run_groupkit}
IMPORTS = {"orjson": "orjson", "naive": "pandas", "groupkit": "groupkit"}


def _child(name: str, path: str, tree: str | None = None) -> dict:
    env = dict(os.environ)
    if tree:  # PYTHONPATH comes before the installed (editable) groupkit
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [tree, env.get("PYTHONPATH")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, path],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # CPU of the child and every process it waited for (its workers), less the
    # import's: on a busy machine this moves much less than the wall time.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {**result, "cpu_s": cpu - result["import_cpu_s"]}


def ensure_archive(lines: int) -> tuple[Path, Path]:
    """The benchmark archive (plain and gzip), generated once per size."""
    DATA.mkdir(exist_ok=True)
    plain = DATA / f"archive_{lines}.ndjson"
    gz = DATA / f"archive_{lines}.ndjson.gz"
    if not plain.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_archive.py"), str(plain), "--lines", str(lines)],
            check=True,
        )
    if not gz.exists():
        with open(plain, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return plain, gz


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--skip-naive", action="store_true", help="skip the slow naive baseline")
    ap.add_argument("--repeat", type=int, default=1, help="keep the best of N runs")
    ap.add_argument("--before", metavar="PATH", help="also measure the groupkit in this checkout")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        name, path = args.child
        # The clock starts after the import, as for the orjson floor: what is timed is
        # reading the archive, not starting Python libraries (reported apart).
        start, cpu = time.perf_counter(), time.process_time()
        importlib.import_module(IMPORTS[name])
        imported, import_cpu = time.perf_counter() - start, time.process_time() - cpu
        measured = _measure(lambda: RUNNERS[name](path))
        print(json.dumps({**measured, "import_s": imported, "import_cpu_s": import_cpu}))
        return

    plain, gz = ensure_archive(args.lines)
    size_mb = plain.stat().st_size / 1e6
    print(
        f"archive: {plain.name}, {args.lines:,} lines, {size_mb:,.0f} MB "
        f"(gzip {gz.stat().st_size / 1e6:,.0f} MB); {os.cpu_count()} CPUs"
    )
    plan = [("orjson", plain, None), ("groupkit", plain, None), ("groupkit", gz, None)]
    if args.before:
        plan += [("groupkit", plain, args.before), ("groupkit", gz, args.before)]
    if not args.skip_naive:
        plan.append(("naive", plain, None))
    results: dict[str, dict] = {}
    # Each round runs every method once, so that drift of the machine hits all alike.
    for _ in range(args.repeat):
        for name, path, tree in plan:
            label = f"{name} ({'gzip' if path.suffix == '.gz' else 'plain'})"
            label = f"before {label}" if tree else label
            run = _child(name, str(path), tree)
            if label not in results or run["seconds"] < results[label]["seconds"]:
                results[label] = run
            print(f"  measured {label}: {run['seconds']:.2f} s", file=sys.stderr)

    floor = results["orjson (plain)"]["seconds"]
    cpu_floor = results["orjson (plain)"]["cpu_s"]
    naive = results.get("naive (plain)", {}).get("seconds")
    print()
    print(
        f"| {'method':<25} | {'seconds':>8} | {'CPU s':>7} | {'peak MB':>8} "
        f"| {'x orjson floor':>14} | {'CPU x floor':>11} | {'speed-up vs naive':>17} |"
    )
    print(f"|{'-' * 27}|{'-' * 10}|{'-' * 9}|{'-' * 10}|{'-' * 16}|{'-' * 13}|{'-' * 19}|")
    for label, r in results.items():
        speed = f"{naive / r['seconds']:.1f}x" if naive else "n/a"
        print(
            f"| {label:<25} | {r['seconds']:>8.2f} | {r['cpu_s']:>7.2f} | {r['peak_mb']:>8.0f} | "
            f"{r['seconds'] / floor:>13.2f}x | {r['cpu_s'] / cpu_floor:>10.2f}x | {speed:>17} |"
        )
    gk = results["groupkit (plain)"]
    print()
    print(
        f"groupkit: {gk['records']:,} records, {gk['status_rows']:,} status rows, "
        f"{gk['rejects']:,} rejects"
    )
    imports = ", ".join(
        f"{IMPORTS[label.split()[0]]} {r['import_s']:.2f} s"
        for label, r in results.items()
        if "gzip" not in label and not label.startswith("before")
    )
    print(f"times exclude importing the library, measured apart: {imports}")
    print("targets: groupkit plain <= 1.5x floor, gzip <= 2.5x floor, >= 20x naive, < 1500 MB")


if __name__ == "__main__":
    main()
