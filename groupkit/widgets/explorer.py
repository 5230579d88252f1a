"""``Explorer``: pick groups, a time range and a metric; latency, funnel and errors follow."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import ipywidgets as widgets
import pandas as pd

from groupkit import analytics, charts
from groupkit.widgets._common import archive_group_names, frame_html, group_label
from groupkit.widgets.receipts import ReceiptsPanel

__all__ = ["METRIC_LABELS", "Explorer", "use_offline_vega"]

METRIC_LABELS = {
    "delivery": "Delivery latency (sent → delivered)",
    "read": "Read latency (sent → read)",
    "read_after_delivery": "Read after delivery (delivered → read)",
}
# Steps of the time-range slider: fine enough to cut an archive into useful pieces,
# few enough that the slider's labels stay readable.
_TIME_STEPS = 48
# SVG rather than canvas: the marks end up in the DOM, where a browser test can read them.
_EMBED_OPTIONS = {"renderer": "svg", "actions": False}
_ERROR_COLUMNS = ["code", "title", "count", "share", "retryable", "first_seen", "last_seen"]


def use_offline_vega() -> bool:
    """Make :class:`altair.JupyterChart` load Vega from vl-convert instead of a CDN.

    ``JupyterChart`` (an anywidget) imports vega-embed from ``esm.sh`` by default, which
    fails wherever the browser cannot reach the internet (Voila on a locked-down host,
    CI). vl-convert-python ships the same JavaScript; when it is installed, the charts
    render offline. This changes the ``JupyterChart`` class for the whole kernel.

    Returns
    -------
    bool
        Whether the offline bundle is in use (``False`` when vl-convert is missing).

    Examples
    --------
    >>> use_offline_vega() in (True, False)
    True
    """
    try:
        alt.JupyterChart.enable_offline()
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class _Errors:
    """Just enough of an Archive for the error analytics and charts."""

    errors: pd.DataFrame


class Explorer(widgets.VBox):
    """Explore an archive: groups, a time range and a metric drive every chart and table.

    The latency charts, the funnel and the error table are recomputed together from
    :mod:`groupkit.analytics` and drawn by :mod:`groupkit.charts` whenever a control
    changes. The lifecycle (:func:`groupkit.deliveries`) is computed once.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    offline
        Load Vega's JavaScript from vl-convert rather than a CDN (see
        :func:`use_offline_vega`); ``None`` does so when vl-convert is installed.
    export_dir
        Where the receipts panel's CSV buttons write.

    Attributes
    ----------
    groups : ipywidgets.SelectMultiple
        The groups to include (all at first).
    time_range : ipywidgets.SelectionRangeSlider
        The ``sent_at`` window (UTC).
    metric : ipywidgets.Dropdown
        ``delivery``, ``read`` or ``read_after_delivery``.
    deliveries : pandas.DataFrame
        The receipts in the current selection.
    latency, funnel, errors : pandas.DataFrame
        :func:`groupkit.latency_summary`, :func:`groupkit.funnel` and
        :func:`groupkit.error_summary` of the current selection.
    charts : dict
        The altair charts now shown, by name (``latency_percentiles``,
        ``latency_ecdf``, ``latency_over_time``, ``funnel``).
    chart_widgets : dict
        The :class:`altair.JupyterChart` widgets that display them, by the same names.
    receipts : groupkit.widgets.receipts.ReceiptsPanel
        Who has read one business message of the selection, the participants of the
        chosen groups, and their CSV export.

    Examples
    --------
    >>> import groupkit
    >>> status = {"id": "wamid.A", "status": "sent", "timestamp": "1750000000",
    ...           "recipient_id": "Y2FwaV9ncm91cDox", "recipient_type": "group"}
    >>> hook = {"entry": [{"id": "1", "changes": [
    ...     {"field": "messages", "value": {"statuses": [status]}}]}]}
    >>> explorer = Explorer(groupkit.parse_webhooks([hook]), offline=False)
    >>> explorer.selection["groups"], int(explorer.funnel["messages"].sum())
    (['Y2FwaV9ncm91cDox'], 1)
    >>> explorer.groups.value = ()
    >>> int(explorer.funnel["messages"].sum())
    0
    """

    def __init__(
        self, archive: Any, *, offline: bool | None = None, export_dir: str | Path = "."
    ) -> None:
        if offline or offline is None:
            found = use_offline_vega()
            if offline and not found:
                raise ImportError(
                    "offline=True needs vl-convert-python: pip install 'groupkit[dashboard]'"
                )
        self._archive = archive
        self._all = analytics.deliveries(archive)
        # One style for the whole archive, so a group keeps its colour whatever is selected.
        self._style = charts.group_style(archive)
        names = archive_group_names(archive)
        self._times = _time_steps(self._all["sent_at"], archive.errors["timestamp"])

        self.groups = widgets.SelectMultiple(
            # The charts' labels, so the picker names a group as its legend does.
            options=[
                (self._style.labels.get(gid) or group_label(gid, name), gid)
                for gid, name in names.items()
            ],
            value=tuple(names),
            description="Groups",
            rows=min(8, max(2, len(names))),
            layout=widgets.Layout(width="360px"),
        )
        self.time_range = widgets.SelectionRangeSlider(
            options=[(f"{t:%m-%d %H:%M}", t) for t in self._times] or [("no data", None)],
            index=(0, max(0, len(self._times) - 1)),
            description="Sent (UTC)",
            continuous_update=False,
            layout=widgets.Layout(width="640px"),
            disabled=len(self._times) < 2,
        )
        self.metric = widgets.Dropdown(
            options=[(label, name) for name, label in METRIC_LABELS.items()],
            value="delivery",
            description="Metric",
            layout=widgets.Layout(width="420px"),
        )
        self.summary = widgets.HTML()
        self.error_table = widgets.HTML()
        self.deliveries = self._all
        self.latency = pd.DataFrame()
        self.funnel = pd.DataFrame()
        self.errors = pd.DataFrame()
        self.charts: dict[str, alt.TopLevelMixin] = self._draw()
        self.chart_widgets = {
            name: alt.JupyterChart(chart, embed_options=dict(_EMBED_OPTIONS))
            for name, chart in self.charts.items()
        }
        for name, chart_widget in self.chart_widgets.items():
            chart_widget.add_class(f"groupkit-chart-{name.replace('_', '-')}")
        self.receipts = ReceiptsPanel(
            archive, self._all, {gid: self._style.name(gid) for gid in names}, export_dir
        )
        super().__init__(
            [
                widgets.HTML("<b>Explore deliveries</b>"),
                widgets.HBox([self.groups, widgets.VBox([self.metric, self.time_range])]),
                self.summary,
                widgets.HTML("<b>Latency</b>"),
                widgets.HBox(
                    [self.chart_widgets["latency_percentiles"], self.chart_widgets["latency_ecdf"]]
                ),
                self.chart_widgets["latency_over_time"],
                widgets.HTML("<b>Funnel</b>"),
                self.chart_widgets["funnel"],
                widgets.HTML("<b>Errors</b>"),
                self.error_table,
                self.receipts,
            ]
        )
        self.add_class("groupkit-explorer")
        for control in (self.groups, self.time_range, self.metric):
            control.observe(self._on_change, names="value")
        self._show_tables()
        self._select_receipts()

    def __repr__(self) -> str:
        return (
            f"Explorer(groups={len(self.groups.value)}/{len(self.groups.options)}, "
            f"metric={self.metric.value!r}, receipts={len(self.deliveries):,})"
        )

    @property
    def selection(self) -> dict[str, Any]:
        """The groups, the ``sent_at`` window and the metric now chosen.

        Examples
        --------
        >>> import groupkit
        >>> Explorer(groupkit.parse_webhooks([]), offline=False).selection["metric"]
        'delivery'
        """
        start, end = self.time_range.value if self._times else (None, None)
        return {
            "groups": list(self.groups.value),
            "start": start,
            "end": end,
            "metric": self.metric.value,
        }

    def _on_change(self, change: Any = None) -> None:
        self.charts = self._draw()
        for name, chart in self.charts.items():
            self.chart_widgets[name].chart = chart
        self._show_tables()
        self._select_receipts()

    def _select_receipts(self) -> None:
        selection = self.selection
        whole = selection["start"] is None or self._whole_range()
        self.receipts.select(
            selection["groups"],
            None if whole else selection["start"],
            None if whole else selection["end"],
        )

    def _draw(self) -> dict[str, alt.TopLevelMixin]:
        selection = self.selection
        frame = self._all[self._all["group_id"].isin(selection["groups"])]
        errors = self._archive.errors
        errors = errors[errors["group_id"].isin(selection["groups"])]
        if selection["start"] is not None and not self._whole_range():
            start, end = selection["start"], selection["end"]
            frame = frame[frame["sent_at"].between(start, end)]
            errors = errors[errors["timestamp"].between(start, end)]
        frame = frame.reset_index(drop=True)
        metric = selection["metric"]
        self.deliveries = frame
        self.latency = analytics.latency_summary(frame, metric=metric)
        self.funnel = analytics.funnel(frame)
        self.errors = analytics.error_summary(_Errors(errors.reset_index(drop=True)))
        style = self._style
        return {
            "latency_percentiles": charts.latency_percentiles(frame, metric=metric, style=style),
            "latency_ecdf": charts.latency_ecdf(frame, metrics=[metric], style=style),
            "latency_over_time": charts.latency_over_time(frame, metric=metric, style=style),
            "funnel": charts.funnel_chart(frame, style=style),
        }

    def _whole_range(self) -> bool:
        return self.time_range.index == (0, len(self._times) - 1)

    def _show_tables(self) -> None:
        totals = self.funnel[["messages", "recipients", "delivered", "read", "failed"]].sum()
        self.summary.value = (
            f"<span class='groupkit-summary'>{len(self.groups.value)} groups · "
            f"{int(totals['messages']):,} messages · {int(totals['recipients']):,} receipts · "
            f"{int(totals['delivered']):,} delivered · {int(totals['read']):,} read · "
            f"{int(totals['failed']):,} failed · {len(self.errors):,} error codes</span>"
        )
        table = self.errors[[c for c in _ERROR_COLUMNS if c in self.errors.columns]]
        with contextlib.suppress(KeyError, TypeError):
            table = table.assign(share=table["share"].map("{:.0%}".format))
        self.error_table.value = frame_html(table, "no errors in this selection")


def _time_steps(*columns: pd.Series) -> list[pd.Timestamp]:
    """Evenly spaced UTC times from the earliest to the latest value, whole minutes outward."""
    present = [c.dropna() for c in columns if c.notna().any()]
    if not present:
        return []
    values = pd.concat(present, ignore_index=True)
    start = values.min().floor("min")
    end = values.max().ceil("min")
    if start == end:
        end = start + pd.Timedelta(minutes=1)
    steps = pd.date_range(start, end, periods=_TIME_STEPS + 1)
    return [t.floor("s") for t in steps]
