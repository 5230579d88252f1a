"""``groupkit receive``: capture live webhooks into an archive, durably.

The secrets come from the environment or ``--secrets-file``, never from an option:
``ps`` shows every command line to every user of the machine.

Examples
--------
>>> from click.testing import CliRunner
>>> "--secrets-file" in CliRunner().invoke(command, ["--help"]).output
True
"""

from __future__ import annotations

import logging
import os
import stat
from typing import Any

import click

from groupkit.exceptions import GroupkitError

_DEFAULT_MAX_BODY = 4 << 20  # as groupkit.receiver.DEFAULT_MAX_BODY (not imported: extra)


def _refuse_secret(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None:
        # Say nothing of the value: it is a secret, now in the shell's history.
        raise click.UsageError(
            f"{param.opts[0]} is not accepted: a command line is visible to every user "
            "(ps); set GROUPKIT_APP_SECRET, GROUPKIT_VERIFY_TOKEN or GROUPKIT_360DIALOG_SECRET "
            "in the environment, or name a --secrets-file"
        )


def _secret_trap(name: str) -> Any:
    return click.option(
        name, hidden=True, expose_value=False, callback=_refuse_secret, is_eager=True
    )


@click.command("receive")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to archive the webhooks in (created if missing).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--secrets-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="File of NAME=value lines (GROUPKIT_APP_SECRET, GROUPKIT_VERIFY_TOKEN, "
    "GROUPKIT_360DIALOG_SECRET); without it, the environment.",
)
@click.option(
    "--max-body",
    type=click.IntRange(1),
    default=_DEFAULT_MAX_BODY,
    show_default=True,
    help="Largest body accepted, in bytes (Meta sends up to 3 MB).",
)
@click.option(
    "--rotate-mb",
    type=click.FloatRange(0.001),
    default=64.0,
    show_default=True,
    help="Start a new file at this size (and every hour, UTC); closed files are gzipped.",
)
@click.option(
    "--drain-seconds",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="On SIGTERM or Ctrl-C, how long requests in flight may take to finish.",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Accept POSTs without a signature (for senders that cannot sign).",
)
@_secret_trap("--app-secret")
@_secret_trap("--verify-token")
@_secret_trap("--360dialog-secret")
def command(
    out: str,
    host: str,
    port: int,
    secrets_file: str | None,
    max_body: int,
    rotate_mb: float,
    drain_seconds: float,
    allow_unsigned: bool,
) -> None:
    """Receive WhatsApp webhooks on HOST:PORT and archive them in OUT.

    Answers Meta's subscription handshake (GET, with GROUPKIT_VERIFY_TOKEN), checks
    every POST's X-Hub-Signature-256 (GROUPKIT_APP_SECRET; 360dialog's
    x-360dialog-signature with GROUPKIT_360DIALOG_SECRET), and answers 200 only once
    the raw body is on disk. /healthz and /metrics report on it. SIGTERM drains.
    """
    try:
        from groupkit import receiver as _receiver
        from groupkit.receiver import server
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
    if secrets_file is not None:
        _warn_if_shared(secrets_file)
    try:
        secrets = _receiver.load_secrets(secrets_file)
    except GroupkitError as exc:
        raise click.ClickException(str(exc)) from None
    if not secrets.signs and not allow_unsigned:
        raise click.ClickException(
            "no signature secret: set GROUPKIT_APP_SECRET (Meta's app secret) or "
            "GROUPKIT_360DIALOG_SECRET, or name a --secrets-file; --allow-unsigned accepts "
            "POSTs nobody signed"
        )
    if secrets.verify_token is None:
        click.echo(
            "groupkit receive: no GROUPKIT_VERIFY_TOKEN: Meta's subscription handshake will "
            "be refused (403)",
            err=True,
        )
    if not secrets.signs and allow_unsigned:
        click.echo("groupkit receive: accepting unsigned POSTs (--allow-unsigned)", err=True)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    def ready(receiver: Any) -> None:
        click.echo(f"groupkit receive: listening on {receiver.url} (POST / or /webhook)")
        click.echo(f"archive: {os.path.abspath(out)}  (quarantine: .quarantine/ inside)")
        click.echo("health: /healthz  metrics: /metrics  stop: SIGTERM or Ctrl-C (drains)")

    try:
        receiver = server.run_until_signal(
            out,
            host=host,
            port=port,
            drain_seconds=drain_seconds,
            on_ready=ready,
            secrets=secrets,
            max_body=max_body,
            rotate_bytes=int(rotate_mb * (1 << 20)),
            allow_unsigned=allow_unsigned,
        )
    except GroupkitError as exc:  # the directory is taken, the port is in use, ...
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise click.ClickException(f"could not use{where}: {exc.strerror or exc}") from None
    counts = receiver.metrics.snapshot()
    click.echo(
        f"groupkit receive: stopped; {counts['accepted']:,} accepted, "
        f"{counts['rejected_signature']:,} refused (signature), "
        f"{counts['quarantined']:,} quarantined"
    )


def _warn_if_shared(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # load_secrets says what is wrong with it
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        click.echo(f"groupkit receive: {path} can be read by other users; chmod 600 it", err=True)
