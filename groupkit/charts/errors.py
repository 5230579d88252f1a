"""Error charts: counts by code (with titles) over time, and by group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from groupkit.analytics import error_catalog, error_summary
from groupkit.charts._style import (
    FREQ_WORDS,
    GroupStyle,
    bucket_tooltip,
    group_style,
    mean_per_pooled_group,
    resolve_freq,
    time_axis,
)

__all__ = ["errors_by_group", "errors_over_time"]


def _code_label(summary: pd.DataFrame) -> pd.Series:
    code = summary["code"].astype("string").fillna("no code")
    title = summary["title"].fillna("untitled")
    return (code + " · " + title).astype("str")


def _advice(summary: pd.DataFrame) -> pd.Series:
    advice = error_catalog().set_index("code")["advice"]
    return summary["code"].map(advice).fillna("see the error's documentation").astype("str")


def _code_colour(labels: pd.Series) -> alt.Color:
    domain = sorted(labels.unique())
    return alt.Color(
        "error:N",
        sort=domain,
        scale=alt.Scale(domain=domain, scheme="tableau20"),
        legend=alt.Legend(title="error code", labelLimit=320),
    )


def errors_over_time(
    archive: Any, *, freq: str | None = None, origin: str | Sequence[str] | None = None
) -> alt.Chart:
    """Errors per time bucket, stacked by code and titled from the catalogue.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    freq
        ``"half_hour"``, ``"day"``, ``"month"``; ``None`` picks one from the time span.
    origin
        Only errors that sat there, as :func:`groupkit.error_summary`'s ``origin``
        (``"status"`` for delivery failures, ``"message"`` for inbound errors).

    Returns
    -------
    altair.Chart
        Data: ``bucket, code, title, error`` (code and title), ``count``, ``family``,
        ``advice``: :func:`groupkit.error_summary` with ``freq``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from groupkit import schema
    >>> errors = schema.empty_frame("errors").reindex(range(2))
    >>> errors["code"] = pd.array([131049, 131049], dtype="Int64")
    >>> errors["timestamp"] = pd.to_datetime(["2026-03-01 10:00"] * 2, utc=True)
    >>> errors_over_time(SimpleNamespace(errors=errors), freq="day").data[
    ...     ["error", "count"]].values.tolist()
    [['131049 · Meta chose not to deliver', 2]]
    """
    freq = resolve_freq(freq, archive.errors["timestamp"])
    summary = error_summary(archive, freq=freq, origin=origin)
    table = summary[["bucket", "code", "title", "family", "count"]].copy()
    table["error"] = _code_label(summary)
    table["advice"] = _advice(summary)
    return (
        alt.Chart(
            table,
            title=f"{_ORIGIN_WORDS.get(_key(origin), 'Errors')} per {FREQ_WORDS[freq]}, by code",
            width=560,
            height=220,
        )
        .mark_bar()
        .encode(
            x=time_axis(freq),
            y=alt.Y("count:Q", title="errors", stack="zero"),
            color=_code_colour(table["error"]),
            tooltip=[
                alt.Tooltip("error:N", title="error"),
                bucket_tooltip(freq),
                alt.Tooltip("count:Q", title="errors", format=","),
                alt.Tooltip("family:N", title="family"),
                alt.Tooltip("advice:N", title="what to do"),
            ],
        )
    )


def errors_by_group(
    archive: Any, *, style: GroupStyle | None = None, origin: str | Sequence[str] | None = None
) -> alt.Chart:
    """Errors per group, stacked by code.

    Errors without a group (e.g. webhook-level) are under ``"no group"``.  The
    groups the style pools are one bar, ``"other groups"``, that shows the *mean
    per pooled group*, so that forty quiet groups do not dwarf the ones named.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    style
        Group labels and colours (:func:`group_style`); groups beyond its
        ``max_groups`` are pooled as ``"other groups"``.
    origin
        Only errors that sat there, as :func:`groupkit.error_summary`'s ``origin``.

    Returns
    -------
    altair.Chart
        Data: ``group, code, error, count, groups, advice``: :func:`groupkit.error_summary`
        with ``by="group_id"``, summed per group label (``count`` is the mean per
        group for ``"other groups"``, and ``groups`` how many groups a bar stands for).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from groupkit import schema
    >>> errors = schema.empty_frame("errors").reindex(range(3))
    >>> errors["code"] = pd.array([131049, 131049, 131026], dtype="Int64")
    >>> errors["group_id"] = ["G1", "G1", None]
    >>> errors["timestamp"] = pd.to_datetime(["2026-03-01 10:00"] * 3, utc=True)
    >>> chart = errors_by_group(SimpleNamespace(errors=errors))
    >>> chart.data[["group", "code", "count"]].values.tolist()
    [['no group', 131026, 1.0], ['…G1', 131049, 2.0]]
    """
    if style is None:
        style = group_style(archive.errors.dropna(subset=["group_id"]))
    summary = error_summary(archive, by="group_id", origin=origin)
    summary["group"] = style.label(summary["group_id"]).where(
        summary["group_id"].notna(), "no group"
    )
    summary["error"] = _code_label(summary)
    table = (
        summary.groupby(["group", "code", "error"], sort=True, dropna=False)["count"]
        .sum()
        .reset_index()
    )
    note = mean_per_pooled_group(table, style, summary["group_id"], ["count"])
    table["advice"] = _advice(table)
    title = _ORIGIN_WORDS.get(_key(origin), "Errors") + " per group, by code" + note
    return (
        alt.Chart(table, title=title, width=520)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None, sort=[*style.domain, "no group"]),
            x=alt.X("count:Q", title="errors per group", stack="zero"),
            color=_code_colour(table["error"]),
            tooltip=[
                alt.Tooltip("group:N", title="group"),
                alt.Tooltip("error:N", title="error"),
                alt.Tooltip("count:Q", title="errors (per group)", format=",.1f"),
                alt.Tooltip("groups:Q", title="groups in this bar", format=","),
                alt.Tooltip("advice:N", title="what to do"),
            ],
        )
    )


_ORIGIN_WORDS = {
    ("status",): "Delivery failures",
    ("message",): "Inbound messages WhatsApp could not pass on",
}


def _key(origin: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if origin is None:
        return None
    return (origin,) if isinstance(origin, str) else tuple(origin)
