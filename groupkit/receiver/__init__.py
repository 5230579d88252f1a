"""Capture live webhooks: ``groupkit receive`` and the ASGI app behind it.

Meta keeps no history of webhooks: an archive exists only if the business wrote
one. The receiver writes it: it answers Meta's subscription handshake, checks
every POST's signature in constant time, and answers 200 only once the raw body
is on disk, as one NDJSON line that :func:`groupkit.read_webhooks` reads, even
while the receiver is still writing. Needs the ``receiver`` extra (uvicorn and
starlette).

Examples
--------
>>> import tempfile, httpx, groupkit
>>> from groupkit.signatures import sign
>>> folder = tempfile.mkdtemp()
>>> secrets = ReceiverSecrets(app_secret=Secret("app-secret"))
>>> body = b'{"object": "whatsapp_business_account", "entry": []}'
>>> with serve(folder, secrets=secrets) as receiver:
...     answer = httpx.post(receiver.url + "/webhook", content=body,
...                         headers={"X-Hub-Signature-256": sign(body, "app-secret")})
>>> answer.status_code, groupkit.read_webhooks(folder).report.webhooks_parsed
(200, 1)
"""

from groupkit._asgi import require_server_stack

require_server_stack("groupkit.receiver")

from groupkit.receiver.app import DEFAULT_MAX_BODY, Receiver, app  # noqa: E402
from groupkit.receiver.secrets import (  # noqa: E402
    ReceiverError,
    ReceiverSecrets,
    Secret,
    load_secrets,
)
from groupkit.receiver.server import serve  # noqa: E402

__all__ = [
    "DEFAULT_MAX_BODY",
    "Receiver",
    "ReceiverError",
    "ReceiverSecrets",
    "Secret",
    "app",
    "load_secrets",
    "serve",
]
