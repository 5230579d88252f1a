"""A local sandbox of the WhatsApp Groups API, for tests and notebooks with no account.

Examples
--------
>>> from groupkit.sandbox import serve
>>> with serve(groups=1, seed=0) as sandbox:
...     sandbox.url.startswith("http://127.0.0.1:")
True
"""

from groupkit.sandbox._emitter import signature
from groupkit.sandbox.server import Sandbox, serve

__all__ = ["Sandbox", "serve", "signature"]
