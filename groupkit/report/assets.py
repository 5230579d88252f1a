"""The JavaScript the report inlines: Vega, Vega-Lite and vega-embed, from vl-convert.

``vl-convert-python`` (the ``report`` extra) ships the vega-embed bundle, so the page
needs no network.
"""

from __future__ import annotations

from groupkit.exceptions import GroupkitError

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
    try:
        import vl_convert
    except ImportError as exc:
        raise GroupkitError(
            "the HTML report inlines Vega from vl-convert-python, which is not installed; "
            f"run: {INSTALL_HINT}"
        ) from exc
    from altair.utils._importers import vl_version_for_vl_convert

    return vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())
