"""What every chart shares: group labels and colours, time units, time buckets.

Charts never embed raw rows: each aggregates an analytics frame first, so the data a
chart carries grows with groups x buckets, not with the archive.  To keep that bounded
on archives with hundreds of groups, a :class:`GroupStyle` gives ``max_groups`` groups
their own colour (the ones to look at, when given, else the busiest) and pools the
rest as ``"other groups"``, drawn in grey as context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from groupkit.analytics._common import deliveries_of
from groupkit.analytics._time import normalise_freq
from groupkit.analytics.groups import group_names

OTHER = "other groups"
OTHER_COLOUR = "#9e9e9e"
# Tableau 10 without its grey, then Tableau 20's lighter tones: distinct in order.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#1f77b4",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#dbdb8d",
    "#9edae5",
)
MAX_GROUPS = 10
# (unit, seconds per unit, upper limit of the data for which the unit reads well)
_UNITS = (("s", 1.0, 120.0), ("min", 60.0, 7200.0), ("h", 3600.0, float("inf")))
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class GroupStyle:
    """Labels and colours of groups, shared by charts so a group looks the same everywhere.

    Build one with :func:`group_style` and pass it as ``style=`` to every chart.

    Attributes
    ----------
    labels
        ``group_id`` -> label for the coloured groups (subject when the archive has
        it, else a short suffix of the id); any other group is ``"other groups"``.
    order
        Labels in legend order, ``"other groups"`` last when used.
    pooled
        Whether some groups are pooled as ``"other groups"``.
    names
        ``group_id`` -> name for every group, coloured or not (for tables and
        tooltips).

    Examples
    --------
    >>> style = GroupStyle(labels={"G1": "Team", "G2": "…G2"}, order=["Team", "…G2"])
    >>> style.label(pd.Series(["G2", "G9", None])).tolist()
    ['…G2', 'other groups', 'other groups']
    >>> style.scale().domain
    ['Team', '…G2', 'other groups']
    """

    labels: dict[str, str]
    order: list[str]
    pooled: bool = field(default=True)
    names: dict[str, str] = field(default_factory=dict)

    def name(self, group_id: str) -> str:
        """Any group's own name (its label when coloured), whether pooled or not."""
        return self.labels.get(group_id) or self.names.get(group_id) or str(group_id)

    def label(self, group_ids: pd.Series) -> pd.Series:
        """The label of each group id (``"other groups"`` beyond the shown ones)."""
        codes, uniques = pd.factorize(group_ids, use_na_sentinel=True)
        names = np.array([self.labels.get(u, OTHER) for u in uniques] + [OTHER], dtype=object)
        return pd.Series(names[codes], index=group_ids.index, dtype="str", name="group")

    @property
    def domain(self) -> list[str]:
        """Every label a chart may show, in legend order."""
        return [*self.order, OTHER] if self.pooled else list(self.order)

    def scale(self) -> alt.Scale:
        """The colour scale: fixed colours per label, grey for ``"other groups"``."""
        colours = [PALETTE[i % len(PALETTE)] for i in range(len(self.order))]
        if self.pooled:
            colours.append(OTHER_COLOUR)
        return alt.Scale(domain=self.domain, range=colours)

    def color(self, **kwargs: Any) -> alt.Color:
        """``alt.Color`` on the ``group`` field with this style's scale and a legend."""
        kwargs.setdefault("legend", alt.Legend(title="Group"))
        return alt.Color("group:N", scale=self.scale(), sort=self.domain, **kwargs)


def _group_counts(data: Any) -> pd.Series:
    """Rows per group id, busiest first: receipts and inbound messages."""
    if isinstance(data, pd.DataFrame):
        counts = data["group_id"].value_counts()
    else:
        counts = (
            data.statuses["group_id"]
            .value_counts()
            .add(data.messages["group_id"].value_counts(), fill_value=0)
        )
        for frame in (data.errors, data.group_events):
            extra = frame["group_id"].dropna().unique()
            counts = counts.reindex(counts.index.union(extra), fill_value=0)
    counts = counts[counts.index.notna()]
    return counts.sort_index().sort_values(ascending=False, kind="stable")


