"""Issue 20: a credential never leaks, and a request that never left says so.

- A key or token holding a control character (or whitespace at an end) is refused when
  the client, the async client or the sandbox is built, with a SecretError that quotes
  no form of it.
- No log record of groupkit, httpx or httpcore, at any level, holds a key.
- A request that never left raises NotSentError; one that may have reached the API on
  a send raises SendUncertainError.
- Widget state (SendPanel, PinPanel) never shows a key, whatever it holds.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groupkit import payloads
from groupkit.client import (
    APIError,
    AsyncGroupClient,
    GroupClient,
    NotSentError,
    RetryPolicy,
    SecretError,
    SendUncertainError,
    TransportError,
)
from groupkit.sandbox import serve
from groupkit.widgets import PinPanel, SendPanel
from tests.widgets.conftest import widget_text

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
OK_SEND = {"messages": [{"id": "wamid.OK"}]}
# Every C0 and C1 control, DEL, and the line/paragraph separators.
CONTROLS = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]] + ["\u2028", "\u2029"]
# What a key may hold: printable ASCII (a header carries nothing else).
PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8)


@st.composite
def keys_with_a_control(draw) -> str:
    """A plausible key with control characters (or whitespace) somewhere in it."""
    body = draw(PRINTABLE)
    bad = draw(st.text(st.sampled_from([*CONTROLS, " "]), min_size=1, max_size=3))
    where = draw(st.sampled_from(["end", "start", "middle"]))
    if where == "middle" and bad.strip(" "):
        return body[:4] + bad + body[4:]
    return body + bad if where == "end" else bad + body


def forms(secret: str) -> list[str]:
    """The ways a secret could show up in text: as is, repr'd, as bytes, as headers."""
    found = [secret, repr(secret)[1:-1], repr(secret.encode("utf-8", "replace"))[2:-1]]
    inner = secret.strip()
    if len(inner) >= 6:
        found.append(inner)
    found += [f"Bearer {secret}", f"D360-API-KEY: {secret}"]
    return found


def assert_hidden(secret: str, text: str) -> None:
    for form in forms(secret):
        assert form not in text, f"{form!r} shown"


def shown(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc.args) + repr(vars(exc))


# -- refused when built ---------------------------------------------------------------


def test_the_issues_key_read_from_a_file_is_refused_with_a_hint():
    key = "D360-SECRET-KEY-abc123\n"
    with pytest.raises(SecretError) as caught:
        GroupClient(api_key=key, base_url="http://127.0.0.1:9")
    assert "strip the trailing newline" in str(caught.value)
    assert not isinstance(caught.value, TransportError)  # not "may already have been accepted"
    assert_hidden(key, shown(caught.value))


def build_every_way(key: str) -> list:
    return [
        lambda: GroupClient(api_key=key),
        lambda: GroupClient(access_token=key, phone_number_id="106"),
        lambda: AsyncGroupClient(api_key=key),
        lambda: AsyncGroupClient(access_token=key, phone_number_id="106"),
        lambda: GroupClient.from_env({"D360_API_KEY": key}),
        lambda: AsyncGroupClient.from_env(
            {"WHATSAPP_ACCESS_TOKEN": key, "WHATSAPP_PHONE_NUMBER_ID": "106"}
        ),
        lambda: enter(serve(api_key=key)),
        lambda: enter(serve(app_secret=key)),
    ]


def enter(context) -> None:
    with context:
        pass


@settings(max_examples=60, deadline=None)
@given(key=keys_with_a_control())
def test_a_key_with_a_control_character_is_refused_everywhere_without_quoting_it(key):
    for build in build_every_way(key):
        with pytest.raises(SecretError) as caught:
            build()
        assert_hidden(key, shown(caught.value))


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_every_control_character_is_refused(control):
    with pytest.raises(SecretError):
        GroupClient(api_key=f"key-{control}-key")


def test_a_key_that_is_not_ascii_cannot_be_a_header():
    key = "clé-secrète-1234"
    with pytest.raises(SecretError, match="not ASCII") as caught:
        AsyncGroupClient(api_key=key)
    assert_hidden(key, shown(caught.value))


