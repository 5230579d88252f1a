"""What changed between two windows: before and after, the change and its 95 % interval."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

__all__ = ["METRIC_WORDS", "VERDICTS", "compare_chart", "compare_table"]

METRIC_WORDS = {
    "delivered_rate": "Delivered",
    "read_rate": "Read",
    "read_within_rate": "Read within the limit",
    "failed_rate": "Failed",
    "delivery_p50": "Delivery time, median",
    "delivery_p90": "Delivery time, p90",
    "read_p50": "Time to read, median",
    "read_p90": "Time to read, p90",
}
VERDICTS = {
    "significant": "#c0392b",
    "not significant": "#7f8c8d",
    "too few receipts": "#bdc3c7",
}
_MAX_ROWS = 12


def _verdict(table: pd.DataFrame) -> pd.Series:
    verdict = np.where(
        table["significant"],
        "significant",
        np.where(table["p_value"].isna(), "too few receipts", "not significant"),
    )
    return pd.Series(verdict, index=table.index)


def compare_table(
    table: pd.DataFrame, *, metrics: Sequence[str] | None = None, max_rows: int = _MAX_ROWS
) -> pd.DataFrame:
    """The rows :func:`compare_chart` draws: per metric, significant changes first.

    Parameters
    ----------
    table
        :func:`groupkit.compare`'s frame.
    metrics
        The metrics to keep (default: every one in ``table``).
    max_rows
        Rows (groups) per metric, at most: the significant changes, then the smallest
        p-values, then the most receipts.

    Returns
    -------
    pandas.DataFrame
        ``label`` (the group, or ``"all groups"``), ``metric``, ``metric_words``,
        ``unit`` and the compare columns, with ``verdict`` (``significant``, ``not
        significant``, ``too few receipts``) and ``change_words``.

    Examples
    --------
    >>> table = pd.DataFrame({"metric": ["read_rate"], "unit": ["share"], "before": [0.75],
    ...     "after": [0.5], "change": [-0.25], "ci_low": [-0.48], "ci_high": [0.02],
    ...     "p_value": [0.07], "n_before": [24], "n_after": [24], "significant": [False],
    ...     "note": [""]})
    >>> compare_table(table)[["label", "verdict", "change_words"]].values.tolist()
    [['all groups', 'not significant', '-25.0 points']]
    """
    table = table.copy()
    if "group" in table.columns:
        table["label"] = table["group"].astype("str")
    else:
        keys = [c for c in table.columns if c not in _COMPARE_COLUMNS]
        table["label"] = table[keys].astype("str").agg(" · ".join, axis=1) if keys else "all groups"
    table["metric"] = table["metric"].astype("str")
    if metrics is not None:
        table = table[table["metric"].isin(list(metrics))]
    table["verdict"] = _verdict(table)
    table["metric_words"] = table["metric"].map(METRIC_WORDS).fillna(table["metric"])
    share = table["unit"] == "share"
    table["change_words"] = np.where(
        share,
        (table["change"] * 100).map("{:+.1f} points".format),
        table["change"].map("{:+.0f} s".format),
    )
    table["_order"] = table["metric"].map({m: i for i, m in enumerate(METRIC_WORDS)})
    table = table.sort_values(
        ["_order", "significant", "p_value", "n_after", "label"],
        ascending=[True, False, True, False, True],
        na_position="last",
        kind="stable",
    )
    table = table.groupby("metric", sort=False).head(max_rows)
    return table.drop(columns="_order").reset_index(drop=True)


_COMPARE_COLUMNS = {
    "group", "group_id", "metric", "unit", "before", "after", "change", "ci_low", "ci_high",
    "p_value", "n_before", "n_after", "significant", "note",
}  # fmt: skip


# Seconds as a person reads them, two significant digits ("3.3 min", "-40 s").
_SECONDS_LABEL = (
    "abs(datum.value) >= 86400 ? format(datum.value / 86400, '.2~r') + ' d' : "
    "abs(datum.value) >= 3600 ? format(datum.value / 3600, '.2~r') + ' h' : "
    "abs(datum.value) >= 60 ? format(datum.value / 60, '.2~r') + ' min' : "
    "format(datum.value, '.2~r') + ' s'"
)


def _axis(unit: str, title: str) -> alt.Axis:
    if unit == "share":
        return alt.Axis(format="%", title=title)
    return alt.Axis(labelExpr=_SECONDS_LABEL, title=title, tickCount=5)


def compare_chart(
    table: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    max_rows: int = _MAX_ROWS,
    title: str | None = None,
) -> alt.VConcatChart:
    """Before and after per group, and the change with its 95 % interval, per metric.

    Each metric is one row of two panels: on the left, a hollow dot at ``before``
    joined to a filled dot at ``after``; on the right, the change with its interval
    around zero.  Significant changes (``p_value < 0.05``) are red; changes within
    what chance gives are grey, and rows with too few receipts to test are pale.

    Parameters
    ----------
    table
        :func:`groupkit.compare`'s frame (per group or ``by=None``).
    metrics
        The metrics to draw (default: every metric in ``table``).
    max_rows
        Groups per metric, at most (significant ones first; see :func:`compare_table`).
    title
        The chart's title.

    Returns
    -------
    altair.VConcatChart
        One dataset: the rows of :func:`compare_table`.

    Examples
    --------
    >>> table = pd.DataFrame({"group": ["Runners"], "metric": ["read_rate"],
    ...     "unit": ["share"], "before": [0.75], "after": [0.5], "change": [-0.25],
    ...     "ci_low": [-0.48], "ci_high": [0.02], "p_value": [0.07], "n_before": [24],
    ...     "n_after": [24], "significant": [False], "note": [""], "group_id": ["G"]})
    >>> spec = compare_chart(table).to_dict()
    >>> [len(row["hconcat"]) for row in spec["vconcat"]]
    [2]
    """
    rows = compare_table(table, metrics=metrics, max_rows=max_rows)
    color = alt.Color(
        "verdict:N",
        scale=alt.Scale(domain=list(VERDICTS), range=list(VERDICTS.values())),
        legend=alt.Legend(title="Change"),
    )
    tooltip = [
        alt.Tooltip("label:N", title="group"),
        alt.Tooltip("metric_words:N", title="metric"),
        alt.Tooltip("before:Q", title="before", format=".3~g"),
        alt.Tooltip("after:Q", title="after", format=".3~g"),
        alt.Tooltip("change_words:N", title="change"),
        alt.Tooltip("ci_low:Q", title="95 % interval from", format=".3~g"),
        alt.Tooltip("ci_high:Q", title="to", format=".3~g"),
        alt.Tooltip("p_value:Q", title="p-value", format=".3f"),
        alt.Tooltip("n_before:Q", title="receipts before", format=","),
        alt.Tooltip("n_after:Q", title="receipts after", format=","),
        alt.Tooltip("verdict:N", title="verdict"),
    ]
    panels = []
    for metric in dict.fromkeys(rows["metric"]):
        unit = str(rows.loc[rows["metric"] == metric, "unit"].iloc[0])
        words = METRIC_WORDS.get(metric, metric)
        base = alt.Chart(rows).transform_filter(alt.datum.metric == metric)
        y = alt.Y("label:N", title=None, sort=None)
        height = alt.Step(18)
        values = alt.layer(
            base.mark_rule(color="#999").encode(x=alt.X("before:Q"), x2="after:Q", y=y),
            base.mark_point(filled=False, color="#555", size=60).encode(
                x=alt.X("before:Q", axis=_axis(unit, f"{words}: before (○) → after (●)")),
                y=y,
                tooltip=tooltip,
            ),
            base.mark_point(filled=True, size=70).encode(
                x="after:Q", y=y, color=color, tooltip=tooltip
            ),
        ).properties(width=300, height=height)
        change = alt.layer(
            base.transform_aggregate(rows="count()")
            .mark_rule(color="#333", strokeDash=[3, 3])
            .encode(x=alt.datum(0)),
            base.mark_rule(strokeWidth=2).encode(
                x=alt.X("ci_low:Q", axis=_axis(unit, "change, with its 95 % interval")),
                x2="ci_high:Q",
                y=y,
                color=color,
                tooltip=tooltip,
            ),
            base.mark_point(filled=True, size=60).encode(
                x="change:Q", y=y, color=color, tooltip=tooltip
            ),
        ).properties(width=300, height=height)
        panels.append(alt.hconcat(values, change, title=words))
    if not panels:
        empty = alt.Chart(rows).mark_text().encode(text=alt.value("nothing to compare"))
        panels.append(alt.hconcat(empty))
    chart = alt.vconcat(*panels)
    return chart.properties(
        title=title or "What changed: before → after, and the change with its 95 % interval"
    )
