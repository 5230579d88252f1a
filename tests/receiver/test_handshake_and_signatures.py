"""Meta's subscription handshake, and which POSTs get in: good, bad and missing signatures."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

import groupkit
from groupkit.receiver import ReceiverError, ReceiverSecrets, Secret, serve
from tests.receiver.conftest import APP_SECRET, D360_SECRET, VERIFY_TOKEN, signed, webhook


def handshake(http, **params):
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    query.update(params)
    return http.get("/webhook", params={k: v for k, v in query.items() if v is not None})


def archived_ids(receiver):
    archive = groupkit.read_webhooks(receiver.out, workers=1)
    assert archive.report.rejects == []
    return sorted(archive.statuses["message_id"])


def test_the_handshake_answers_the_challenge_when_the_token_matches(receiver, http):
    answer = handshake(http)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    assert answer.headers["content-type"].startswith("text/plain")
    assert receiver.metrics.snapshot()["handshakes_ok"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"hub.verify_token": "wrong-token"},
        {"hub.verify_token": VERIFY_TOKEN[:-1]},
        {"hub.verify_token": None},
        {"hub.mode": "unsubscribe"},
        {"hub.mode": None},
        {"hub.challenge": None},
    ],
    ids=["wrong", "prefix", "no-token", "other-mode", "no-mode", "no-challenge"],
)
def test_the_handshake_is_refused_with_403_otherwise(receiver, http, params):
    answer = handshake(http, **params)
    assert answer.status_code == 403
    assert "1158201444" not in answer.text
    assert receiver.metrics.snapshot()["handshakes_refused"] == 1


def test_without_a_verify_token_every_handshake_is_refused(tmp_path):
    secrets = ReceiverSecrets(app_secret=Secret(APP_SECRET))
    with serve(tmp_path, secrets=secrets) as receiver:
        answer = httpx.get(
            receiver.url,
            params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
        )
    assert answer.status_code == 403


def test_a_good_signature_is_archived_and_answered_200(receiver, http):
    body = webhook(1)
    answer = http.post("/webhook", content=body, headers=signed(body))
    assert answer.status_code == 200
    assert http.post("/", content=webhook(2), headers=signed(webhook(2))).status_code == 200
    assert archived_ids(receiver) == ["wamid.T1", "wamid.T2"]
    counts = receiver.metrics.snapshot()
    assert counts["accepted"] == 2 and counts["rejected_signature"] == 0
    assert counts["bytes_accepted"] == len(webhook(1)) + len(webhook(2))


@pytest.mark.parametrize(
    "header",
    [
        "sha256=" + "0" * 64,
        "sha256=" + hmac.new(b"another-secret", webhook(3), hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(APP_SECRET.encode(), webhook(4), hashlib.sha256).hexdigest(),
        "sha1=" + hmac.new(APP_SECRET.encode(), webhook(3), hashlib.sha1).hexdigest(),
        "sha256=not-hex",
        "",
    ],
    ids=["zeros", "other-secret", "other-body", "sha1", "not-hex", "empty"],
)
def test_a_bad_signature_gets_401_is_counted_and_not_archived(receiver, http, header):
    answer = http.post("/webhook", content=webhook(3), headers={"X-Hub-Signature-256": header})
    assert answer.status_code == 401
    assert receiver.metrics.snapshot()["rejected_signature_bad"] == 1
    assert receiver.metrics.snapshot()["accepted"] == 0
    assert archived_ids(receiver) == []


def test_a_missing_signature_gets_401_is_counted_and_not_archived(receiver, http):
    answer = http.post("/webhook", content=webhook(5), headers={"Content-Type": "application/json"})
    assert answer.status_code == 401
    assert answer.json() == {"error": "signature missing"}
    counts = receiver.metrics.snapshot()
    assert (counts["rejected_signature_missing"], counts["accepted"]) == (1, 0)
    assert archived_ids(receiver) == []
    assert "groupkit_receiver_rejected_signature_missing_total 1" in http.get("/metrics").text


def test_the_signature_covers_the_raw_bytes_which_the_archive_keeps_exactly(receiver, http):
    # Meta signs the body as sent, escaped unicode included: re-serialising would break it.
    body = b'{"object":"whatsapp_business_account","entry":[],"note":"caf\\u00e9 \xf0\x9f\x91\x8d"}'
    assert http.post("/", content=body, headers=signed(body)).status_code == 200
    record = groupkit.read_webhooks(receiver.out, workers=1)
    assert record.report.rejects == []
    (path,) = [p for p in receiver.out.iterdir() if p.name.endswith(".receiving.ndjson")]
    line = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert line["body"].encode("utf-8") == body
    assert hmac.compare_digest(
        signed(line["body"].encode())["X-Hub-Signature-256"], signed(body)["X-Hub-Signature-256"]
    )


@pytest.mark.parametrize("prefix", ["sha256=", ""], ids=["prefixed", "bare-hex"])
def test_360dialogs_signature_is_accepted_when_configured(tmp_path, prefix):
    secrets = ReceiverSecrets(d360_secret=Secret(D360_SECRET))
    body = webhook(6)
    digest = hmac.new(D360_SECRET.encode(), body, hashlib.sha256).hexdigest()
    with serve(tmp_path, secrets=secrets) as receiver, httpx.Client(base_url=receiver.url) as http:
        good = http.post("/", content=body, headers={"x-360dialog-signature": prefix + digest})
        bad = http.post("/", content=body, headers={"x-360dialog-signature": prefix + "1" * 64})
        meta_only = http.post("/", content=body, headers=signed(body, D360_SECRET))
    assert (good.status_code, bad.status_code, meta_only.status_code) == (200, 401, 401)


def test_360dialogs_header_is_not_enough_when_only_metas_secret_is_configured(receiver, http):
    body = webhook(7)
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = http.post("/", content=body, headers={"x-360dialog-signature": digest})
    assert answer.status_code == 401
    assert receiver.metrics.snapshot()["rejected_signature_missing"] == 1


def test_no_signature_secret_refuses_to_start_unless_unsigned_posts_are_allowed(tmp_path):
    with pytest.raises(ReceiverError, match="GROUPKIT_APP_SECRET"):
        groupkit.receiver.app(tmp_path, secrets=ReceiverSecrets())
    with (
        serve(tmp_path, secrets=ReceiverSecrets(), allow_unsigned=True) as receiver,
        httpx.Client(base_url=receiver.url) as http,
    ):
        assert http.post("/", content=webhook(8)).status_code == 200
    assert archived_ids(receiver) == ["wamid.T8"]


def test_allowing_unsigned_posts_still_checks_a_signature_that_is_there(tmp_path, secrets):
    with (
        serve(tmp_path, secrets=secrets, allow_unsigned=True) as receiver,
        httpx.Client(base_url=receiver.url) as http,
    ):
        unsigned = http.post("/", content=webhook(9))
        forged = http.post("/", content=webhook(10), headers=signed(webhook(10), "forged"))
    assert (unsigned.status_code, forged.status_code) == (200, 401)
    assert archived_ids(receiver) == ["wamid.T9"]
