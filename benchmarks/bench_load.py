"""Loader speed and memory against the baselines, all measured in the same run.

Measured on several archive *mixes* (``make_archive.MIXES``): status-heavy, about
35% inbound messages, and about 70% inbound messages with text in many scripts.
Each measurement runs in its own process so its peak memory is its own; peak
memory is the largest sum of resident memory over the process and all its
workers, plus the shared memory (/dev/shm) in use, sampled every 100 ms.  Times
start once the library is imported (``orjson``, ``pandas`` for the naive script,
``groupkit``): what is compared is reading the archive; the import times are
printed apart.  Prints one table per mix with the ratios the targets are set in:

* ``groupkit`` plain within 1.2x the time of ``orjson.loads`` over the same lines
  on the status-heavy mix, within 1.5x on the others;
* gzip within 2.0x of the plain orjson floor, on every mix;
* at least 20x faster than the naive ``json.loads`` + ``pandas.json_normalize``
  (of the messages and the statuses);
* peak memory (all processes and shared memory) at most 1.5 GB.

Usage::

    python benchmarks/bench_load.py [--lines 1000000] [--mix status-heavy ...]
                                    [--skip-naive] [--repeat 1] [--before PATH]

``--repeat N`` runs every method N times, alternating, and prints each row's
median with the spread (min-max) of the N runs.  ``--before PATH`` also measures
the groupkit of another checkout (for example a ``git worktree`` of the commit
before a change, with its extension built) in the same run, on the same
archives, rows labelled ``before``: a change's before and after come from one
table, not from two days' machines.

The archives are generated once into ``benchmarks/data/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import os
import resource
import shutil
import statistics
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
    """What an analyst writes without groupkit: json_normalize the items of each list."""
    import pandas as pd

    with open(path) as fh:
        hooks = [json.loads(line) for line in fh if line.strip()]
    changes = pd.json_normalize([c for h in hooks for e in h["entry"] for c in e["changes"]])
    frames = {}
    for key, subset in (("statuses", ["id", "status", "recipient_participant_id"]),
                        ("messages", ["id"])):  # fmt: skip
        column = f"value.{key}"
        if column not in changes:
            continue
        items = changes[[column]].explode(column).dropna()
        frame = pd.json_normalize(items[column].tolist())
        frame["timestamp"] = pd.to_datetime(frame["timestamp"].astype(int), unit="s", utc=True)
        frames[key] = frame.drop_duplicates(subset=[c for c in subset if c in frame])
    return {"status_rows": len(frames.get("statuses", ()))}


def _run_groupkit(path: str) -> dict:
    import groupkit

    archive = groupkit.read_webhooks(path, progress=False)
    return {
        "status_rows": len(archive.statuses),
        "message_rows": len(archive.messages),
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


def ensure_archive(lines: int, mix: str = "status-heavy") -> tuple[Path, Path]:
    """The benchmark archive of a mix (plain and gzip), generated once per size."""
    DATA.mkdir(exist_ok=True)
    plain = DATA / f"archive_{mix}_{lines}.ndjson"
    gz = DATA / f"archive_{mix}_{lines}.ndjson.gz"
    if not plain.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_archive.py"), str(plain), "--lines", str(lines),
             "--mix", mix],
            check=True,
        )  # fmt: skip
    if not gz.exists():
        with open(plain, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return plain, gz


# Targets, as ratios to the plain orjson floor of the same mix.
PLAIN_TARGET = {"status-heavy": 1.2, "inbound-35": 1.5, "inbound-70": 1.5}
GZIP_TARGET, NAIVE_TARGET, PEAK_TARGET_MB = 2.0, 20.0, 1500


def _label(name: str, path: Path, tree: str | None) -> str:
    label = f"{name} ({'gzip' if path.suffix == '.gz' else 'plain'})"
    return f"before {label}" if tree else label


def measure_mix(mix: str, args) -> dict[str, list[dict]]:
    """Every method on one mix, ``args.repeat`` rounds, alternating."""
    plain, gz = ensure_archive(args.lines, mix)
    size_mb = plain.stat().st_size / 1e6
    print(
        f"archive: {plain.name}, {args.lines:,} lines, {size_mb:,.0f} MB "
        f"(gzip {gz.stat().st_size / 1e6:,.0f} MB); {os.cpu_count()} CPUs",
        flush=True,
    )
    plan = [("orjson", plain, None), ("groupkit", plain, None), ("groupkit", gz, None)]
    if args.before:
        plan += [("groupkit", plain, args.before), ("groupkit", gz, args.before)]
    if not args.skip_naive:
        plan.append(("naive", plain, None))
    runs: dict[str, list[dict]] = {}
    # Each round runs every method once, so that drift of the machine hits all alike.
    for i in range(args.repeat):
        for name, path, tree in plan:
            if name == "naive" and i:
                continue  # a minute a run: once is enough for a 20x target
            label = _label(name, path, tree)
            run = _child(name, str(path), tree)
            runs.setdefault(label, []).append(run)
            print(f"  measured {label}: {run['seconds']:.2f} s", file=sys.stderr)
    return runs


def print_table(mix: str, runs: dict[str, list[dict]]) -> None:
    """One mix's table: medians, the spread of the runs, and ratios to the floor."""
    med = {label: statistics.median(r["seconds"] for r in rs) for label, rs in runs.items()}
    cpu = {label: statistics.median(r["cpu_s"] for r in rs) for label, rs in runs.items()}
    peak = {label: max(r["peak_mb"] for r in rs) for label, rs in runs.items()}
    floor, cpu_floor = med["orjson (plain)"], cpu["orjson (plain)"]
    naive = med.get("naive (plain)")
    print()
    print(f"mix {mix}: median of {max(len(rs) for rs in runs.values())} runs")
    print(
        f"| {'method':<25} | {'seconds':>8} | {'spread s':>11} | {'CPU s':>7} | {'peak MB':>8} "
        f"| {'x orjson floor':>14} | {'CPU x floor':>11} | {'speed-up vs naive':>17} |"
    )
    print(
        f"|{'-' * 27}|{'-' * 10}|{'-' * 13}|{'-' * 9}|{'-' * 10}|{'-' * 16}|{'-' * 13}|{'-' * 19}|"
    )
    for label, rs in runs.items():
        times = [r["seconds"] for r in rs]
        spread = f"{min(times):.2f}-{max(times):.2f}"
        speed = f"{naive / med[label]:.1f}x" if naive else "n/a"
        print(
            f"| {label:<25} | {med[label]:>8.2f} | {spread:>11} | {cpu[label]:>7.2f} "
            f"| {peak[label]:>8.0f} | {med[label] / floor:>13.2f}x "
            f"| {cpu[label] / cpu_floor:>10.2f}x | {speed:>17} |"
        )
    gk = runs["groupkit (plain)"][0]
    print()
    print(
        f"groupkit: {gk['records']:,} records, {gk['message_rows']:,} message rows, "
        f"{gk['status_rows']:,} status rows, {gk['rejects']:,} rejects"
    )
    imports = ", ".join(
        f"{IMPORTS[label.split()[0]]} {statistics.median(r['import_s'] for r in rs):.2f} s"
        for label, rs in runs.items()
        if "gzip" not in label and not label.startswith("before")
    )
    print(f"times exclude importing the library, measured apart: {imports}")
    plain_x, gzip_x = med["groupkit (plain)"] / floor, med["groupkit (gzip)"] / floor
    worst_peak = max(peak["groupkit (plain)"], peak["groupkit (gzip)"])
    checks = [
        f"plain {plain_x:.2f}x <= {PLAIN_TARGET[mix]}x: {_verdict(plain_x <= PLAIN_TARGET[mix])}",
        f"gzip {gzip_x:.2f}x <= {GZIP_TARGET}x: {_verdict(gzip_x <= GZIP_TARGET)}",
        f"peak {worst_peak:,.0f} MB <= {PEAK_TARGET_MB:,} MB: "
        f"{_verdict(worst_peak <= PEAK_TARGET_MB)}",
    ]
    if naive:
        # The naive script reads the plain file; so is groupkit's plain row judged. The
        # gzip row is shown against it too (a naive script would have to decompress).
        plain_speed = naive / med["groupkit (plain)"]
        gzip_speed = naive / med["groupkit (gzip)"]
        checks.append(
            f"vs naive plain {plain_speed:.1f}x >= {NAIVE_TARGET:.0f}x: "
            f"{_verdict(plain_speed >= NAIVE_TARGET)} (gzip {gzip_speed:.1f}x)"
        )
    print("targets: " + "; ".join(checks))


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--mix", nargs="+", choices=list(PLAIN_TARGET), default=list(PLAIN_TARGET),
                    help="the archive mixes to measure (default: all three)")  # fmt: skip
    ap.add_argument("--skip-naive", action="store_true", help="skip the slow naive baseline")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each method (median shown)")
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
    for mix in args.mix:
        print_table(mix, measure_mix(mix, args))
        print()


if __name__ == "__main__":
    main()
