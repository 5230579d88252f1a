"""What the commands share: errors a user can fix, checks of where output goes, loading.

A mistake at the command line (a path that does not exist, an output folder that
cannot be written, an input with no webhook in it) is one line on stderr, in
groupkit's words, with an exit status that says which kind of mistake it was
(:data:`EXIT_CODES`), never a traceback.  Output locations are checked before any
work starts, and files are written atomically, so a failed run leaves nothing half
written.

Examples
--------
>>> EXIT_CODES["no webhooks"]
4
>>> str(NoWebhooksError("no webhook in empty/"))
'no webhook in empty/'
"""

from __future__ import annotations

import errno
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

__all__ = [
    "EXIT_CODES",
    "InputError",
    "MissingExtraError",
    "NoWebhooksError",
    "OutputError",
    "atomic_path",
    "check_output_dir",
    "check_output_file",
    "has_module",
    "read_archive",
]

# The exit status of each kind of mistake (click itself uses 2 for a bad option).
EXIT_CODES = {
    "failed": 1,
    "usage": 2,
    "input": 3,
    "no webhooks": 4,
    "output": 5,
    "missing extra": 6,
}

EPILOG = (
    "Exit status: 0 done; 2 a bad option or argument; 3 an input that cannot be read "
    "(missing path, empty glob, no permission, a bad record with --on-error raise); "
    "4 an input with no webhook in it; 5 an output location that cannot be written; "
    "6 an optional extra that is not installed; "
    "1 anything else."
)


class InputError(click.ClickException):
    """The input cannot be read: a missing path, a glob that matches nothing."""

    exit_code = EXIT_CODES["input"]


class NoWebhooksError(click.ClickException):
    """The input was read but holds no webhook."""

    exit_code = EXIT_CODES["no webhooks"]


class OutputError(click.ClickException):
    """The output location cannot be written."""

    exit_code = EXIT_CODES["output"]


class MissingExtraError(click.ClickException):
    """An optional extra the command needs is not installed."""

    exit_code = EXIT_CODES["missing extra"]


