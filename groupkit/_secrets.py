"""One rule for every credential groupkit is given: API keys, access tokens, app secrets.

A key read from a file usually ends with a newline; as an HTTP header it makes httpx
raise an error that quotes it (and httpcore logs that error), and as an HMAC key it signs
with a byte the sender does not. So a credential holding a control character, or
beginning or ending with whitespace, is refused when the client, the sandbox or the
receiver is built, with a :class:`~groupkit.exceptions.SecretError` that names the
credential and the fix but never a character of it.
"""

from __future__ import annotations

import unicodedata

from groupkit.exceptions import SecretError

__all__ = ["check_secret"]

# Unicode categories that must not occur anywhere in a credential: controls (C0, DEL,
# C1 — NUL, tab, newline and carriage return among them) and line/paragraph separators.
_FORBIDDEN = frozenset({"Cc", "Zl", "Zp"})
_NAMED = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}


def check_secret(value: object, what: str, *, header: bool = False) -> str:
    """Return ``value`` if it can serve as the credential ``what``; raise otherwise.

    Parameters
    ----------
    value
        The credential.
    what
        How to name it in the error, e.g. ``"the API key"``.
    header
        It travels in an HTTP header, so it must also be printable ASCII.

    Returns
    -------
    str
        ``value``, unchanged.

    Raises
    ------
    SecretError
        ``value`` is not a non-empty string, holds a control character or a line
        separator, begins or ends with whitespace, or (``header``) is not ASCII. The
        message never shows the value, nor which character offended beyond its kind.

    Examples
    --------
    >>> check_secret("D360-KEY-abc", "the API key", header=True)
    'D360-KEY-abc'
    >>> try:
    ...     check_secret("D360-KEY-abc\\n", "the API key")
    ... except SecretError as err:
    ...     print(err)
    the API key ends with a newline; strip the trailing newline (e.g. read it with .strip())
    """
    if not isinstance(value, str) or not value:
        raise SecretError(what, "must be a non-empty string")
    if value != value.strip():
        trailing = value[-1].isspace()
        kind = _NAMED.get(value[-1] if trailing else value[0], "whitespace")
        noun = kind.removeprefix("a ")
        raise SecretError(
            what,
            f"{'ends' if trailing else 'begins'} with {kind}; strip the "
            f"{'trailing' if trailing else 'leading'} {noun} (e.g. read it with .strip())",
        )
    if any(unicodedata.category(ch) in _FORBIDDEN for ch in value):
        raise SecretError(
            what,
            "holds a control character (such as NUL, a newline, a tab or DEL) or a line "
            "separator; no credential does: check how it was read or pasted",
        )
    if header and not value.isascii():
        raise SecretError(what, "holds a character that is not ASCII; HTTP headers cannot carry it")
    return value
