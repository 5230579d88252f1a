"""Progress bars for long work: files and bytes done, only where someone is watching.

Loading, caching and reporting share one bar.  By default (``progress=None``) a bar is
shown only when the work is large *and* a person can see it: in a Jupyter kernel, or
on a terminal.  Captured output (pytest, a script piped to a file, CI) never gets one
by accident; ``progress=True`` forces it and ``progress=False`` turns it off.

Examples
--------
>>> from groupkit import progress
>>> with progress.bar([10, 20], progress=False) as done:
...     done.update(10)
...     done.update(20)
>>> done.files_done, done.bytes_done
(2, 30)
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

__all__ = ["MIN_BYTES", "FileBar", "bar", "interactive", "wanted"]

# Show a bar on its own only for work this large (about a second of parsing).
MIN_BYTES = 64 << 20


def interactive() -> bool:
    """True in a running Jupyter kernel or when stderr is a terminal.

    Importing ``ipykernel`` is not enough (test runners import it to run notebooks):
    the kernel must be the one running this code.

    Examples
    --------
    >>> interactive()  # doctest output is captured, so nobody is watching
    False
    """
    kernel = sys.modules.get("ipykernel")
    if kernel is not None:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover - ipykernel always brings IPython
            shell = None
        if shell is not None and getattr(shell, "kernel", None) is not None:
            return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def wanted(progress: bool | None, total_bytes: int) -> bool:
    """Whether to show a bar: forced, refused, or large work someone can see.

    Examples
    --------
    >>> wanted(True, 0), wanted(False, 10**12), wanted(None, 10)
    (True, False, False)
    """
    if progress is not None:
        return bool(progress)
    return total_bytes >= MIN_BYTES and interactive()


class FileBar:
    """Counts files and bytes done over files processed in order; draws a bar if asked.

    Work is reported in bytes, in the order the files were given (the loader finishes
    its units of work first-in first-out), so a file is done once the bytes of it and
    of every file before it are done.
    """

    def __init__(self, sizes: Sequence[int], tqdm_bar: Any | None = None) -> None:
        self._ends = list(accumulate(int(s) for s in sizes))
        self.files = len(self._ends)
        self.total = self._ends[-1] if self._ends else 0
        self.bytes_done = 0
        self.files_done = 0
        self._bar = tqdm_bar
        self._show_files()

    def update(self, nbytes: int) -> None:
        """Record ``nbytes`` more bytes done (files complete as their bytes do)."""
        self.bytes_done += int(nbytes)
        files_done = bisect_right(self._ends, self.bytes_done)
        changed = files_done != self.files_done
        self.files_done = files_done
        if self._bar is not None:
            if changed:
                self._show_files(refresh=False)
            self._bar.update(int(nbytes))

    def describe(self, text: str) -> None:
        """Change what the bar says it is doing (e.g. ``"writing cache"``)."""
        if self._bar is not None:
            self._bar.set_description_str(text)

    def close(self) -> None:
        """Draw the final count once (fast work may never have been drawn), then close
        the bar; it disappears (``leave=False``)."""
        if self._bar is not None:
            self._show_files(refresh=False)
            self._bar.refresh()
            self._bar.close()

    def _show_files(self, refresh: bool = True) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(f"{self.files_done}/{self.files} files", refresh=refresh)

    def __enter__(self) -> FileBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bar(
    sizes: Sequence[int], *, progress: bool | None = None, desc: str = "reading webhooks"
) -> FileBar:
    """A files-and-bytes progress counter over files of ``sizes`` bytes.

    Parameters
    ----------
    sizes
        Bytes of each file, in the order their work completes.
    progress
        ``True`` draws a bar, ``False`` never does, ``None`` draws one only for work
        of at least :data:`MIN_BYTES` that someone can see (see :func:`interactive`).
    desc
        What the bar says it is doing.

    Returns
    -------
    FileBar
        Call ``update(nbytes)`` as work finishes and ``close()`` at the end (or use it
        as a context manager).  Without a bar it still counts, at no cost.

    Examples
    --------
    >>> counter = bar([5, 0, 7], progress=False)
    >>> counter.update(5)
    >>> counter.files_done  # the empty second file is done as soon as the first is
    2
    """
    sizes = list(sizes)
    tqdm_bar = None
    if wanted(progress, sum(sizes)):
        # tqdm.auto: a widget in notebooks, a text bar on terminals.
        from tqdm.auto import tqdm

        tqdm_bar = tqdm(
            total=sum(sizes), unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False
        )
    return FileBar(sizes, tqdm_bar)
