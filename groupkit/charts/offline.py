"""Charts that render in a notebook without internet access, the way the report does.

Altair's default notebook output loads Vega from a CDN, so a notebook opened offline
(or behind a firewall) shows "Error loading script" instead of charts.
:func:`enable_offline` inlines the Vega, Vega-Lite and vega-embed JavaScript that
``vl-convert-python`` ships, once, in the output of the cell that calls it (as
plotly's offline mode does), and switches altair to a renderer whose
outputs draw with it.  Each chart's output is a small ``<div>`` and its spec; its id
comes from the spec, so re-running a notebook gives the same outputs.

Examples
--------
>>> html = chart_html({"mark": "bar", "data": {"values": []}}, number=0)
>>> "https://" in html, html.count("vegaEmbed(")
(False, 1)
"""

from __future__ import annotations

import functools
import hashlib
import html as html_lib
import itertools
import json
from typing import Any

import altair as alt

from groupkit.exceptions import GroupkitError

__all__ = ["READY_EVENT", "RENDERER", "chart_html", "enable_offline", "offline_bundle_html"]

RENDERER = "groupkit"
READY_EVENT = "groupkit-vega-ready"
INSTALL_HINT = "pip install 'groupkit[notebook]'"
_EMBED_OPTIONS = {"renderer": "svg", "actions": False}
_numbers = itertools.count()


def vega_bundle(needs: str, install_hint: str) -> str:
    """The vega-embed bundle (Vega and Vega-Lite included) from ``vl-convert-python``.

    The one reader of the bundle, for offline charts and for the HTML report; when
    the package is missing, the error says ``needs`` and the command to install it.

    Examples
    --------
    >>> "vegaEmbed" in vega_bundle("offline charts inline", INSTALL_HINT)
    True
    """
    try:
        import vl_convert  # noqa: F401
    except ImportError as exc:
        raise GroupkitError(
            f"{needs} Vega from vl-convert-python, which is not installed; run: {install_hint}"
        ) from exc
    return _vl_convert_bundle()


@functools.cache
def _vl_convert_bundle() -> str:
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    return vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())


def _bundle() -> str:
    return vega_bundle("offline charts inline", INSTALL_HINT)


def offline_bundle_html() -> str:
    """The HTML that defines ``window.vegaEmbed`` from the inlined bundle, then says so.

    Examples
    --------
    >>> page = offline_bundle_html()
    >>> "vegaEmbed" in page, "<script src" in page
    (True, False)
    """
    script = _bundle().replace("</script", "<\\/script")
    return (
        f"<script>{script}</script>"
        f"<script>window.dispatchEvent(new Event({json.dumps(READY_EVENT)}));</script>"
        '<div class="groupkit-offline" style="color:#777;font-size:smaller">'
        "Charts render offline: Vega is inlined in this cell's output "
        "(keep it when you save the notebook).</div>"
    )


def chart_html(spec: dict[str, Any], *, number: int | None = None) -> str:
    """A chart's output: a ``<div>`` and the script that draws ``spec`` into it.

    It draws with the ``window.vegaEmbed`` that :func:`enable_offline` defined, or
    waits for it; if it never comes, the ``<div>`` says what to run.

    Parameters
    ----------
    spec
        A Vega-Lite spec (``chart.to_dict()``).
    number
        Which chart of the session this is (part of the element id); the next
        one by default.

    Returns
    -------
    str

    Examples
    --------
    >>> chart_html({"mark": "point"}, number=3).startswith('<div id="groupkit-chart-')
    True
    """
    number = next(_numbers) if number is None else number
    text = json.dumps(spec, sort_keys=True)
    digest = hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]
    target = f"groupkit-chart-{digest}-{number}"
    missing = (
        "Vega is not loaded in this page: run groupkit.charts.enable_offline() "
        "(the notebook's first cell) again."
    )
    payload = text.replace("</", "<\\/")
    return (
        f'<div id="{target}" class="groupkit-chart"></div>\n'
        "<script>(function () {\n"
        f"  const target = {json.dumps('#' + target)};\n"
        f"  const spec = {payload};\n"
        f"  const draw = () => window.vegaEmbed(target, spec, {json.dumps(_EMBED_OPTIONS)})"
        ".catch((e) => { document.querySelector(target).textContent = String(e); });\n"
        "  if (window.vegaEmbed) { draw(); return; }\n"
        f"  window.addEventListener({json.dumps(READY_EVENT)}, draw, {{once: true}});\n"
        "  setTimeout(() => { if (!window.vegaEmbed) {\n"
        f"    document.querySelector(target).textContent = {json.dumps(missing)};\n"
        "  } }, 10000);\n"
        "})();</script>"
    )


def _render(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """The altair renderer: HTML that draws with the inlined Vega, and a text fallback."""
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    plain = f"<chart: {html_lib.unescape(str(title))}>" if title else "<chart>"
    return {"text/html": chart_html(spec), "text/plain": plain}


def enable_offline(*, display: bool = True) -> bool:
    """Make altair charts render offline in this notebook: Vega is inlined once.

    Call it in a notebook's first cell.  The cell's output then holds the Vega
    JavaScript (about 0.9 MB, from ``vl-convert-python``), and every chart after
    it draws with that copy: no CDN, no network.  Charts keep their tooltips and
    legend selections.

    Parameters
    ----------
    display
        Show the bundle in the calling cell's output (``False`` only switches the
        renderer, e.g. when another cell already showed it).

    Returns
    -------
    bool
        ``True`` once the renderer is on.

    Raises
    ------
    GroupkitError
        When ``vl-convert-python`` is missing, naming the extra to install.

    Examples
    --------
    >>> enable_offline(display=False), alt.renderers.active
    (True, 'groupkit')
    >>> _ = alt.renderers.enable("default")
    """
    _bundle()  # first, so a missing extra fails here and not at the first chart
    alt.renderers.register(RENDERER, _render)
    alt.renderers.enable(RENDERER)
    if display:
        from IPython.display import display as show

        show(
            {
                "text/html": offline_bundle_html(),
                "text/plain": "Charts render offline (Vega inlined from vl-convert).",
            },
            raw=True,
        )
    return True
