"""One self-contained HTML report of an archive: the answer first, then the evidence.

The page works offline: the Vega, Vega-Lite and vega-embed JavaScript comes from
``vl-convert-python`` (the ``report`` extra), inlined once, and the groups table
sorts and pages with a few lines of inlined JavaScript; each chart's spec carries
only aggregated data (see :mod:`groupkit.charts`).  ``groupkit report PATH -o
report.html`` writes it.

Examples
--------
>>> import groupkit
>>> page = build_report(groupkit.parse_webhooks([]), title="Empty")
>>> "<script src" in page, page.count("vegaEmbed(") >= 1
(False, True)
"""

from groupkit.report.assets import INSTALL_HINT, javascript_bundle
from groupkit.report.command import command, read_for_report, write_report
from groupkit.report.page import build_report, group_table

__all__ = [
    "INSTALL_HINT",
    "build_report",
    "command",
    "group_table",
    "javascript_bundle",
    "read_for_report",
    "write_report",
]
