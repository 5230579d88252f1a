"""``groupkit sandbox``: run the local Groups API until interrupted.

Examples
--------
>>> from click.testing import CliRunner
>>> "--archive" in CliRunner().invoke(command, ["--help"]).output
True
"""

from __future__ import annotations

import os
import threading
from typing import Any

import click

from groupkit.sandbox.server import serve


@click.command("sandbox")
@click.option("--port", type=int, default=8088, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--archive",
    type=click.Path(file_okay=False),
    required=True,
    help="Directory to append the emitted webhooks to.",
)
@click.option("--webhook-url", default=None, help="Also POST every webhook to this URL.")
@click.option(
    "--app-secret",
    default=None,
    envvar=["GROUPKIT_SANDBOX_APP_SECRET", "GROUPKIT_APP_SECRET"],
    help="Sign webhook POSTs with X-Hub-Signature-256 (or set GROUPKIT_SANDBOX_APP_SECRET, "
    "or GROUPKIT_APP_SECRET as for groupkit receive).",
)
@click.option(
    "--api-key",
    default=None,
    envvar="D360_API_KEY",
    help="Key to accept (default: D360_API_KEY, else a random sandbox key that is printed).",
)
@click.option("--groups", type=int, default=3, show_default=True, help="Groups to start with.")
@click.option("--seed", type=int, default=None, help="Seed for reproducible runs.")
@click.option(
    "--time-scale",
    type=float,
    default=0.01,
    show_default=True,
    help="Wall seconds per simulated second for webhook emission.",
)
@click.option("--rate-limit", type=int, default=None, help="Requests per second before 429.")
def command(archive: str, api_key: str | None, **options: Any) -> None:
    """Run a local WhatsApp Groups API that writes realistic webhooks to ARCHIVE."""
    # Every option is named as serve() names it, so the rest pass straight through.
    stop = threading.Event()
    with serve(archive=archive, api_key=api_key, **options) as sandbox:
        click.echo(f"groupkit sandbox listening on {sandbox.url}")
        click.echo(f"archive: {os.path.abspath(archive)}")
        if api_key is None:
            # A throwaway key for this sandbox only; printing it is how the user learns it.
            click.echo(f"sandbox API key: {sandbox.api_key}")
        else:
            click.echo("API key: the one you gave (not shown)")
        for group_id in sandbox.group_ids:
            click.echo(f"group {group_id}: {len(sandbox.participants(group_id))} participants")
        click.echo("Ctrl-C to stop.")
        try:
            stop.wait()
        except KeyboardInterrupt:
            click.echo("stopping")
