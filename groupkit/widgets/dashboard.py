"""``groupkit dashboard PATH``: the Explorer as a web app on localhost, served by Voila.

Voila runs a notebook in a kernel and shows only its widgets, live: the Explorer's
controls keep talking to Python, so nothing is re-implemented in JavaScript. The
notebook is written at start-up into a temporary folder (rather than shipped as package
data), so the test suite's ``--nbval`` never mistakes it for a notebook to check.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from groupkit._cli_common import EPILOG, InputError, MissingExtraError, has_module

__all__ = ["ARCHIVE_VARIABLE", "command", "dashboard_notebook", "voila_command"]

ARCHIVE_VARIABLE = "GROUPKIT_DASHBOARD_ARCHIVE"

_CELLS = [
    "import os\n\nimport groupkit\nfrom groupkit.widgets import Explorer",
    f"archive = groupkit.read_webhooks(os.environ[{ARCHIVE_VARIABLE!r}])\nExplorer(archive)",
]


def dashboard_notebook(folder: str | os.PathLike[str]) -> Path:
    """Write the dashboard notebook (read the archive, show an Explorer) into ``folder``.

    Parameters
    ----------
    folder
        An existing directory.

    Returns
    -------
    pathlib.Path
        The notebook's path.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> notebook = nbformat.read(dashboard_notebook(tempfile.mkdtemp()), as_version=4)
    >>> notebook.cells[1].source.splitlines()[-1]
    'Explorer(archive)'
    """
    import nbformat

    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in _CELLS],
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
    )
    path = Path(folder) / "groupkit-dashboard.ipynb"
    nbformat.write(notebook, path)
    return path


def voila_command(notebook: str | os.PathLike[str], port: int) -> list[str]:
    """The command line that serves ``notebook`` with Voila on ``127.0.0.1:port`` only.

    Examples
    --------
    >>> voila_command("d.ipynb", 8866)[3:6]
    ['d.ipynb', '--port=8866', '--Voila.ip=127.0.0.1']
    """
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        # Fail rather than move to another port than the one the URL we print names.
        "--Voila.port_retries=0",
        "--no-browser",
        "--strip_sources=True",
        "--show_tracebacks=True",
    ]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@click.command("dashboard", epilog=EPILOG)
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="0 picks a free port.",
)
def command(path: Path, port: int) -> None:
    """Serve the Explorer for the webhook archive at PATH on http://127.0.0.1 (Voila).

    PATH is anything `groupkit.read_webhooks` reads: a file, a folder or a glob.
    Stop with Ctrl-C.
    """
    if not has_module("voila"):
        raise MissingExtraError("the dashboard needs Voila: pip install 'groupkit[dashboard]'")
    if not path.exists() and not glob.glob(str(path), recursive=True):
        raise InputError(
            f"no such file or directory: {path}; give a webhook file, a folder or a glob"
        )
    port = port or _free_port()
    folder = tempfile.mkdtemp(prefix="groupkit-dashboard-")
    try:
        notebook = dashboard_notebook(folder)
        env = {**os.environ, ARCHIVE_VARIABLE: str(path.resolve())}
        click.echo(f"groupkit dashboard for {path} at http://127.0.0.1:{port}/", err=False)
        process = subprocess.Popen(voila_command(notebook, port), env=env, cwd=folder)
        # Stop Voila (and so its kernel) with us, whether by Ctrl-C or by a TERM signal.
        signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            code = process.wait(timeout=30)
        if code in (-signal.SIGTERM, -signal.SIGINT):
            code = 0
        if code:
            raise click.ClickException(f"Voila stopped with exit code {code}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