def has_module(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it (some extras are slow to load).

    Examples
    --------
    >>> has_module("click"), has_module("no_such_module_here")
    (True, False)
    """
    if name in sys.modules:
        return sys.modules[name] is not None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# Why a folder refused a new file, in words (ENOENT in an existing folder: /proc, /sys).
_WHY_NOT_WRITABLE = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "a read-only file system",
    errno.ENOENT: "it does not accept new files",
    errno.ENOSPC: "no space left",
}


def _try_write_in(folder: Path, what: str, target: Path) -> None:
    """Create and delete a file in ``folder``: the one check that also holds for root
    (who passes every permission test) on read-only mounts and in /proc."""
    try:
        handle, probe = tempfile.mkstemp(prefix=".groupkit-", suffix=".probe", dir=folder)
    except OSError as exc:
        reason = _WHY_NOT_WRITABLE.get(exc.errno, (exc.strerror or type(exc).__name__).lower())
        raise OutputError(
            f"{what} {target}: cannot write in {folder} ({reason}); "
            "choose a folder you can write to"
        ) from None
    os.close(handle)
    os.unlink(probe)


def check_output_file(path: str | os.PathLike[str], what: str = "-o") -> Path:
    """Check, before any work, that a file can be written at ``path``.

    Parameters
    ----------
    path
        The file to write (it may exist; it is replaced).
    what
        How the user named it (the option), for the message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputError
        ``path`` is a folder, its folder does not exist or cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> check_output_file(f"{folder}/report.html").name
    'report.html'
    >>> check_output_file(f"{folder}/missing/report.html")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    groupkit._cli_common.OutputError: -o ...: the folder ... does not exist; create it first ...
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(
            f"{what} {path}: is a folder; give a file name, e.g. {path / 'report.html'}"
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise OutputError(
            f"{what} {path}: the folder {folder} does not exist; create it first or choose another"
        )
    if not folder.is_dir():
        raise OutputError(f"{what} {path}: {folder} is a file, not a folder")
    _try_write_in(folder, what, path)
    return path


def check_output_dir(path: str | os.PathLike[str], what: str = "--to") -> Path:
    """Check, before any work, that ``path`` is or can become a folder groupkit writes into.

    The folder is not created here (a run that then fails leaves nothing behind);
    its closest existing ancestor must be a folder that can be written.

    Examples
    --------
    >>> import tempfile
    >>> check_output_dir(f"{tempfile.mkdtemp()}/new/out").name
    'out'
    >>> check_output_dir("/proc/forbidden")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    groupkit._cli_common.OutputError: --to /proc/forbidden: cannot write in /proc (...); choose ...
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{what} {path}: is a file; give a folder")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise OutputError(f"{what} {path}: {existing} is a file, not a folder")
    _try_write_in(existing, what, path)
    return path


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it when the block succeeds.

    A reader never sees half a file, and a failed run leaves the old file (or none).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("done")
    >>> out.read_text(), sorted(p.name for p in out.parent.iterdir())
    ('done', ['a.txt'])
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _no_webhooks_message(paths: Sequence[str], report: Any) -> str:
    where = ", ".join(paths)
    if report.files_read == 0:
        skipped = len(report.skipped_files)
        found = f"no file to read ({skipped} skipped as not archives)" if skipped else "no file"
        return f"no webhook in {where}: {found}; point groupkit at webhook archives"
    parts = [f"{report.files_read:,} file{'s' if report.files_read != 1 else ''} read"]
    parts.append(f"{report.records_read:,} record{'s' if report.records_read != 1 else ''}")
    if report.rejects:
        first = report.rejects[0]
        parts.append(f"{len(report.rejects):,} rejected (first: {first.source}: {first.reason})")
    return (
        f"no webhook in {where}: {', '.join(parts)}; "
        "groupkit reads WhatsApp webhook archives (NDJSON, JSON, gzip)"
    )


def read_archive(paths: Sequence[str], **options: Any) -> Any:
    """:func:`groupkit.read_webhooks` for a command: user mistakes become one-line errors.

    Parameters
    ----------
    paths
        What the user named (files, folders, globs).
    **options
        Passed to the reader (``on_error``, ``progress``, ...); ``reader`` picks
        another reader with the same signature (the report's).

    Returns
    -------
    groupkit.Archive

    Raises
    ------
    InputError
        A path is missing, a glob matches nothing, a file cannot be read, or
        ``on_error="raise"`` met a bad record.
    NoWebhooksError
        The input was read and holds no webhook.

    Examples
    --------
    >>> import tempfile
    >>> read_archive([tempfile.mkdtemp()])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    groupkit._cli_common.NoWebhooksError: no webhook in ...: no file; point groupkit at ...
    """
    from groupkit.exceptions import ArchiveError, GroupkitError
    from groupkit.load import read_webhooks

    reader = options.pop("reader", read_webhooks)
    source: Any = list(paths) if len(paths) != 1 else paths[0]
    try:
        archive = reader(source, **options)
    except FileNotFoundError as exc:
        reason = str(exc) if exc.filename is None else f"no such file or directory: {exc.filename}"
        raise InputError(f"{reason}; give a webhook file, a folder or a glob") from None
    except PermissionError as exc:
        raise InputError(f"cannot read {exc.filename}: permission denied") from None
    except IsADirectoryError as exc:  # pragma: no cover - the loader walks folders
        raise InputError(f"cannot read {exc.filename}: is a folder") from None
    except ArchiveError as exc:
        raise InputError(f"{exc} (--on-error raise stops at the first bad record)") from None
    except GroupkitError as exc:
        raise InputError(str(exc)) from None
    if archive.report.webhooks_parsed == 0:
        raise NoWebhooksError(_no_webhooks_message([str(p) for p in paths], archive.report))
    return archive