# -- never sent vs. maybe sent --------------------------------------------------------


def run(client_class, transport_fault=None, *, base_url=None, retry=None, op="send"):
    """Send (or list) once with either client; return the error raised and the tries made."""
    calls = []

    def handler(request):
        calls.append(request)
        raise transport_fault

    options = {"api_key": "k3y-k3y-k3y", "retry": retry or RetryPolicy(max_attempts=3)}
    if base_url is not None:
        options["base_url"] = base_url
    if client_class is GroupClient:
        if transport_fault is not None:
            options["transport"] = httpx.MockTransport(handler)
        with (
            GroupClient(sleep=lambda s: None, **options) as client,
            pytest.raises(TransportError) as caught,
        ):
            client.send_text(GROUP, "hi") if op == "send" else client.list_groups()
        return caught.value, len(calls)

    async def main():
        async def no_wait(seconds):
            return None

        if transport_fault is not None:
            options["transport"] = httpx.MockTransport(handler)
        async with AsyncGroupClient(sleep=no_wait, **options) as client:
            if op == "send":
                await client.send_text(GROUP, "hi")
            else:
                await client.list_groups()

    with pytest.raises(TransportError) as caught:
        asyncio.run(main())
    return caught.value, len(calls)


CLIENTS = pytest.mark.parametrize("client_class", [GroupClient, AsyncGroupClient])


# httpx raised -> what a send raises, and how many tries it made (3 allowed).
SEND_FAULTS = [
    (httpx.ConnectError("[Errno -2] Name or service not known"), NotSentError, 3),  # DNS
    (httpx.ConnectError("[Errno 111] Connection refused"), NotSentError, 3),
    (httpx.ConnectTimeout("timed out"), NotSentError, 3),
    (httpx.PoolTimeout("no connection free"), NotSentError, 3),
    (httpx.ProxyError("407 Proxy Authentication Required"), NotSentError, 3),
    # This side could not write the request: it would fail again, so no retry.
    (httpx.LocalProtocolError("Illegal header value b'x'"), NotSentError, 1),
    (httpx.UnsupportedProtocol("ftp"), NotSentError, 1),
    # The request may have reached the API: a send is not repeated by default.
    (httpx.ReadTimeout("timed out"), SendUncertainError, 1),
    (httpx.WriteTimeout("timed out"), SendUncertainError, 1),
    (httpx.ReadError("reset"), SendUncertainError, 1),
    (httpx.WriteError("broken pipe"), SendUncertainError, 1),
    (httpx.RemoteProtocolError("Server disconnected"), SendUncertainError, 1),
]


@CLIENTS
@pytest.mark.parametrize(("fault", "expected", "tries"), SEND_FAULTS, ids=repr)
def test_a_send_is_not_sent_or_uncertain_by_httpx_exception_class(
    client_class, fault, expected, tries
):
    err, made = run(client_class, fault)
    assert type(err) is expected and made == tries and err.attempts == tries
    if expected is NotSentError:
        assert "not sent" in str(err) and "may already have been accepted" not in str(err)
    else:
        assert "may already have been accepted" in str(err)


@CLIENTS
def test_a_read_that_failed_after_sending_is_a_plain_transport_error(client_class):
    err, tries = run(client_class, httpx.ReadTimeout("timed out"), op="list")
    assert type(err) is TransportError and tries == 3


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@CLIENTS
def test_connection_refused_for_real_is_not_sent(client_class):
    err, _ = run(client_class, base_url=f"http://127.0.0.1:{closed_port()}")
    assert type(err) is NotSentError and err.attempts == 3


@CLIENTS
def test_an_unsupported_scheme_for_real_is_not_sent_at_once(client_class):
    err, _ = run(client_class, base_url="ftp://127.0.0.1")
    assert type(err) is NotSentError and err.attempts == 1


# -- no log record holds a key -------------------------------------------------------


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(
            f"{r.name} {r.msg!s} {r.args!r} {r.getMessage()} {r.exc_text or ''}"
            for r in self.records
        )


