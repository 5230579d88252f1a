"""One self-contained HTML report of an archive: load report, per-group tables, charts.

The page works offline: the Vega, Vega-Lite and vega-embed JavaScript comes from
``vl-convert-python`` (the ``report`` extra) and is inlined once; each chart's spec
carries only aggregated data (see :mod:`groupkit.charts`).

Examples
--------
>>> import groupkit
>>> page = build_report(groupkit.parse_webhooks([]), title="Empty")
>>> "<script src" in page, page.count("vegaEmbed(") >= 1
(False, True)
"""

from __future__ import annotations

import html
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pandas as pd

from groupkit import charts
from groupkit.analytics import deliveries, error_catalog, error_summary, funnel, latency_summary
from groupkit.analytics import read_coverage as _read_coverage
from groupkit.exceptions import GroupkitError

__all__ = ["build_report", "command", "group_table", "javascript_bundle", "write_report"]

INSTALL_HINT = "pip install 'groupkit[report]'"


def javascript_bundle() -> str:
    """The vega-embed bundle (Vega and Vega-Lite included) that the page inlines.

    Raises
    ------
    GroupkitError
        When ``vl-convert-python`` is missing, naming the extra to install.

    Examples
    --------
    >>> "vegaEmbed" in javascript_bundle()
    True
    """
    try:
        import vl_convert
    except ImportError as exc:
        raise GroupkitError(
            "the HTML report inlines Vega from vl-convert-python, which is not installed; "
            f"run: {INSTALL_HINT}"
        ) from exc
    from altair.utils._importers import vl_version_for_vl_convert

    return vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())


def group_table(frame: pd.DataFrame, style: charts.GroupStyle | None = None) -> pd.DataFrame:
    """Per group: receipts, funnel rates, delivery and read latency, read coverage.

    Parameters
    ----------
    frame
        A frame from :func:`groupkit.deliveries`.
    style
        Group labels (:func:`groupkit.charts.group_style`); every group gets its own
        row here, the label is only added for reading.

    Returns
    -------
    pandas.DataFrame
        ``group, group_id, messages, recipients, delivered_rate, read_rate,
        failed_rate, pending_rate, delivery_p50_s, delivery_p90_s, read_p50_s,
        read_p90_s, coverage_1h``, slowest median delivery first.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(2))
    >>> frame["group_id"], frame["message_id"] = "G1", "wamid.1"
    >>> frame["participant_id"] = ["1", "2"]
    >>> frame["state"] = ["read", "delivered"]
    >>> frame["delivery_latency"] = pd.to_timedelta([2, 4], unit="s")
    >>> group_table(frame)[["group", "recipients", "read_rate", "delivery_p50_s"]].values.tolist()
    [['…G1', 2, 0.5, 3.0]]
    """
    if style is None:
        style = charts.group_style(frame, max_groups=len(frame))
    rates = ["delivered_rate", "read_rate", "failed_rate", "pending_rate"]
    out = funnel(frame)[["group_id", "messages", "recipients", *rates]]
    for metric in ("delivery", "read"):
        lat = latency_summary(frame, metric=metric, quantiles=(0.5, 0.9))
        lat = lat[["group_id", "p50_s", "p90_s"]].rename(
            columns={"p50_s": f"{metric}_p50_s", "p90_s": f"{metric}_p90_s"}
        )
        out = out.merge(lat, on="group_id", how="left")
    coverage = _read_coverage(frame, within="1h")
    per_group = coverage.groupby("group_id")[["readers_within", "members"]].sum()
    ratio = per_group["readers_within"] / per_group["members"].where(per_group["members"] > 0)
    out["coverage_1h"] = out["group_id"].map(ratio).astype("float64")
    out.insert(0, "group", style.label(out["group_id"]))
    out = out.sort_values(["delivery_p50_s", "group_id"], ascending=[False, True])
    return out.reset_index(drop=True)


