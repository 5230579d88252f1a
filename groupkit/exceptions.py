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


class SecretError(GroupkitError, ValueError):
    """A key, token or secret cannot be used as given; the message never quotes it.

    Raised when a client, the sandbox or the receiver is built with a credential that
    holds a control character (NUL, newline, tab, DEL, any C0 or C1 control, a line or
    paragraph separator) or begins or ends with whitespace — what reading a key from a
    file usually leaves behind. groupkit rejects rather than strips: a silently changed
    key would fail later, far from its cause. The message says which credential and
    what to do (for example "strip the trailing newline"), never its characters.

    Examples
    --------
    >>> err = SecretError("the API key", "ends with a newline; strip the trailing newline")
    >>> isinstance(err, ValueError), str(err)
    (True, 'the API key ends with a newline; strip the trailing newline')
    """

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        super().__init__(f"{what} {problem}")
