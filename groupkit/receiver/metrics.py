"""The receiver's counters, served at ``/metrics`` in Prometheus' text format.

Examples
--------
>>> metrics = Metrics()
>>> metrics.add("accepted")
>>> metrics.observe_fsync(0.0004, lines=3)
>>> snap = metrics.snapshot()
>>> snap["accepted"], snap["fsyncs"], snap["lines_synced"]
(1, 1, 3)
>>> "groupkit_receiver_accepted_total 1" in metrics.prometheus()
True
"""

from __future__ import annotations

import threading
import time

__all__ = ["Metrics"]

# name -> help text; each is a counter (``..._total`` in the Prometheus output)
COUNTERS = {
    "accepted": "POSTs archived durably and answered 200.",
    "rejected_signature_missing": "POSTs answered 401: no signature header.",
    "rejected_signature_bad": "POSTs answered 401: the signature does not match the body.",
    "too_large": "POSTs answered 413: the body is over the size limit.",
    "quarantined": "POSTs whose body is not a JSON object, kept in the quarantine (400).",
    "unavailable": "POSTs answered 503: the archive could not be written.",
    "bytes_accepted": "Bytes of accepted bodies.",
    "bytes_written": "Bytes appended to the archive files.",
    "fsyncs": "Syncs of an archive file; each covers one or more POSTs (group commit).",
    "lines_synced": "Archive lines made durable by those syncs.",
    "write_errors": "Failed writes or syncs of an archive file.",
    "files_opened": "Archive files started.",
    "files_closed": "Archive files closed and compressed.",
    "torn_tails_recovered": "Unacknowledged partial lines a killed receiver left, quarantined.",
    "handshakes_ok": "Subscription handshakes answered with the challenge.",
    "handshakes_refused": "Subscription handshakes refused (403).",
}

# name -> help text; each is a gauge (a level now, not a count)
GAUGES = {
    "posts_in_flight": "POSTs being read, checked or written now.",
}

# Upper bounds of the fsync latency histogram, in seconds.
FSYNC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Thread-safe counters and the fsync latency histogram.

    Examples
    --------
    >>> metrics = Metrics()
    >>> metrics.add("rejected_signature_bad", 2)
    >>> metrics.snapshot()["rejected_signature"]
    2
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys([*COUNTERS, *GAUGES], 0)
        self._buckets = [0] * (len(FSYNC_BUCKETS) + 1)
        self._fsync_seconds = 0.0
        self._fsync_max = 0.0
        self.started = time.time()

    def __repr__(self) -> str:
        snap = self.snapshot()
        return f"Metrics(accepted={snap['accepted']}, fsyncs={snap['fsyncs']})"

    def add(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter or gauge ``name`` (``COUNTERS``, ``GAUGES``)."""
        with self._lock:
            self._counts[name] += amount

    def observe_fsync(self, seconds: float, lines: int) -> None:
        """Record one sync of ``lines`` lines that took ``seconds``."""
        index = next((i for i, b in enumerate(FSYNC_BUCKETS) if seconds <= b), len(FSYNC_BUCKETS))
        with self._lock:
            self._counts["fsyncs"] += 1
            self._counts["lines_synced"] += lines
            self._buckets[index] += 1
            self._fsync_seconds += seconds
            self._fsync_max = max(self._fsync_max, seconds)

    def snapshot(self) -> dict[str, float]:
        """Every counter now, plus ``fsync_seconds_sum`` and ``fsync_seconds_max``."""
        with self._lock:
            out: dict[str, float] = dict(self._counts)
            out["fsync_seconds_sum"] = self._fsync_seconds
            out["fsync_seconds_max"] = self._fsync_max
        out["rejected_signature"] = (
            out["rejected_signature_missing"] + out["rejected_signature_bad"]
        )
        return out

    def prometheus(self) -> str:
        """The counters in Prometheus' text exposition format."""
        with self._lock:
            counts = dict(self._counts)
            buckets = list(self._buckets)
            total_seconds = self._fsync_seconds
        lines = []
        for name, help_text in COUNTERS.items():
            metric = f"groupkit_receiver_{name}_total"
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} counter"]
            lines.append(f"{metric} {counts[name]}")
        for name, help_text in GAUGES.items():
            metric = f"groupkit_receiver_{name}"
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
            lines.append(f"{metric} {counts[name]}")
        metric = "groupkit_receiver_fsync_seconds"
        lines += [f"# HELP {metric} Time one archive sync took.", f"# TYPE {metric} histogram"]
        running = 0
        for bound, count in zip((*FSYNC_BUCKETS, float("inf")), buckets, strict=True):
            running += count
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            lines.append(f'{metric}_bucket{{le="{le}"}} {running}')
        lines += [f"{metric}_sum {total_seconds:.6f}", f"{metric}_count {running}"]
        return "\n".join(lines) + "\n"
