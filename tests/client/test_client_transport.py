"""Faults a server cannot easily make, through httpx.MockTransport: timeouts, refused
connections, error-body shapes, routing per provider, and secrets staying hidden."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback

import httpx
import pytest

from groupkit.client import (
    APIError,
    AsyncGroupClient,
    ClientConfigError,
    GroupClient,
    RateLimitError,
    RetryPolicy,
    SendUncertainError,
    ServerError,
    TransportError,
)
from groupkit.client.errors import api_error_from_response
from tests.client.conftest import SECRET_KEY

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
OK_SEND = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": GROUP, "wa_id": GROUP}],
    "messages": [{"id": "wamid.OK"}],
}
OK_GROUPS = {"data": {"groups": [{"id": GROUP, "subject": "S", "created_at": "1760000000"}]}}


class Script:
    """A transport handler that plays a list of responses or exceptions, recording requests."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return httpx.Response(200, json=step)


def make_client(script, sleeps=None, **options) -> GroupClient:
    options.setdefault("api_key", SECRET_KEY)
    return GroupClient(
        transport=httpx.MockTransport(script),
        sleep=sleeps if sleeps is not None else (lambda s: None),
        **options,
    )


def test_360dialog_routing_and_header():
    script = Script(OK_SEND)
    with make_client(script) as client:
        client.send_text(GROUP, "hi")
    request = script.requests[0]
    assert str(request.url) == "https://waba-v2.360dialog.io/messages"
    assert request.headers["D360-API-KEY"] == SECRET_KEY
    assert "authorization" not in request.headers
    assert json.loads(request.content)["to"] == GROUP


def test_meta_routing_and_bearer_token():
    script = Script(OK_SEND, {"id": GROUP, "participants": [{"wa_id": "1650"}]}, OK_GROUPS)
    with make_client(script, api_key=None, access_token=SECRET_KEY, phone_number_id="106") as c:
        c.send_text(GROUP, "hi")
        c.group_info(GROUP, fields=["participants"])
        c.list_groups(page_size=10)
    send, info, groups = script.requests
    assert str(send.url) == "https://graph.facebook.com/v25.0/106/messages"
    assert send.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert info.url.path == f"/v25.0/{GROUP}" and info.url.params["fields"] == "participants"
    assert groups.url.path == "/v25.0/106/groups" and groups.url.params["limit"] == "10"


def test_connection_refused_is_retried_even_for_sends():
    script = Script(httpx.ConnectError("refused"), OK_SEND)
    with make_client(script) as client:
        sent = client.send_text(GROUP, "hi")
    assert sent.attempts == 2 and len(script.requests) == 2


def test_read_timeout_on_a_send_is_not_retried():
    script = Script(httpx.ReadTimeout("timed out"), OK_SEND)
    with make_client(script) as client, pytest.raises(SendUncertainError) as caught:
        client.send_text(GROUP, "hi")
    assert len(script.requests) == 1
    assert "ReadTimeout" in str(caught.value)


def test_read_timeout_on_a_send_is_retried_when_asked():
    script = Script(httpx.ReadTimeout("timed out"), OK_SEND)
    with make_client(script, retry=RetryPolicy(retry_uncertain_sends=True)) as client:
        assert client.send_text(GROUP, "hi").attempts == 2


@pytest.mark.parametrize(
    "fault", [httpx.ReadTimeout("t"), httpx.RemoteProtocolError("gone"), httpx.ReadError("reset")]
)
def test_reads_are_retried_after_any_transport_fault(fault):
    script = Script(fault, OK_GROUPS)
    with make_client(script) as client:
        assert [g.id for g in client.list_groups()] == [GROUP]
    assert len(script.requests) == 2


def test_remote_disconnect_on_a_send_is_uncertain():
    script = Script(httpx.RemoteProtocolError("Server disconnected"), OK_SEND)
    with make_client(script) as client, pytest.raises(SendUncertainError):
        client.send_text(GROUP, "hi")


