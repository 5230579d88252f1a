"""GroupClient against the sandbox over real HTTP: sends, pins, listing, errors and retries."""

from __future__ import annotations

import json
from datetime import UTC

import pytest

from groupkit import payloads
from groupkit.catalog import CATALOG
from groupkit.client import (
    APIError,
    AuthenticationError,
    GroupClient,
    PayloadError,
    RateLimitError,
    RetryPolicy,
    SendUncertainError,
)
from groupkit.sandbox import serve
from tests.client.conftest import SECRET_KEY


def test_send_text_returns_the_accepted_message(sandbox, client):
    group_id = sandbox.group_ids[0]
    sent = client.send_text(group_id, "Practice moved to 7pm", preview_url=True)
    assert sent.message_id.startswith("wamid.")
    assert sent.group_id == group_id
    assert sent.type == "text"
    assert sent.payload == payloads.text_message(
        group_id, "Practice moved to 7pm", preview_url=True
    )
    assert sent.accepted_at.tzinfo is UTC
    assert sent.attempts == 1
    # The sandbox really received it and drew its fate for every participant.
    outcome = sandbox.outcomes[sent.message_id]
    assert outcome.group_id == group_id
    assert list(outcome.participants) == sandbox.participants(group_id)


@pytest.mark.parametrize("kind", payloads.MEDIA_KINDS)
def test_send_media_of_every_kind(sandbox, client, kind):
    sent = client.send_media(sandbox.group_ids[1], kind, media_id="4490709327384033")
    assert sent.type == kind
    assert sent.message_id in sandbox.outcomes


