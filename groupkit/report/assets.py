"""The JavaScript the report inlines: Vega, Vega-Lite and vega-embed, from vl-convert.

``vl-convert-python`` (the ``report`` extra) ships the vega-embed bundle, so the page
needs no network.
"""

from __future__ import annotations

from groupkit.charts.offline import vega_bundle

__all__ = ["INSTALL_HINT", "javascript_bundle"]

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
    return vega_bundle("the HTML report inlines", INSTALL_HINT)