def _table_html(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    shown = frame.copy()
    for column, fmt in (formats or {}).items():
        if column in shown:
            shown[column] = shown[column].map(lambda v, f=fmt: "" if pd.isna(v) else f.format(v))
    return shown.to_html(index=False, border=0, classes="table", na_rep="", escape=True)


_RATE = "{:.1%}"
_SECONDS = "{:,.1f}"

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; } .chart { margin: 1rem 0 2rem; }
table.table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
table.table th, table.table td { padding: .25rem .6rem; border-bottom: 1px solid #eee; }
table.table th { text-align: left; background: #f6f6f6; }
.note { color: #555; font-size: .9rem; }
"""


def _charts(archive: Any, frame: pd.DataFrame, style: charts.GroupStyle) -> list[tuple[str, Any]]:
    """(section, chart) in the order the report shows them."""
    return [
        ("Latency", charts.latency_ecdf(frame, style=style)),
        ("Latency", charts.latency_percentiles(frame, metric="delivery", style=style)),
        ("Latency", charts.latency_percentiles(frame, metric="read", style=style)),
        ("Latency", charts.latency_over_time(frame, metric="delivery", style=style)),
        ("Latency", charts.within_rate_over_time(frame, within_s=5, style=style)),
        ("Delivery", charts.funnel_chart(frame, style=style)),
        ("Delivery", charts.coverage_over_time(frame, style=style)),
        ("Errors", charts.errors_over_time(archive)),
        ("Errors", charts.errors_by_group(archive, style=style)),
        ("Activity", charts.activity_heatmap(archive, style=style)),
        ("Activity", charts.messages_by_type(archive, style=style)),
    ]


def build_report(
    archive: Any,
    *,
    title: str = "groupkit report",
    frame: pd.DataFrame | None = None,
    max_groups: int = 10,
    bundle: Callable[[], str] = javascript_bundle,
) -> str:
    """The report of ``archive`` as one self-contained HTML page.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    title
        Page title.
    frame
        Its :func:`groupkit.deliveries` frame, when already computed.
    max_groups
        Groups with their own colour in the charts (the rest are pooled); the
        tables list every group.
    bundle
        Returns the JavaScript to inline (default: :func:`javascript_bundle`).

    Returns
    -------
    str
        The HTML page: no external script, style or font.

    Examples
    --------
    >>> import groupkit
    >>> page = build_report(groupkit.parse_webhooks([]), bundle=lambda: "/* js */")
    >>> page.startswith("<!DOCTYPE html>"), page.count('class="chart"')
    (True, 11)
    """
    script = bundle()  # first, so a missing extra fails before any work
    from groupkit.load.engine import give_back_memory

    frame = deliveries(archive) if frame is None else frame
    give_back_memory()  # the lifecycle's working set, before the charts add theirs
    style = charts.group_style(archive, max_groups=max_groups)
    table_style = charts.group_style(archive, max_groups=sys.maxsize)  # tables list every group
    esc = html.escape
    body: list[str] = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by groupkit; '
        f"{len(frame):,} receipts, {archive.messages['group_id'].notna().sum():,} inbound "
        f"group messages, {len(archive.errors):,} errors.</p>",
        "<h2>Load report</h2>",
        archive.report._repr_html_(),
        "<h2>Groups</h2>",
        '<p class="note">Rates are shares of recipients (members at send time where the '
        "archive has membership, else the participants that reported). Latencies in seconds; "
        "coverage is the share of members who read within one hour.</p>",
        _table_html(
            group_table(frame, table_style),
            {
                **dict.fromkeys(
                    ["delivered_rate", "read_rate", "failed_rate", "pending_rate", "coverage_1h"],
                    _RATE,
                ),
                **dict.fromkeys(
                    ["delivery_p50_s", "delivery_p90_s", "read_p50_s", "read_p90_s"], _SECONDS
                ),
            },
        ),
    ]
    errors = error_summary(archive)
    if len(errors):
        advice = error_catalog().set_index("code")["advice"]
        errors = errors.assign(advice=errors["code"].map(advice))
        body += [
            "<h2>Errors</h2>",
            _table_html(
                errors[["code", "title", "family", "count", "share", "advice"]], {"share": _RATE}
            ),
        ]
    section = None
    embeds = []
    for index, (name, chart) in enumerate(_charts(archive, frame, style)):
        if name != section:
            body.append(f"<h2>{esc(name)}</h2>")
            section = name
        body.append(f'<div class="chart" id="chart-{index}"></div>')
        embeds.append((f"#chart-{index}", chart.to_dict()))
    safe_script = script.replace("</script", "<\\/script")
    specs = json.dumps([{"target": t, "spec": s} for t, s in embeds]).replace("</", "<\\/")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{esc(title)}</title>",
            f"<style>{_CSS}</style>",
            f"<script>{safe_script}</script>",
            "</head><body>",
            *body,
            "<script>",
            f"const groupkitCharts = {specs};",
            "window.groupkitRendered = Promise.all(groupkitCharts.map(",
            "  (c) => vegaEmbed(c.target, c.spec, {renderer: 'svg', actions: false})",
            "));",
            "window.groupkitRendered.catch((e) => console.error(e));",
            "</script>",
            "</body></html>",
        ]
    )


def read_for_report(source: Any, **options: Any) -> Any:
    """:func:`groupkit.read_webhooks`, keeping of the statuses only what the report uses.

    The report reads statuses only through the analytics, so a large archive's
    recipient ids, sources and pricing columns need not sit in memory while the
    lifecycle is computed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.ndjson").write_text('{"entry": []}\\n')
    >>> "source" in read_for_report(folder).statuses.columns
    False
    """
    from groupkit.analytics.deliveries import LIFECYCLE_COLUMNS
    from groupkit.load import read_webhooks
    from groupkit.load.engine import give_back_memory

    archive = read_webhooks(source, **options)
    archive.statuses = archive.statuses[list(LIFECYCLE_COLUMNS)]
    give_back_memory()  # what the dropped columns held
    return archive


def write_report(
    source: Any, out: str | Path, *, title: str | None = None, max_groups: int = 10
) -> Path:
    """Read an archive and write its HTML report to ``out``.

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
        Groups with their own colour in the charts.

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
    page = build_report(archive, title=title, max_groups=max_groups, bundle=lambda: script)
    out = Path(out)
    out.write_text(page, encoding="utf-8")
    return out


@click.command("report")
@click.argument("path", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="HTML file to write.",
)
@click.option("--title", default=None, help="Page title (default: from PATH).")
@click.option(
    "--max-groups",
    default=10,
    show_default=True,
    help="Groups with their own colour in the charts; the rest are pooled.",
)
def command(path: tuple[str, ...], out: str, title: str | None, max_groups: int) -> None:
    """Write one self-contained HTML report (tables and charts) of the archive at PATH.

    The file works offline (Vega is inlined); it needs the report extra:
    pip install 'groupkit[report]'.
    """
    started = time.perf_counter()
    source: Any = list(path) if len(path) > 1 else path[0]
    try:
        written = write_report(source, out, title=title, max_groups=max_groups)
    except GroupkitError as exc:
        raise click.ClickException(str(exc)) from exc
    size = written.stat().st_size / 1e6
    click.echo(f"wrote {written} ({size:,.1f} MB) in {time.perf_counter() - started:,.1f} s")
