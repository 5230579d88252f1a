"""``groupkit summary`` and ``groupkit export``: the loader on the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from groupkit.archive import Archive
from groupkit.exceptions import GroupkitError
from groupkit.load import read_webhooks

_ON_ERROR = click.Choice(["collect", "raise"])


def group_table(archive: Archive) -> pd.DataFrame:
    """Per group: business messages sent, statuses, delivered/read receipts, failures, inbound.

    Counts come straight from the frames (no lifecycle reasoning; see
    :func:`groupkit.deliveries` for that).

    Examples
    --------
    >>> import groupkit
    >>> group_table(groupkit.parse_webhooks([])).columns.tolist()[:3]
    ['messages_sent', 'statuses', 'delivered']
    """
    cols = ["messages_sent", "statuses", "delivered", "read", "failed", "inbound_messages"]
    st = archive.statuses[archive.statuses["group_id"].notna()]
    status = st["status"].astype("str")
    by_group = st.groupby("group_id", observed=True)
    table = pd.DataFrame(
        {
            "messages_sent": by_group["message_id"].nunique(),
            "statuses": by_group.size(),
            "delivered": st[status == "delivered"].groupby("group_id").size(),
            "read": st[status == "read"].groupby("group_id").size(),
            "failed": st[status == "failed"].groupby("group_id")["message_id"].nunique(),
        }
    )
    inbound = archive.messages[archive.messages["group_id"].notna()].groupby("group_id").size()
    table = table.join(inbound.rename("inbound_messages"), how="outer")
    table = table.reindex(columns=cols).fillna(0).astype("int64")
    table.index.name = "group_id"
    return table.sort_values("messages_sent", ascending=False)


def _load(path: tuple[str, ...], on_error: str, progress: bool | None) -> Archive:
    try:
        return read_webhooks(list(path), on_error=on_error, progress=progress)  # type: ignore[arg-type]
    except (FileNotFoundError, GroupkitError) as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.argument("path", nargs=-1, required=True)
@click.option("--on-error", type=_ON_ERROR, default="collect", show_default=True)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: auto).")
def summary(path: tuple[str, ...], on_error: str, progress: bool | None) -> None:
    """Print the load report and a per-group table of PATH (files, folders, globs)."""
    archive = _load(path, on_error, progress)
    click.echo(str(archive.report))
    click.echo("")
    table = group_table(archive)
    if table.empty:
        click.echo("no group traffic found")
    else:
        click.echo(f"per group ({len(table)} groups):")
        click.echo(table.to_string())


@click.command()
@click.argument("path", nargs=-1, required=True)
@click.option("--to", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--on-error", type=_ON_ERROR, default="collect", show_default=True)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: auto).")
def export(path: tuple[str, ...], out: Path, on_error: str, progress: bool | None) -> None:
    """Write every frame of PATH as Parquet into --to DIR (plus rejects and the report)."""
    archive = _load(path, on_error, progress)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in archive.frames().items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    archive.report.rejects_frame().to_parquet(out / "rejects.parquet", index=False)
    (out / "load_report.txt").write_text(str(archive.report) + "\n", encoding="utf-8")
    for name, frame in archive.frames().items():
        click.echo(f"{out / (name + '.parquet')}: {len(frame):,} rows")
    if archive.report.rejects:
        click.echo(
            f"{len(archive.report.rejects):,} rejects in {out / 'rejects.parquet'}", err=True
        )
    sys.stdout.flush()
