"""The report's tables: the groups table (sortable, pageable) and small static ones.

The groups table is plain HTML with a few lines of inlined JavaScript
(:data:`TABLE_SCRIPT`): a click on a heading sorts by that column, a box filters,
and the table shows a page of groups at a time, so it stays readable with a
thousand groups.  Cells show units a person reads (``45 s``, ``12 min``, ``3.5 h``,
``97.2 %``) and carry their number in ``data-v``, so sorting is by value.  The
group's name is shown with its full id on hover, and the whole table, full ids
included, downloads as CSV from a link on the page.  Without JavaScript every
group is listed, in the stated order.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import pandas as pd

from groupkit.charts._style import seconds_words

__all__ = [
    "GROUP_COLUMNS",
    "SORT_NOTE",
    "TABLE_CSS",
    "TABLE_SCRIPT",
    "groups_table_html",
    "static_table_html",
]

# summary column -> (header shown, how it is shown, what it means: the header's tooltip)
GROUP_COLUMNS: dict[str, tuple[str, str, str]] = {
    "group": ("Group", "text", "The group's subject, else the end of its id; hover for the id."),
    "messages": ("Messages", "int", "Business messages sent to the group."),
    "recipients": (
        "Receipts",
        "int",
        "Recipients of every message (members at send time where the archive has "
        "membership, else the participants that reported; a message whose recipients "
        "are unknown counts once).",
    ),
    "delivered_rate": ("Delivered", "rate", "Share of receipts delivered (read included)."),
    "read_rate": ("Read", "rate", "Share of receipts read."),
    "failed_rate": ("Failed", "rate", "Share of receipts failed."),
    "messages_failed": ("Failed msgs", "int", "Messages with a failed receipt."),
    "pending_rate": ("Pending", "rate", "Share of receipts with nothing reported yet."),
    "delivery_p50_s": ("Delivery p50", "duration", "Median time from sent to delivered."),
    "delivery_p90_s": ("Delivery p90", "duration", "90th percentile, sent to delivered."),
    "read_p50_s": ("Read p50", "duration", "Median time from sent to read."),
    "read_p90_s": ("Read p90", "duration", "90th percentile, sent to read."),
    "coverage": ("Read in 1 h", "rate", "Share of members at send time who read within 1 h."),
    "top_error": ("Top delivery error", "text", "The most frequent delivery failure code."),
}
SORT_KEY = "delivery_p90_s"
SORT_NOTE = (
    "Sorted by delivery p90, slowest first. Click a column heading to sort by it (again "
    "to reverse), type in the box to filter; the table shows 25 groups a page."
)

# Column widths (% of the table) that fit 1,280 px with every number on one line.
_WIDTHS = {"group": 12, "top_error": 15}

TABLE_CSS = """
.gk-table { font-size: .85rem; max-width: 100%; }
.gk-table table { table-layout: fixed; width: 100%; border-collapse: collapse; }
.gk-table th, .gk-table td { padding: .25rem .3rem; border-bottom: 1px solid #eee;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; text-align: right; }
.gk-table th { background: #f6f6f6; white-space: normal; vertical-align: bottom;
  font-size: .75rem; cursor: pointer; user-select: none; text-overflow: clip; }
.gk-table th:first-child, .gk-table td:first-child,
.gk-table th:last-child, .gk-table td:last-child { text-align: left; }
.gk-table th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: .7em; }
.gk-table th[aria-sort="descending"]::after { content: " \\25BC"; font-size: .7em; }
/* The name and the error keep inside their cells; their tooltips hold the full text. */
.gk-table .err { display: block; overflow: hidden; text-overflow: ellipsis; }
.gk-table .gname { display: inline-block; max-width: calc(100% - 1.1rem); overflow: hidden;
  text-overflow: ellipsis; vertical-align: bottom; }