def group_style(
    data: Any, *, max_groups: int = MAX_GROUPS, highlight: Sequence[str] | None = None
) -> GroupStyle:
    """Labels and colours for the groups of an archive (or of a deliveries frame).

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` (groups from every frame, named by their
        subject when the archive saw it) or a frame with a ``group_id`` column
        (named by short id suffixes).
    max_groups
        How many groups get their own colour; the rest are pooled as
        ``"other groups"`` so charts stay readable and small.
    highlight
        The groups to colour, in this order (e.g. the groups to look at from
        :func:`groupkit.groups_to_watch`); by default the busiest.

    Returns
    -------
    GroupStyle

    Examples
    --------
    >>> frame = pd.DataFrame({"group_id": ["AAAAAA111111", "AAAAAA222222", "AAAAAA222222"]})
    >>> style = group_style(frame)
    >>> style.order, style.pooled
    (['…222222', '…111111'], False)
    >>> group_style(frame, max_groups=1).domain
    ['…222222', 'other groups']
    >>> group_style(frame, highlight=["AAAAAA111111"]).domain
    ['…111111', 'other groups']
    """
    counts = _group_counts(data)
    ids = [str(g) for g in counts.index]
    names = group_names(None if isinstance(data, pd.DataFrame) else data, ids)
    if highlight is None:
        shown = ids[:max_groups]
    else:
        known = set(ids)
        shown = list(dict.fromkeys(str(g) for g in highlight if str(g) in known))[:max_groups]
    return GroupStyle(
        labels={gid: names[gid] for gid in shown},
        order=[names[gid] for gid in shown],
        pooled=len(ids) > len(shown),
        names=names,
    )


def pooled_groups(style: GroupStyle, group_ids: pd.Series) -> int:
    """How many groups the style pools as ``"other groups"``: every group it knows and
    does not colour, else the distinct ones of ``group_ids``."""
    if style.names:
        return sum(1 for gid in style.names if gid not in style.labels)
    present = pd.Series(group_ids).dropna().unique()
    return sum(1 for gid in present if gid not in style.labels)


def mean_per_pooled_group(
    table: pd.DataFrame, style: GroupStyle, group_ids: pd.Series, columns: list[str]
) -> str:
    """Divide ``columns`` of the pooled ``"other groups"`` rows of ``table`` (in place)
    by how many groups they pool, so a bar compares with one group's; returns the
    title's note saying so (empty when nothing is pooled)."""
    pooled = max(pooled_groups(style, group_ids), 1)
    table["groups"] = np.where(table["group"] == OTHER, pooled, 1)
    for column in columns:
        table[column] = table[column] / table["groups"]
    return f" (other groups: mean of {pooled})" if (table["group"] == OTHER).any() else ""


def labelled_deliveries(data: Any, style: GroupStyle | None) -> tuple[pd.DataFrame, GroupStyle]:
    """The deliveries frame with a ``group`` label column, and the style used."""
    frame = deliveries_of(data)
    if style is None:
        style = group_style(data if not isinstance(data, pd.DataFrame) else frame)
    return frame.assign(group=style.label(frame["group_id"])), style


def duration_unit(seconds: pd.Series | np.ndarray | float) -> tuple[str, float]:
    """The unit that reads best for latencies of this size, and its seconds.

    Chosen from the largest value: seconds up to 2 minutes, minutes up to 2
    hours, hours beyond.

    Examples
    --------
    >>> duration_unit(45.0), duration_unit([30, 900]), duration_unit(36000)
    (('s', 1.0), ('min', 60.0), ('h', 3600.0))
    """
    values = np.asarray(seconds, dtype="float64")
    top = float(np.nanmax(values)) if values.size and not np.isnan(values).all() else 0.0
    for unit, size, limit in _UNITS:
        if top <= limit:
            return unit, size
    return _UNITS[-1][:2]  # pragma: no cover


# Tick marks of a log latency axis, in seconds, and how a person says them.
_LOG_TICKS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 6 * 3600, 86400, 7 * 86400)
FLOOR_S = 1.0  # timestamps are whole seconds: 0 s means "within the same second"


def seconds_words(seconds: float) -> str:
    """A duration as a person says it: ``"45 s"``, ``"12 min"``, ``"3.5 h"``, ``"2 d"``.

    Examples
    --------
    >>> [seconds_words(s) for s in (0.4, 45, 90, 720, 5485, 12600, 172800)]
    ['0.4 s', '45 s', '1.5 min', '12 min', '1.5 h', '3.5 h', '2 d']
    """
    if pd.isna(seconds):
        return ""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size * (2 if unit == "d" else 1):
            return f"{seconds / size:.{0 if seconds / size >= 10 else 1}f} {unit}".replace(
                ".0 ", " "
            )
    return f"{seconds:.{0 if seconds >= 10 else 1}f} s".replace(".0 ", " ")


# The same words in Vega's expression language, for axis labels.
_LABEL_EXPR = (
    "datum.value >= 86400 ? format(datum.value / 86400, '~g') + ' d' : "
    "datum.value >= 3600 ? format(datum.value / 3600, '~g') + ' h' : "
    "datum.value >= 60 ? format(datum.value / 60, '~g') + ' min' : "
    "format(datum.value, '~g') + ' s'"
)


