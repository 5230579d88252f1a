"""``groupkit summary`` and ``groupkit export``: the loader on the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from groupkit._cli_common import EPILOG, check_output_dir, read_archive
from groupkit.analytics import deliveries, group_summary, participants
from groupkit.analytics.participants import receipt_table
from groupkit.archive import Archive

_ON_ERROR = click.Choice(["collect", "raise"])


# The summary's columns: group_summary's counts, under the words the report uses.
SUMMARY_COLUMNS = {
    "group": "group",
    "messages": "messages",
    "messages_failed": "failed msgs",
    "recipients": "receipts",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "pending": "pending",
    "inbound_messages": "inbound",
}


def group_table(archive: Archive) -> pd.DataFrame:
    """Per group, the counts ``groupkit summary`` prints, with a total row.

    The counts are :func:`groupkit.group_summary`'s, so they are the report's, the
    funnel's and the dashboard's: ``messages`` sent, ``failed msgs`` (messages with
    a failed receipt), ``receipts`` (recipients of every message; a message whose
    recipients are unknown counts once), ``delivered``, ``read``, ``failed``,
    ``pending`` and ``inbound`` messages.  Busiest group first.

    Examples
    --------
    >>> import groupkit
    >>> group_table(groupkit.parse_webhooks([])).columns.tolist()[:4]
    ['group', 'messages', 'failed msgs', 'receipts']
    """
    summary = group_summary(archive)[list(SUMMARY_COLUMNS)]
    total = summary.drop(columns="group").sum().to_frame().T.astype("int64")
    total.insert(0, "group", "all groups")
    table = pd.concat([summary, total], ignore_index=True) if len(summary) else summary
    return table.rename(columns=SUMMARY_COLUMNS)


def _load(path: tuple[str, ...], on_error: str, progress: bool | None) -> Archive:
    return read_archive(path, on_error=on_error, progress=progress)


@click.command(epilog=EPILOG)
@click.argument("path", nargs=-1, required=True)
@click.option("--on-error", type=_ON_ERROR, default="collect", show_default=True)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: auto).")
def summary(path: tuple[str, ...], on_error: str, progress: bool | None) -> None:
    """Print the load report and a per-group table of PATH (files, folders, globs).

    The counts are the report's and the funnel's: receipts are the recipients of
    every message (a message whose recipients are unknown counts once), each one
    delivered, failed or pending.
    """
    archive = _load(path, on_error, progress)
    click.echo(str(archive.report))
    click.echo("")
    table = group_table(archive)
    if table.empty:
        click.echo("no group traffic found")
    else:
        click.echo(f"per group ({len(table) - 1} groups, busiest first):")
        click.echo(table.to_string(index=False))


@click.command(epilog=EPILOG)
@click.argument("path", nargs=-1, required=True)
@click.option("--to", "out", required=True, type=click.Path(path_type=Path))
@click.option("--on-error", type=_ON_ERROR, default="collect", show_default=True)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: auto).")
def export(path: tuple[str, ...], out: Path, on_error: str, progress: bool | None) -> None:
    """Write every frame of PATH as Parquet into --to DIR (plus rejects and the report).

    Also two CSV files a spreadsheet opens: participants.csv (groupkit.participants:
    per group and participant, what they got, read and said) and receipts.csv (every
    recipient of every business message with its state: read, delivered, pending,
    left or failed -- groupkit.message_receipts for all messages).
    """
    check_output_dir(out, "--to")
    archive = _load(path, on_error, progress)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in archive.frames().items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    archive.report.rejects_frame().to_parquet(out / "rejects.parquet", index=False)
    (out / "load_report.txt").write_text(str(archive.report) + "\n", encoding="utf-8")
    lifecycle = deliveries(archive)
    tables = {
        "participants.csv": participants(archive, frame=lifecycle),
        "receipts.csv": receipt_table(archive, lifecycle),
    }
    for name, table in tables.items():
        table.to_csv(out / name, index=False)
    for name, frame in archive.frames().items():
        click.echo(f"{out / (name + '.parquet')}: {len(frame):,} rows")
    for name, table in tables.items():
        click.echo(f"{out / name}: {len(table):,} rows")
    if archive.report.rejects:
        click.echo(
            f"{len(archive.report.rejects):,} rejects in {out / 'rejects.parquet'}", err=True
        )
    sys.stdout.flush()
