"""groupkit's exception hierarchy: everything groupkit raises on purpose is a ``GroupkitError``.

Examples
--------
>>> from groupkit.exceptions import ArchiveError, GroupkitError
>>> err = ArchiveError("day1.ndjson", 12, "malformed JSON: unexpected character")
>>> isinstance(err, GroupkitError), str(err)
(True, 'day1.ndjson:12: malformed JSON: unexpected character')
"""

from __future__ import annotations


class GroupkitError(Exception):
    """Base class of every error groupkit raises on purpose."""


class ArchiveError(GroupkitError, ValueError):
    """A record of a webhook archive could not be read.

    Parameters
    ----------
    path
        The file (or ``<memory>``) the record came from.
    line
        1-based line number, or the index of the record in memory or in a JSON array.
    reason
        What was wrong, in words.
    """

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {reason}")