def log_latency_scale(seconds: Any) -> tuple[alt.Scale, alt.Axis]:
    """A log scale of latency seconds with ticks a person reads (1 s, 1 min, 1 h, 1 d).

    A log axis keeps a few extreme latencies from flattening everything else; the
    ticks are whole seconds, minutes, hours and days within the data's range.

    Examples
    --------
    >>> scale, axis = log_latency_scale([2, 40, 7200])
    >>> scale.type, axis.values
    ('log', [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 21600])
    """
    values = np.asarray(seconds, dtype="float64")
    values = values[~np.isnan(values)]
    top = max(float(values.max()) if values.size else FLOOR_S, FLOOR_S * 10)
    ticks = [t for t in _LOG_TICKS if t <= top]
    ticks += [next((t for t in _LOG_TICKS if t > top), _LOG_TICKS[-1])]
    scale = alt.Scale(type="log", domain=[FLOOR_S, ticks[-1]], clamp=True)
    axis = alt.Axis(values=ticks, labelExpr=_LABEL_EXPR, grid=True)
    return scale, axis


def auto_freq(times: pd.Series) -> str:
    """Meta's granularity that gives a readable number of buckets for this time span.

    Half-hours up to 2 days, days up to 200 days, months beyond.

    Examples
    --------
    >>> ts = pd.Series(pd.to_datetime(["2026-03-01", "2026-03-02"], utc=True))
    >>> auto_freq(ts), auto_freq(ts.iloc[:1]), auto_freq(ts + pd.to_timedelta([0, 30], "D"))
    ('half_hour', 'half_hour', 'day')
    """
    span = times.max() - times.min() if times.notna().any() else pd.Timedelta(0)
    if pd.isna(span) or span <= pd.Timedelta(days=2):
        return "half_hour"
    if span <= pd.Timedelta(days=200):
        return "day"
    return "month"


def resolve_freq(freq: str | None, times: pd.Series) -> str:
    """``freq`` in canonical form, or :func:`auto_freq` when ``None``/``"auto"``."""
    if freq is None or str(freq).lower() == "auto":
        return auto_freq(times)
    return normalise_freq(freq)


FREQ_WORDS = {"half_hour": "half-hour", "day": "day", "month": "month"}


def time_axis(freq: str, title: str | None = None) -> alt.X:
    """A UTC time x axis whose marks span their bucket (half-hour, day or month)."""
    unit, step, interval, fmt = {
        "half_hour": ("utcyearmonthdatehoursminutes", 30, None, "%b %d %H:%M"),
        "day": ("utcyearmonthdate", 1, "day", "%b %d"),
        "month": ("utcyearmonth", 1, "month", "%b %Y"),
    }[freq]
    axis = {"format": fmt}
    if interval is not None:  # one tick per bucket at most, never a repeated label
        axis["tickCount"] = alt.TimeIntervalStep(interval=interval, step=1)
    return alt.X(
        "bucket:T",
        timeUnit=alt.TimeUnitParams(unit=unit, step=step),
        title=title or f"{FREQ_WORDS[freq]} (UTC)",
        axis=alt.Axis(**axis),
    )


def bucket_tooltip(freq: str) -> alt.Tooltip:
    fmt = {"half_hour": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d", "month": "%Y-%m"}[freq]
    return alt.Tooltip("bucket:T", title=f"{FREQ_WORDS[freq]} from (UTC)", format=fmt)


def legend_selection(name: str = "group_pick") -> alt.Parameter:
    """Click a group in the legend to highlight it (shift-click for more)."""
    return alt.selection_point(fields=["group"], bind="legend", name=name)


def highlight_opacity(select: alt.Parameter) -> dict[str, Any]:
    """Groups picked with :func:`legend_selection` at full strength, the others faded."""
    return alt.condition(select, alt.value(1.0), alt.value(0.15))


def group_lines_over_time(
    table: pd.DataFrame,
    *,
    title: str,
    freq: str,
    style: GroupStyle,
    y: alt.Y,
    tooltip: Sequence[alt.Tooltip],
) -> alt.Chart:
    """One line per group across ``sent_at`` buckets, highlightable from the legend.

    ``table`` has ``group`` and ``bucket`` columns; ``tooltip`` lists what to show
    after the group and the bucket.
    """
    select = legend_selection()
    return (
        alt.Chart(table, title=title, width=560, height=220)
        .mark_line(point=True)
        .encode(
            x=time_axis(freq, f"sent, per {FREQ_WORDS[freq]} (UTC)"),
            y=y,
            color=style.color(),
            opacity=highlight_opacity(select),
            tooltip=[alt.Tooltip("group:N", title="group"), bucket_tooltip(freq), *tooltip],
        )
        .add_params(select)
    )
