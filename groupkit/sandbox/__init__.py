"""A local sandbox of the WhatsApp Groups API, for tests and notebooks with no account.

Runs on uvicorn and starlette (the ``receiver`` extra): the rules and state in
:mod:`~groupkit.sandbox.state`, the HTTP in :mod:`~groupkit.sandbox.routes`, the
webhooks in :mod:`~groupkit.sandbox.emitter`.

Examples
--------
>>> from groupkit.sandbox import serve
>>> with serve(groups=1, seed=0) as sandbox:
...     sandbox.url.startswith("http://127.0.0.1:")
True
"""

from groupkit.sandbox.server import Sandbox, serve
from groupkit.signatures import sign as signature

__all__ = ["Sandbox", "serve", "signature"]