def test_backoff_is_bounded_jittered_and_gives_up_after_max_attempts():
    delays: list[float] = []
    script = Script(httpx.ConnectError("refused"))
    policy = RetryPolicy(max_attempts=5, backoff=1.0, max_backoff=3.0, max_elapsed=100)
    with (
        make_client(script, delays.append, retry=policy) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.list_groups()
    assert len(script.requests) == 5 and caught.value.attempts == 5
    assert len(delays) == 4
    for attempt, delay in enumerate(delays, start=1):
        assert 0 <= delay <= min(3.0, 1.0 * 2 ** (attempt - 1))


def test_no_retry_when_the_time_budget_is_spent():
    script = Script(httpx.ConnectError("refused"))
    with (
        make_client(script, retry=RetryPolicy(max_elapsed=0)) as client,
        pytest.raises(TransportError),
    ):
        client.list_groups()
    assert len(script.requests) == 1


def test_client_errors_are_not_retried():
    body = {"error": {"code": 131009, "message": "(#131009) Parameter value is not valid"}}
    script = Script(httpx.Response(400, json=body))
    with make_client(script) as client, pytest.raises(APIError):
        client.send_text(GROUP, "hi")
    assert len(script.requests) == 1


def test_a_rate_limit_code_with_status_400_is_retried():
    body = {"error": {"code": 130429, "message": "(#130429) Rate limit hit"}}
    script = Script(httpx.Response(400, json=body), OK_SEND)
    with make_client(script) as client:
        assert client.send_text(GROUP, "hi").attempts == 2


def test_http_date_retry_after_is_understood():
    response = httpx.Response(
        429, json={"error": "slow down"}, headers={"Retry-After": "Thu, 01 Jan 2099 00:00:00 GMT"}
    )
    with make_client(Script(response)) as client, pytest.raises(RateLimitError) as caught:
        client.list_groups()
    assert caught.value.retry_after > 10**9  # far beyond the budget: not waited for
    assert caught.value.attempts == 1


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {
                "error": {
                    "message": "(#131041) Group unknown",
                    "type": "OAuthException",
                    "code": 131041,
                    "error_data": {"messaging_product": "whatsapp", "details": "not found"},
                    "fbtrace_id": "Az8or2",
                }
            },
            {
                "code": 131041,
                "title": "Group unknown",
                "details": "not found",
                "fbtrace_id": "Az8or2",
            },
        ),
        (
            401,
            {"error": "Unauthorized - Invalid or missing D360-API-KEY"},
            {"code": None, "message": "Unauthorized - Invalid or missing D360-API-KEY"},
        ),
        (
            400,
            {
                "detail": {
                    "error": {
                        "message": "(#100) Invalid parameter",
                        "code": 100,
                        "error_data": {"details": "Message must be a template message."},
                        "fbtrace_id": "AS8Uhx",
                    }
                }
            },
            {"code": 100, "title": "Invalid parameter", "fbtrace_id": "AS8Uhx"},
        ),
        (422, {"detail": "Invalid group id"}, {"code": None, "message": "Invalid group id"}),
        (
            500,
            {"error": {"message": "(#131000) Something went wrong", "is_transient": True}},
            {"code": 131000, "is_transient": True},
        ),
    ],
)
def test_error_bodies_of_meta_and_360dialog(status, body, expected):
    err = api_error_from_response(status, json.dumps(body).encode())
    for name, value in expected.items():
        assert getattr(err, name) == value
    assert err.status_code == status


def test_non_json_error_body_is_kept_as_text():
    err = api_error_from_response(502, b"<html>Bad gateway</html>")
    assert isinstance(err, ServerError)
    assert err.body == "<html>Bad gateway</html>"
    assert "Bad gateway" in str(err)


def test_error_message_adds_the_catalogue_advice():
    err = api_error_from_response(400, b'{"error": {"code": 131047}}')
    assert "Send an approved template instead" in str(err)
    assert "retry: no: switch to a template" in str(err)


# -- secrets ---------------------------------------------------------------------------------


def test_the_key_is_not_in_the_repr_of_the_client_or_its_parts():
    with make_client(Script(OK_SEND)) as client:
        shown = repr(client) + repr(client._core) + repr(client._core.auth) + repr(vars(client))
        shown += repr(vars(client._core)) + repr(client._http.headers)
    assert SECRET_KEY not in shown


