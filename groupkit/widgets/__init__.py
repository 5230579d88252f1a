"""Notebook widgets: send and pin panels over the client, and an explorer over the analytics.

Each panel is an ``ipywidgets`` box a notebook can display, and also keeps its state in
plain attributes (``payload``, ``last_result``, ``selection``, ...) so a script or a test
can drive it through its fields' ``.value`` and its buttons' ``.click()``.

Nothing in groupkit imports this package: widgets sit on top of the client and the
analytics (see ``shared/STYLE.md``).

Examples
--------
>>> from groupkit import widgets
>>> sorted(widgets.__all__)
['Explorer', 'PinPanel', 'SendPanel']
"""

from groupkit.widgets.explorer import Explorer
from groupkit.widgets.pin import PinPanel
from groupkit.widgets.send import SendPanel

__all__ = ["Explorer", "PinPanel", "SendPanel"]
