"""The receiver's secrets: from the environment or a file, never from the command line.

``ps`` shows every process's arguments to every user of the machine, so the app
secret and the verify token are read from ``GROUPKIT_APP_SECRET`` and
``GROUPKIT_VERIFY_TOKEN`` (and 360dialog's platform secret from
``GROUPKIT_360DIALOG_SECRET``), or from a file of ``NAME=value`` lines. A secret is
held in a :class:`Secret`, whose repr and str never show it, and no error message
quotes one.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from groupkit._secrets import check_secret
from groupkit.exceptions import ReceiverError
from groupkit.signatures import secret_bytes

__all__ = ["ENV_NAMES", "ReceiverError", "ReceiverSecrets", "Secret", "load_secrets"]

# field of ReceiverSecrets -> the variable (or file line) it comes from
ENV_NAMES = {
    "app_secret": "GROUPKIT_APP_SECRET",
    "verify_token": "GROUPKIT_VERIFY_TOKEN",
    "d360_secret": "GROUPKIT_360DIALOG_SECRET",
}


class Secret:
    """A credential that no repr, str, log record or pickle shows.

    Parameters
    ----------
    value
        The secret. One holding a control character (a trailing newline, NUL, tab...)
        or beginning or ending with whitespace is refused with a
        :class:`~groupkit.exceptions.SecretError` that does not quote it.
    what
        How an error names it, e.g. ``"GROUPKIT_APP_SECRET"``.

    Examples
    --------
    >>> token = Secret("s3cr3t")
    >>> token, str(token), f"{token}"
    (<secret>, '<secret>', '<secret>')
    >>> token.matches("s3cr3t"), token.matches("guess")
    (True, False)
    """

    __slots__ = ("_value",)

    def __init__(self, value: str, what: str = "the secret") -> None:
        self._value = check_secret(value, what)

    def reveal(self) -> bytes:
        """The secret's bytes (UTF-8, or as the OS gave them), for the HMAC and nothing else."""
        return secret_bytes(self._value)

    def matches(self, candidate: str) -> bool:
        """Whether ``candidate`` equals the secret, compared in constant time."""
        return hmac.compare_digest(secret_bytes(candidate), self.reveal())

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "<secret>"

    def __reduce__(self) -> Any:
        raise TypeError("secrets are not picklable")


@dataclasses.dataclass(frozen=True)
class ReceiverSecrets:
    """What the receiver checks requests with; any may be absent.

    Attributes
    ----------
    app_secret
        Meta's app secret: POSTs must carry a valid ``X-Hub-Signature-256``.
    verify_token
        The token Meta's subscription handshake (``GET ?hub.verify_token=``) must present.
    d360_secret
        360dialog's platform secret: a valid ``x-360dialog-signature`` is accepted too.

    Examples
    --------
    >>> ReceiverSecrets(app_secret=Secret("x"))
    ReceiverSecrets(app_secret=<secret>, verify_token=None, d360_secret=None)
    """

    app_secret: Secret | None = None
    verify_token: Secret | None = None
    d360_secret: Secret | None = None

    @property
    def signs(self) -> bool:
        """Whether any signature secret is configured."""
        return self.app_secret is not None or self.d360_secret is not None


def _read_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReceiverError(f"secrets file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ReceiverError(f"cannot read secrets file {path}: {why}") from None
    known = set(ENV_NAMES.values())
    values: dict[str, str] = {}
    # Lines end at "\n" (and a "\r" before it) only: str.splitlines() would also cut a
    # value at "\x0c", "\x1e", "\x85" or "\u2028", which a secret may hold.
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.removesuffix("\r")
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = raw.partition("=")
        name = name.strip().removeprefix("export ").strip()
        # The message names the line and the variable, never the value.
        if not sep:
            raise ReceiverError(f"{path}:{number}: expected NAME=value")
        if name not in known:
            raise ReceiverError(
                f"{path}:{number}: not a name groupkit knows; use {', '.join(sorted(known))}"
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def load_secrets(
    file: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> ReceiverSecrets:
    """Read the receiver's secrets from the environment, then from ``file`` if given.

    Parameters
    ----------
    file
        A file of ``NAME=value`` lines (``#`` comments and blank lines allowed; one pair
        of surrounding quotes is removed) naming any of ``GROUPKIT_APP_SECRET``,
        ``GROUPKIT_VERIFY_TOKEN`` and ``GROUPKIT_360DIALOG_SECRET``. What it names wins
        over the environment. Keep it readable by the receiver's user only.
    environ
        The environment to read (default ``os.environ``).

    Returns
    -------
    ReceiverSecrets

    Raises
    ------
    ReceiverError
        The file is missing, unreadable, or has a line that is not a known ``NAME=value``.
    SecretError
        A secret holds a control character or begins or ends with whitespace (the
        message names the variable, never the value).

    Examples
    --------
    >>> secrets = load_secrets(environ={"GROUPKIT_APP_SECRET": "abc"})
    >>> secrets.app_secret, secrets.verify_token
    (<secret>, None)
    """
    environ = os.environ if environ is None else environ
    values = {name: environ[name] for name in ENV_NAMES.values() if environ.get(name)}
    if file is not None:
        values.update(_read_file(Path(file)))
    return ReceiverSecrets(
        **{
            field: Secret(values[name], name)
            for field, name in ENV_NAMES.items()
            if values.get(name)
        }
    )