@pytest.fixture
def all_logs(caplog):
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("httpx", "httpcore", "groupkit"):
        caplog.set_level(logging.DEBUG, logger=name)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


KEYS = ["D360-SECRET-KEY-abc123", "t0k3n_with%s{0}'\"chars", "EAAG" + "x" * 200]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("provider", ["360dialog", "meta"])
def test_a_full_round_trip_logs_no_key(all_logs, caplog, key, provider):
    credential = {"api_key": key} if provider == "360dialog" else {"access_token": key}
    with serve(seed=5, groups=2, api_key=key, failure_rate=0.0) as box:
        if provider == "meta":
            credential["phone_number_id"] = box.phone_number_id
        with GroupClient(base_url=box.url, **credential) as client:
            group = client.list_groups()[0].id
            sent = client.send_text(group, "hello")
            client.pin(group, sent.message_id, days=2)
            client.group_info(group)

        async def main():
            async with AsyncGroupClient(base_url=box.url, **credential) as client:
                groups = await client.list_groups()
                sent = await client.send_text(groups[0].id, "hello")
                await client.unpin(groups[0].id, sent.message_id)

        asyncio.run(main())
        with (
            GroupClient(base_url=box.url, api_key=key + "-wrong") as client,
            pytest.raises(APIError),
        ):
            client.send_text(group, "refused")
    names = {r.name.split(".")[0] for r in all_logs.records}
    assert {"httpx", "httpcore"} <= names  # the libraries did log, at DEBUG
    assert_hidden(key, all_logs.text() + caplog.text)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=PRINTABLE)
def test_failures_echoing_the_key_log_and_raise_no_key(all_logs, key):
    faults = [
        httpx.Response(401, json={"error": f"key {key} is not valid"}),
        httpx.LocalProtocolError(f"Illegal header value {key.encode()!r}"),
        httpx.ConnectError(f"could not connect with {key}"),
        httpx.ReadTimeout(f"read timed out for {key}"),
    ]
    for fault in faults:

        def handler(request, fault=fault):
            if isinstance(fault, Exception):
                raise fault
            return fault

        transport = httpx.MockTransport(handler)
        with (
            GroupClient(api_key=key, transport=transport, sleep=lambda s: None) as client,
            pytest.raises((APIError, TransportError)) as caught,
        ):
            client.send_text(GROUP, "hi")
        assert_hidden(key, shown(caught.value))
    assert_hidden(key, all_logs.text())


# -- widget state ----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(key=PRINTABLE)
def test_the_widgets_never_show_a_key(key):
    answers = [
        httpx.Response(401, json={"error": {"message": f"bad key {key}", "code": 190}}),
        httpx.LocalProtocolError(f"Illegal header value {key.encode()!r}"),
        httpx.ReadTimeout(f"timed out talking as {key}"),
        httpx.ConnectError(f"refused for {key}"),
    ]

    def handler(request):
        if request.method == "GET":  # the pin panel lists the groups
            return httpx.Response(200, json={"data": {"groups": [{"id": GROUP}]}})
        answer = answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = httpx.MockTransport(handler)
    retry = RetryPolicy(max_attempts=1)
    with GroupClient(api_key=key, transport=transport, retry=retry) as client:
        send = SendPanel(client, groups=[GROUP])
        send.text.value = "hello"
        sent = client._core.sent_message(
            client._core.message_call("send_text", payloads.text_message(GROUP, "x")),
            OK_SEND,
            1,
        )
        pin = PinPanel(client, sent=[sent])
        while answers:
            send.send_button.click()
            pin.pin_button.click()
            for panel in (send, pin):
                assert isinstance(panel.last_result, APIError | TransportError)
                assert_hidden(key, widget_text(panel) + shown(panel.last_result))
            answers.pop(0)


@settings(max_examples=25, deadline=None)
@given(key=keys_with_a_control())
def test_no_widget_can_hold_a_key_with_a_control_character(key):
    # The client is refused before any widget could show it.
    with pytest.raises(SecretError) as caught:
        SendPanel(GroupClient(api_key=key), groups=[GROUP])
    assert_hidden(key, shown(caught.value))
