"""``groupkit report``: read an archive and write its report, checking the output first."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from groupkit._cli_common import (
    EPILOG,
    MissingExtraError,
    atomic_path,
    check_output_file,
    has_module,
    read_archive,
)
from groupkit.exceptions import GroupkitError
from groupkit.report.assets import INSTALL_HINT, javascript_bundle
from groupkit.report.page import build_report

__all__ = ["command", "read_for_report", "write_report"]


def read_for_report(source: Any, **options: Any) -> Any:
    """:func:`groupkit.read_webhooks`, keeping of the statuses only what the report uses.

    The report reads statuses only through the analytics, so a large archive's
    recipient ids, contacts and other columns need not sit in memory while the
    lifecycle is computed (it keeps pricing, receipt times and ``source`` for the
    "Cost" and "Webhook health" sections).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.ndjson").write_text('{"entry": []}\\n')
    >>> "recipient_id" in read_for_report(folder).statuses.columns
    False
    """
    from groupkit.analytics.deliveries import LIFECYCLE_COLUMNS
    from groupkit.analytics.people import STATUS_COLUMNS as PEOPLE_COLUMNS
    from groupkit.load import read_webhooks
    from groupkit.load.engine import give_back_memory
    from groupkit.report.cost_health_pins import STATUS_COLUMNS as COST_HEALTH_COLUMNS

    archive = read_webhooks(source, **options)
    # Beside the lifecycle's columns: the ids and contacts that link a BSUID to a phone,
    # and pricing and arrival times for the "Cost" and "Webhook health" sections.
    keep = [*LIFECYCLE_COLUMNS, *PEOPLE_COLUMNS, *COST_HEALTH_COLUMNS]
    archive.statuses = archive.statuses[list(dict.fromkeys(keep))]
    give_back_memory()  # what the dropped columns held
    return archive


def write_report(
    source: Any,
    out: str | Path,
    *,
    title: str | None = None,
    max_groups: int = 9,
    rates: Any = None,
) -> Path:
    """Read an archive and write its HTML report to ``out`` (atomically).

    Parameters
    ----------
    source
        What :func:`groupkit.read_webhooks` reads (file, folder, glob), or an
        already loaded :class:`groupkit.Archive`.
    out
        The HTML file to write.
    title
        Page title (default: the source's name).
    max_groups
        Groups with their own colour in the charts (the groups to look at).
    rates
        A rate card (CSV path or DataFrame) for the "Cost" section.

    Returns
    -------
    pathlib.Path
        ``out``.

    Examples
    --------
    >>> import groupkit, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> write_report(groupkit.parse_webhooks([]), out).stat().st_size > 100_000
    True
    """
    from groupkit.archive import Archive

    script = javascript_bundle()
    if isinstance(source, Archive):
        archive = source
        title = title or "groupkit report"
    else:
        archive = read_for_report(source)
        title = title or f"groupkit report: {Path(str(source)).name}"
    page = build_report(
        archive, title=title, max_groups=max_groups, bundle=lambda: script, rates=rates
    )
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out


@click.command("report", epilog=EPILOG)
@click.argument("path", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    default="report.html",
    show_default=True,
    type=click.Path(),
    help="HTML file to write (its folder must exist).",
)
@click.option("--title", default=None, help="Page title (default: from PATH).")
@click.option(
    "--max-groups",
    default=9,
    show_default=True,
    type=click.IntRange(min=1),
    help="Groups the charts colour (the groups to look at); the rest are grey context.",
)
@click.option(
    "--rates",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Rate card CSV (country, category, price, currency, effective_from) to show the "
    "Cost section in money; groupkit ships no prices.",
)
def command(
    path: tuple[str, ...], out: str, title: str | None, max_groups: int, rates: str | None
) -> None:
    """Write one self-contained HTML report of the webhook archive at PATH.

    PATH is one or more webhook files, folders or globs (e.g. sample_data/webhooks).
    The page opens with the groups to look at, then every group in a sortable table,
    then the charts, cost (in money with --rates), webhook health and pins (when a
    send log is read beside the webhooks); it works offline (Vega is inlined) and needs
    the report extra: pip install 'groupkit[report]'.
    """
    started = time.perf_counter()
    # The cheap checks first: the extra is there, the output can be written, the input
    # holds webhooks; only then the slow parts (Vega's bundle, the report).
    if not has_module("vl_convert"):
        raise MissingExtraError(
            f"the HTML report inlines Vega from vl-convert-python, which is not installed; "
            f"run: {INSTALL_HINT}"
        )
    target = check_output_file(out, "-o")
    card = None
    if rates is not None:
        from groupkit.analytics.costs import read_rates

        card = read_rates(rates)  # a bad card fails before the archive is read
    archive = read_archive(path, reader=read_for_report)
    try:
        script = javascript_bundle()
    except GroupkitError as exc:
        raise MissingExtraError(str(exc)) from None
    if title is None:
        title = f"groupkit report: {', '.join(Path(p).name or p for p in path)}"
    page = build_report(
        archive, title=title, max_groups=max_groups, bundle=lambda: script, rates=card
    )
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    size = target.stat().st_size / 1e6
    click.echo(f"wrote {target} ({size:,.1f} MB) in {time.perf_counter() - started:,.1f} s")