def test_an_error_body_echoing_the_key_is_scrubbed():
    echo = httpx.Response(401, json={"error": f"key {SECRET_KEY} is not valid"})
    with make_client(Script(echo)) as client, pytest.raises(APIError) as caught:
        client.send_text(GROUP, "hi")
    err = caught.value
    text = "".join(traceback.format_exception(err)) + repr(err.body) + repr(vars(err))
    assert SECRET_KEY not in text
    assert "<secret>" in str(err)


def test_transport_errors_and_their_tracebacks_hide_the_key():
    class Leaky(httpx.ConnectError):
        pass

    script = Script(Leaky(f"could not connect with {SECRET_KEY}"))
    with (
        make_client(script, retry=RetryPolicy(max_attempts=2)) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.list_groups()
    text = "".join(traceback.format_exception(caught.value))
    assert SECRET_KEY not in text
    assert "Leaky" in text
    # Nothing chained either: the httpx request (with the credential header) stays unreachable.
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_no_log_line_shows_the_key(caplog):
    with caplog.at_level(logging.DEBUG):
        with make_client(Script(OK_SEND)) as client:
            client.send_text(GROUP, "hi")
        with (
            make_client(
                Script(httpx.Response(500, json={})), retry=RetryPolicy(max_attempts=2)
            ) as client,
            pytest.raises(ServerError),
        ):
            client.send_text(GROUP, "hi")
    assert caplog.records  # httpx did log the requests
    assert SECRET_KEY not in caplog.text


def test_credentials_cannot_be_pickled():
    import pickle

    with make_client(Script(OK_SEND)) as client, pytest.raises(TypeError):
        pickle.dumps(client._core._secret)


# -- configuration ---------------------------------------------------------------------------


def test_from_env_prefers_360dialog():
    env = {"D360_API_KEY": SECRET_KEY, "WHATSAPP_ACCESS_TOKEN": "t"}
    with GroupClient.from_env(env) as client:
        assert client.provider == "360dialog"
        assert client.base_url == "https://waba-v2.360dialog.io"


def test_from_env_meta_needs_the_phone_number_id():
    with GroupClient.from_env(
        {"WHATSAPP_ACCESS_TOKEN": SECRET_KEY, "WHATSAPP_PHONE_NUMBER_ID": "106"}
    ) as client:
        assert client.provider == "meta"
        assert client.base_url == "https://graph.facebook.com/v25.0"
    with pytest.raises(ClientConfigError, match="WHATSAPP_PHONE_NUMBER_ID") as caught:
        GroupClient.from_env({"WHATSAPP_ACCESS_TOKEN": SECRET_KEY})
    assert SECRET_KEY not in str(caught.value)


def test_from_env_without_credentials_names_the_variables():
    with pytest.raises(ClientConfigError, match="D360_API_KEY"):
        GroupClient.from_env({})


def test_exactly_one_credential():
    with pytest.raises(ClientConfigError, match="exactly one"):
        GroupClient(api_key="a", access_token="b", phone_number_id="1")
    with pytest.raises(ClientConfigError, match="exactly one"):
        GroupClient()


# -- async -----------------------------------------------------------------------------------


def test_async_client_retries_and_refuses_uncertain_sends_like_the_sync_one():
    async def main():
        connect_then_ok = Script(httpx.ConnectError("refused"), OK_SEND)
        timeout = Script(httpx.ReadTimeout("t"), OK_SEND)

        async def no_sleep(_):
            return None

        async with AsyncGroupClient(
            api_key=SECRET_KEY, transport=httpx.MockTransport(connect_then_ok), sleep=no_sleep
        ) as client:
            sent = await client.send_text(GROUP, "hi")
        async with AsyncGroupClient(
            api_key=SECRET_KEY, transport=httpx.MockTransport(timeout), sleep=no_sleep
        ) as client:
            with pytest.raises(SendUncertainError):
                await client.send_text(GROUP, "hi")
        return sent, len(timeout.requests)

    sent, timeout_requests = asyncio.run(main())
    assert sent.attempts == 2 and sent.message_id == "wamid.OK"
    assert timeout_requests == 1