def test_send_template_reports_message_status(sandbox, client):
    sent = client.send_template(
        sandbox.group_ids[0],
        "order_update",
        "en_US",
        [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
    )
    assert sent.message_status == "accepted"


def test_pin_and_unpin_change_the_groups_pins(sandbox, client):
    group_id = sandbox.group_ids[0]
    first = client.send_text(group_id, "one")
    pin = client.pin(group_id, first.message_id, days=7)
    assert pin.type == "pin" and pin.message_id != first.message_id
    assert sandbox.pinned(group_id) == [first.message_id]
    client.unpin(group_id, first.message_id)
    assert sandbox.pinned(group_id) == []


def test_a_fourth_pin_unpins_the_oldest(sandbox, client):
    group_id = sandbox.group_ids[0]
    ids = [client.send_text(group_id, f"notice {n}").message_id for n in range(4)]
    for message_id in ids:
        client.pin(group_id, message_id, days=30)
    assert sandbox.pinned(group_id) == ids[1:]


def test_only_an_admin_can_pin(sandbox, client):
    group_id = sandbox.add_group("Not ours", ["16505550101", "16505550102"], admin=False)
    sent = client.send_text(group_id, "hello")
    with pytest.raises(APIError) as caught:
        client.pin(group_id, sent.message_id, days=1)
    assert caught.value.status_code == 403
    assert sandbox.pinned(group_id) == []


def test_unknown_group_error_carries_code_and_catalogue_advice(sandbox, client):
    with pytest.raises(APIError) as caught:
        client.send_text("Y2FwaV9ncm91cDpub3RoZXJl", "hello?")
    err = caught.value
    assert (err.status_code, err.code, err.title) == (400, 131041, "Group unknown")
    assert err.fbtrace_id
    assert err.details.startswith("The group was not found")
    assert CATALOG[131041].advice in str(err)
    assert err.retryable is False


def test_single_member_group_is_refused_with_131020(sandbox, client):
    group_id = sandbox.add_group("Just us")
    with pytest.raises(APIError) as caught:
        client.send_text(group_id, "anyone?")
    assert caught.value.code == 131020


def test_suspended_group_is_refused_with_131207(sandbox, client):
    group_id = sandbox.add_group("Bad", ["16505550101"], suspended=True)
    with pytest.raises(APIError) as caught:
        client.send_text(group_id, "hi")
    assert (caught.value.status_code, caught.value.code) == (403, 131207)


def test_list_groups_follows_the_cursor_across_pages(sleeps):
    with (
        serve(seed=5, groups=7, api_key=SECRET_KEY) as box,
        GroupClient(api_key=SECRET_KEY, base_url=box.url, sleep=sleeps) as client,
    ):
        before = box.requests
        groups = client.list_groups(page_size=2)
        assert box.requests - before == 4  # 2 + 2 + 2 + 1
        assert [g.id for g in groups] == box.group_ids
        assert all(g.subject and g.created_at is not None for g in groups)
        assert len(client.list_groups(page_size=3, max_groups=4)) == 4


def test_group_info_lists_the_participants(sandbox, client):
    group_id = sandbox.group_ids[2]
    info = client.group_info(group_id)
    assert info.id == group_id
    assert list(info.participants) == sandbox.participants(group_id)
    assert info.total_participant_count == len(info.participants)
    assert info.suspended is False
    assert info.created_at is not None


def test_create_group_returns_a_request_id_and_the_group_appears(sandbox, client):
    request_id = client.create_group("Runners", description="Saturdays")
    assert request_id.startswith("req.")
    assert "Runners" in [g.subject for g in client.list_groups()]


def test_meta_provider_uses_phone_number_paths_and_bearer_token(sandbox, sleeps):
    with GroupClient(
        access_token=SECRET_KEY,
        phone_number_id=sandbox.phone_number_id,
        base_url=sandbox.url + "/v25.0",
        sleep=sleeps,
    ) as client:
        assert client.provider == "meta"
        sent = client.send_text(sandbox.group_ids[0], "via Graph")
        assert sent.message_id in sandbox.outcomes
        assert client.group_info(sandbox.group_ids[0]).id == sandbox.group_ids[0]
        assert [g.id for g in client.list_groups()] == sandbox.group_ids


def test_meta_provider_with_the_wrong_phone_number_id(sandbox, sleeps):
    with (
        GroupClient(
            access_token=SECRET_KEY, phone_number_id="999", base_url=sandbox.url + "/v25.0"
        ) as client,
        pytest.raises(APIError) as caught,
    ):
        client.send_text(sandbox.group_ids[0], "hi")
    assert caught.value.code == 100


def test_wrong_key_is_an_authentication_error_without_the_key(sandbox):
    with (
        GroupClient(api_key="wrong-key-abc", base_url=sandbox.url) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.send_text(sandbox.group_ids[0], "hi")
    err = caught.value
    assert err.status_code == 401
    assert err.message == "Unauthorized - Invalid or missing D360-API-KEY"
    assert "wrong-key-abc" not in str(err)


def test_wrong_meta_token_is_code_190(sandbox):
    with (
        GroupClient(
            access_token="nope",
            phone_number_id=sandbox.phone_number_id,
            base_url=sandbox.url + "/v25.0",
        ) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.list_groups()
    assert caught.value.code == 190


def test_validation_happens_before_any_request(sandbox, client):
    before = sandbox.requests
    with pytest.raises(PayloadError, match="1 to 30"):
        client.pin(sandbox.group_ids[0], "wamid.X", days=0)
    with pytest.raises(PayloadError, match="empty"):
        client.send_text(sandbox.group_ids[0], " ")
    with pytest.raises(PayloadError, match="phone number"):
        client.send_text("16505551234", "hi")
    with pytest.raises(PayloadError, match="neither"):
        client.send_media(sandbox.group_ids[0], "video")
    with pytest.raises(PayloadError):
        client.group_info("not a group id")
    assert sandbox.requests == before


def test_retries_429_and_500_then_succeeds_honouring_retry_after(sandbox, client, sleeps):
    sandbox.fail_next("429", "500")
    sent = client.send_text(sandbox.group_ids[0], "eventually")
    assert sent.attempts == 3
    assert len(sleeps.delays) == 2
    assert sleeps.delays[0] >= sandbox.retry_after  # Retry-After: 1
    assert len(sandbox.outcomes) == 1


def test_gives_up_after_max_attempts_with_a_rate_limit_error(sandbox, client, sleeps):
    sandbox.fail_next("429", "429", "429", "429")
    with pytest.raises(RateLimitError) as caught:
        client.send_text(sandbox.group_ids[0], "never")
    assert caught.value.attempts == 4
    assert caught.value.retry_after == 1.0
    assert caught.value.code == 130429
    assert len(sleeps.delays) == 3
    assert sandbox.outcomes == {}


def test_does_not_wait_past_the_time_budget(sleeps):
    with (
        serve(seed=1, api_key=SECRET_KEY, retry_after=120) as box,
        GroupClient(
            api_key=SECRET_KEY,
            base_url=box.url,
            sleep=sleeps,
            retry=RetryPolicy(max_attempts=5, max_elapsed=30),
        ) as client,
    ):
        box.fail_next("429")
        with pytest.raises(RateLimitError) as caught:
            client.send_text(box.group_ids[0], "hi")
    assert caught.value.retry_after == 120
    assert sleeps.delays == []


def test_real_rate_limit_answers_429_with_retry_after(sleeps):
    with (
        serve(seed=1, api_key=SECRET_KEY, rate_limit=2, rate_window=60) as box,
        GroupClient(
            api_key=SECRET_KEY, base_url=box.url, retry=RetryPolicy(max_attempts=1)
        ) as client,
    ):
        client.send_text(box.group_ids[0], "1")
        client.send_text(box.group_ids[0], "2")
        with pytest.raises(RateLimitError) as caught:
            client.send_text(box.group_ids[0], "3")
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 1.0


def test_a_dropped_send_is_not_retried_because_it_was_accepted(sandbox, client, sleeps):
    sandbox.fail_next("drop")
    with pytest.raises(SendUncertainError) as caught:
        client.send_text(sandbox.group_ids[0], "did it go?")
    # The sandbox accepted the message before the connection dropped: a retry would duplicate it.
    assert len(sandbox.outcomes) == 1
    assert sleeps.delays == []
    assert caught.value.payload["text"]["body"] == "did it go?"
    assert "idempotency" in str(caught.value)


def test_retrying_uncertain_sends_on_request_duplicates_the_message(sandbox, sleeps):
    sandbox.fail_next("drop")
    with GroupClient(
        api_key=SECRET_KEY,
        base_url=sandbox.url,
        sleep=sleeps,
        retry=RetryPolicy(retry_uncertain_sends=True),
    ) as client:
        sent = client.send_text(sandbox.group_ids[0], "twice")
    assert sent.attempts == 2
    assert len(sandbox.outcomes) == 2  # exactly the duplicate the default protects against


def test_send_log_records_outcomes_without_secrets_or_text(sandbox, sleeps, tmp_path):
    log_path = tmp_path / "sends.jsonl"
    with GroupClient(
        api_key=SECRET_KEY, base_url=sandbox.url, sleep=sleeps, send_log=log_path
    ) as client:
        sent = client.send_text(sandbox.group_ids[0], "private words")
        client.pin(sandbox.group_ids[0], sent.message_id, days=3)
        with pytest.raises(APIError):
            client.send_text("Y2FwaV9ncm91cDpub3RoZXJl", "lost")
    text = log_path.read_text()
    assert SECRET_KEY not in text and "private words" not in text
    ok, pin, failed = [json.loads(line) for line in text.splitlines()]
    assert ok["kind"] == "groupkit.send" and ok["ok"] is True
    assert ok["message_id"] == sent.message_id
    assert ok["group_id"] == sandbox.group_ids[0]
    assert ok["accepted_at"] == pytest.approx(sent.accepted_at.timestamp())
    assert ok["requested_at"] <= ok["accepted_at"]
    assert (pin["type"], pin["pinned_message_id"], pin["expiration_days"]) == (
        "pin",
        sent.message_id,
        3,
    )
    assert failed["ok"] is False and failed["message_id"] is None
    assert (failed["error_code"], failed["http_status"]) == (131041, 400)


def test_async_client_against_the_sandbox(sandbox):
    import asyncio

    from groupkit.client import AsyncGroupClient

    async def main():
        async with AsyncGroupClient(api_key=SECRET_KEY, base_url=sandbox.url) as client:
            groups = await client.list_groups(page_size=1)
            sent = await client.send_text(groups[0].id, "async hello")
            await client.pin(groups[0].id, sent.message_id, days=2)
            info = await client.group_info(groups[0].id)
            with pytest.raises(APIError) as caught:
                await client.send_text("Y2FwaV9ncm91cDpub3RoZXJl", "x")
            return groups, sent, info, caught.value

    groups, sent, info, error = asyncio.run(main())
    assert [g.id for g in groups] == sandbox.group_ids
    assert sandbox.pinned(groups[0].id) == [sent.message_id]
    assert list(info.participants) == sandbox.participants(groups[0].id)
    assert error.code == 131041


def test_client_and_payload_modules_do_not_import_pandas():
    # STYLE.md: the client never imports pandas (the widgets and notebooks may).
    import ast
    import pathlib

    import groupkit

    root = pathlib.Path(groupkit.__file__).parent
    files = [*sorted((root / "client").glob("*.py")), root / "payloads.py", root / "catalog.py"]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(name.split(".")[0] == "pandas" for name in names), path.name
