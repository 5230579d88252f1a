"""Webhook signatures: Meta's ``X-Hub-Signature-256`` and 360dialog's ``x-360dialog-signature``.

Both are an HMAC-SHA256 of the raw request body, hex-encoded: Meta's with the app
secret, sent as ``sha256=<hex>``; 360dialog's with the partner platform secret, seen
both bare and with the ``sha256=`` prefix, so both are accepted. The sandbox signs
with :func:`sign`; ``groupkit receive`` checks with :func:`verify`, in constant time.

Examples
--------
>>> header = sign(b'{"entry": []}', "app-secret")
>>> header.startswith("sha256="), verify(b'{"entry": []}', header, "app-secret")
(True, True)
>>> verify(b'{"entry": [1]}', header, "app-secret")
False
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["D360_HEADER", "META_HEADER", "secret_bytes", "sign", "verify"]

META_HEADER = "X-Hub-Signature-256"
D360_HEADER = "x-360dialog-signature"

_PREFIX = "sha256="


def secret_bytes(secret: str | bytes) -> bytes:
    """The HMAC key a secret stands for: its UTF-8 bytes, or the bytes the OS gave.

    Python decodes an environment variable that is not UTF-8 with the
    ``surrogateescape`` handler, so ``\\xff`` in the environment arrives as
    ``"\\udcff"``; encoding it back the same way gives the byte the sender signs
    with. Any other lone surrogate is kept as its UTF-8-style bytes rather than
    refused, so no secret makes signing raise (and so no error quotes one).

    Parameters
    ----------
    secret
        The secret as text (from the environment or a file), or already as bytes.

    Returns
    -------
    bytes

    Examples
    --------
    >>> secret_bytes("clé"), secret_bytes("\\udcff"), secret_bytes(b"raw")
    (b'cl\\xc3\\xa9', b'\\xff', b'raw')
    """
    if isinstance(secret, bytes):
        return secret
    try:
        return secret.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return secret.encode("utf-8", "surrogatepass")


def sign(body: bytes, secret: str | bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC-SHA256>``.

    Parameters
    ----------
    body
        The raw request body, exactly as sent.
    secret
        Meta's app secret (or 360dialog's platform secret).

    Returns
    -------
    str
        ``sha256=`` and 64 lower-case hex digits.

    Examples
    --------
    >>> sign(b"{}", "secret")
    'sha256=77325902caca812dc259733aacd046b73817372c777b8d95b402647474516e13'
    """
    return _PREFIX + hmac.new(secret_bytes(secret), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str | bytes) -> bool:
    """Whether ``header`` is a valid signature of ``body`` with ``secret``.

    The comparison takes the same time wherever the first wrong digit is
    (:func:`hmac.compare_digest`). A missing header, another algorithm, or a value
    that is not 64 hex digits is simply not valid.

    Parameters
    ----------
    body
        The raw request body, exactly as received (never re-serialised).
    header
        The header's value: ``sha256=<hex>`` or bare ``<hex>``, or None when absent.
    secret
        The secret the sender signs with.

    Returns
    -------
    bool

    Examples
    --------
    >>> good = sign(b"{}", "secret")
    >>> verify(b"{}", good, "secret"), verify(b"{}", good[7:].upper(), "secret")
    (True, True)
    >>> verify(b"{}", None, "secret"), verify(b"{}", "sha1=abc", "secret")
    (False, False)
    """
    if not header:
        return False
    value = header.strip()
    if value[: len(_PREFIX)].lower() == _PREFIX:
        value = value[len(_PREFIX) :]
    expected = hmac.new(secret_bytes(secret), body, hashlib.sha256).hexdigest()
    given = value.lower().encode("ascii", "replace")
    return hmac.compare_digest(given, expected.encode("ascii"))