.gk-table tbody tr:nth-child(even) { background: #fafafa; }
.gk-table tbody tr:hover { background: #eef4fb; }
.gk-controls, .gk-footer { display: flex; justify-content: space-between;
  align-items: center; gap: 1rem; margin: .4rem 0; color: #444; }
.gk-controls input { width: 16rem; }
"""

# Sort, filter and page one .gk-table; every table on the page gets its own state.
TABLE_SCRIPT = """
document.querySelectorAll('.gk-table').forEach((box) => {
  const body = box.querySelector('tbody');
  const heads = Array.from(box.querySelectorAll('thead th'));
  const rows = Array.from(body.rows);
  const info = box.querySelector('.gk-info');
  const search = box.querySelector('.gk-search');
  const size = box.querySelector('.gk-length');
  const state = {col: Number(box.dataset.sortColumn), desc: box.dataset.sortOrder === 'desc',
                 page: 0, length: Number(size.value)};
  const key = (row) => {
    const v = row.cells[state.col].dataset.v;
    return v === undefined || v === '' ? null : (heads[state.col].dataset.kind === 'text'
      ? v : Number(v));
  };
  const draw = () => {
    const words = search.value.trim().toLowerCase();
    const shown = rows.filter((r) => !words || r.dataset.text.includes(words));
    shown.sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === null || y === null) { return x === null ? (y === null ? 0 : 1) : -1; }
      const c = x < y ? -1 : x > y ? 1 : 0;
      return state.desc ? -c : c;
    });
    const length = state.length > 0 ? state.length : shown.length || 1;
    const pages = Math.max(1, Math.ceil(shown.length / length));
    state.page = Math.min(state.page, pages - 1);
    const first = state.page * length;
    rows.forEach((r) => { r.hidden = true; });
    shown.forEach((r, i) => { body.appendChild(r); r.hidden = i < first || i >= first + length; });
    heads.forEach((h, i) => h.setAttribute('aria-sort',
      i === state.col ? (state.desc ? 'descending' : 'ascending') : 'none'));
    const last = Math.min(first + length, shown.length);
    info.textContent = shown.length === 0 ? 'No group matches'
      : `Groups ${first + 1} to ${last} of ${shown.length}` +
        (shown.length < rows.length ? ` (filtered from ${rows.length})` : '');
    box.querySelector('.gk-page').textContent = `page ${state.page + 1} of ${pages}`;
    box.querySelector('.gk-prev').disabled = state.page === 0;
    box.querySelector('.gk-next').disabled = state.page >= pages - 1;
  };
  heads.forEach((h, i) => h.addEventListener('click', () => {
    state.desc = i === state.col ? !state.desc : h.dataset.kind !== 'text';
    state.col = i; state.page = 0; draw();
  }));
  search.addEventListener('input', () => { state.page = 0; draw(); });
  size.addEventListener('change', () => {
    state.length = Number(size.value); state.page = 0; draw();
  });
  box.querySelector('.gk-prev').addEventListener('click', () => { state.page -= 1; draw(); });
  box.querySelector('.gk-next').addEventListener('click', () => { state.page += 1; draw(); });
  draw();
});
"""


def _number(value: Any) -> str:
    return "" if pd.isna(value) else repr(float(value))


def _cell(kind: str, value: Any) -> str:
    """A numeric cell: the value in ``data-v``, shown in units a person reads."""
    if pd.isna(value):
        return '<td data-v=""></td>'
    if kind == "int":
        text = f"{int(value):,}"
    elif kind == "rate":
        text = f"{100 * float(value):.1f} %"
    else:
        text = seconds_words(float(value))
    return f'<td data-v="{_number(value)}">{html.escape(text)}</td>'


def _group_cell(row: Any, colours: dict[str, str]) -> str:
    swatch = colours.get(row.group_id)
    dot = f'<span class="swatch" style="background:{swatch}"></span>' if swatch else ""
    name = html.escape(str(row.group))
    return (
        f'<td data-v="{name.lower()}">{dot}'
        f'<span class="gname" title="{html.escape(row.group_id)}">{name}</span></td>'
    )


def _error_cell(row: Any) -> str:
    if pd.isna(row.top_error_code):
        return '<td data-v=""></td>'
    code = int(row.top_error_code)
    title = html.escape(str(row.top_error_title)) if isinstance(row.top_error_title, str) else ""
    advice = html.escape(str(row.advice)) if isinstance(row.advice, str) else ""
    return (
        f'<td data-v="{code}"><span class="err" title="{code} {title}: {advice}">'
        f"{code} {title} ({int(row.top_error_count):,})</span></td>"
    )


def _csv_link(summary: pd.DataFrame) -> str:
    data = base64.b64encode(summary.to_csv(index=False).encode("utf-8")).decode("ascii")
    return (
        f'<a class="csv" download="groups.csv" href="data:text/csv;base64,{data}">'
        "Download this table as CSV</a> (every column of groupkit.group_summary, full group ids)"
    )


def groups_table_html(
    summary: pd.DataFrame, *, colours: dict[str, str] | None = None, page_length: int = 25
) -> str:
    """The groups table: every group, sortable, filterable and paged in the browser.

    Parameters
    ----------
    summary
        :func:`groupkit.group_summary`, with an ``advice`` column for the top error.
    colours
        ``group_id -> colour`` of the groups the charts highlight (a swatch).
    page_length
        Groups per page (the reader can choose another).

    Returns
    -------
    str
        The sort note, the table with its controls, and the CSV link.  The page
        needs :data:`TABLE_CSS` and :data:`TABLE_SCRIPT` once.

    Examples
    --------
    >>> summary = pd.DataFrame({
    ...     "group": ["Runners"], "group_id": ["G1"], "messages": [3], "recipients": [9],
    ...     "messages_failed": [0],
    ...     "delivered_rate": [1.0], "read_rate": [0.5], "failed_rate": [0.0],
    ...     "pending_rate": [0.0], "delivery_p50_s": [2.0], "delivery_p90_s": [5.0],
    ...     "read_p50_s": [60.0], "read_p90_s": [7200.0], "coverage": [0.4],
    ...     "top_error_code": pd.array([None], "Int64"), "top_error_title": [None],
    ...     "top_error_count": [0], "advice": [None]})
    >>> page = groups_table_html(summary)
    >>> 'title="G1"' in page, ">2 h</td>" in page, ">50.0 %</td>" in page, "groups.csv" in page
    (True, True, True, True)
    """
    colours = colours or {}
    shown = summary.sort_values([SORT_KEY, "group_id"], ascending=[False, True], na_position="last")
    heads, cols = [], []
    for name, (label, kind, tip) in GROUP_COLUMNS.items():
        heads.append(
            f'<th data-kind="{kind}" title="{html.escape(tip)}" scope="col">'
            f"{html.escape(label)}</th>"
        )
        width = _WIDTHS.get(name)
        cols.append(f'<col style="width:{width}%">' if width else "<col>")
    rows = []
    for row in shown.itertuples(index=False):
        cells = []
        for name, (_, kind, _) in GROUP_COLUMNS.items():
            if name == "group":
                cells.append(_group_cell(row, colours))
            elif name == "top_error":
                cells.append(_error_cell(row))
            else:
                cells.append(_cell(kind, getattr(row, name)))
        code = "" if pd.isna(row.top_error_code) else int(row.top_error_code)
        words = f"{row.group} {row.group_id} {code}"
        rows.append(f'<tr data-text="{html.escape(words.lower())}">{"".join(cells)}</tr>')
    lengths = [10, 25, 50, 100, 0]
    if page_length not in lengths:
        lengths.insert(0, page_length)
    options = "".join(
        f'<option value="{n}"{" selected" if n == page_length else ""}>{n or "all"}</option>'
        for n in lengths
    )
    sort_column = list(GROUP_COLUMNS).index(SORT_KEY)
    table = (
        f'<div class="gk-table" id="groups-table" data-sort-column="{sort_column}" '
        'data-sort-order="desc">'
        '<div class="gk-controls"><label>Show <select class="gk-length" '
        f'aria-label="Groups per page">{options}</select> groups a page</label>'
        '<input type="search" class="gk-search" placeholder="Filter by name, id or error code"'
        ' aria-label="Filter groups"></div>'
        f"<table><colgroup>{''.join(cols)}</colgroup>"
        f"<thead><tr>{''.join(heads)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        '<div class="gk-footer"><span class="gk-info"></span><span>'
        '<button type="button" class="gk-prev">Previous</button> '
        '<span class="gk-page"></span> '
        '<button type="button" class="gk-next">Next</button></span></div></div>'
    )
    return (
        f'<p class="note">{html.escape(SORT_NOTE)}</p>\n{table}\n'
        f'<p class="note">{_csv_link(summary)}</p>'
    )


def static_table_html(frame: pd.DataFrame, formats: dict[str, Any] | None = None) -> str:
    """A small plain table (errors, the load report): formatted cells, escaped text.

    Examples
    --------
    >>> page = static_table_html(pd.DataFrame({"a": [0.5]}), {"a": "{:.0%}".format})
    >>> page.split("<tbody>")[1]
    '<tr><td>50%</td></tr></tbody></table>'
    """
    formats = formats or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, values, strict=True):
            if pd.isna(value):
                text = ""
            elif column in formats:
                text = formats[column](value)
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def duration_text(seconds: float) -> str:
    """Seconds as a person reads them (see :func:`groupkit.charts._style.seconds_words`).

    Examples
    --------
    >>> duration_text(5485.0)
    '1.5 h'
    """
    return seconds_words(seconds)
