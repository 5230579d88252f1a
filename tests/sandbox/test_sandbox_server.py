"""The sandbox as an HTTP server: its rules, its webhooks, signing, and clean shutdown."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from click.testing import CliRunner

from groupkit import payloads
from groupkit.cli import main
from groupkit.sandbox import Sandbox, serve, signature
from tests.helpers import wait_for

KEY = "sbx-key-7f3a"
APP_SECRET = "app-secret-never-printed-99"


def archive_hooks(path):
    file = path / "sandbox-webhooks.ndjson"
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines()]


def statuses_of(hooks):
    out = []
    for record in hooks:
        for entry in record["body"]["entry"]:
            for change in entry["changes"]:
                out.extend(change["value"].get("statuses", []))
    return out


@pytest.fixture
def box(tmp_path):
    with serve(seed=21, api_key=KEY, archive=tmp_path, failure_rate=0.0) as sandbox:
        yield sandbox


def post(box, body, headers=None):
    headers = {"D360-API-KEY": KEY} if headers is None else headers
    with httpx.Client(base_url=box.url) as http:
        return http.post("/messages", json=body, headers=headers)


def test_missing_key_is_401_in_360dialogs_shape(box):
    response = post(box, payloads.text_message(box.group_ids[0], "hi"), headers={})
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized - Invalid or missing D360-API-KEY"}


def test_interactive_is_refused_with_131051(box):
    body = payloads.text_message(box.group_ids[0], "hi") | {
        "type": "interactive",
        "interactive": {},
    }
    response = post(box, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 131051


@pytest.mark.parametrize("days", [0, 31, "forever", None])
def test_pin_days_outside_1_to_30_are_refused(box, days):
    pin = {"type": "pin", "message_id": "wamid.X", "expiration_days": days}
    body = payloads.unpin_message(box.group_ids[0], "wamid.X") | {"pin": pin}
    response = post(box, body)
    assert response.status_code == 400
    assert response.json()["error"]["error_data"]["details"].startswith("pin.expiration_days")


def test_malformed_json_and_unknown_paths(box):
    with httpx.Client(base_url=box.url, headers={"D360-API-KEY": KEY}) as http:
        bad = http.post(
            "/messages", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        missing = http.post("/nowhere/at/all", json={})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, 100)
    assert missing.status_code == 404


def test_an_accepted_send_appears_in_the_archive_as_statuses(box, tmp_path):
    response = post(box, payloads.text_message(box.group_ids[0], "hello"))
    message_id = response.json()["messages"][0]["id"]
    sent = wait_for(
        lambda: [
            s for s in statuses_of(archive_hooks(tmp_path))
            if s["id"] == message_id and s["status"] == "sent"
        ]
    )  # fmt: skip
    assert sent[0]["recipient_type"] == "group"
    assert sent[0]["recipient_id"] == box.group_ids[0]
    assert box.flush()
    participants = {
        s.get("recipient_participant_id") or s.get("participant_recipient_id")
        for s in statuses_of(archive_hooks(tmp_path))
        if s["id"] == message_id and s["status"] in ("delivered", "read")
    }
    expected = {r.participant_id for r in box.outcomes[message_id].receipts if r.delivered_at}
    assert participants == expected


def test_archive_received_at_follows_the_simulated_clock(box, tmp_path):
    post(box, payloads.text_message(box.group_ids[0], "hello"))
    assert box.flush()
    for record in archive_hooks(tmp_path):
        statuses = statuses_of([record])
        latest = max(int(s["timestamp"]) for s in statuses)
        received = datetime.fromisoformat(record["received_at"]).timestamp()
        assert received >= latest - 1


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.append((body, self.headers.get("X-Hub-Signature-256")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.got = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_webhooks_are_posted_signed_with_the_app_secret(receiver, tmp_path):
    url = f"http://127.0.0.1:{receiver.server_address[1]}/webhook"
    with serve(
        seed=3, api_key=KEY, webhook_url=url, app_secret=APP_SECRET, failure_rate=0.0
    ) as box:
        post(box, payloads.text_message(box.group_ids[0], "signed"))
        assert box.flush()
        shown = repr(box) + repr(box.emitter)
    assert receiver.got
    for body, header in receiver.got:
        expected = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(header, expected)
        assert json.loads(body)["object"] == "whatsapp_business_account"
        assert APP_SECRET.encode() not in body
    assert signature(receiver.got[0][0], APP_SECRET) == receiver.got[0][1]
    assert APP_SECRET not in shown and KEY not in shown


def test_group_creation_then_join_then_send(box, tmp_path):
    with httpx.Client(base_url=box.url, headers={"D360-API-KEY": KEY}) as http:
        created = http.post("/groups", json=payloads.create_group("Choir")).json()
    request_id = created["request_id"]
    box.flush()
    events = [
        g
        for record in archive_hooks(tmp_path)
        for change in record["body"]["entry"][0]["changes"]
        for g in change["value"].get("groups", [])
    ]
    (create,) = [e for e in events if e.get("request_id") == request_id]
    assert create["type"] == "group_create"
    assert create["invite_link"].startswith("https://chat.whatsapp.com/")
    group_id = create["group_id"]
    alone = post(box, payloads.text_message(group_id, "anyone?"))
    assert alone.json()["error"]["code"] == 131020
    box.join(group_id, ["16505550199"])
    assert post(box, payloads.text_message(group_id, "welcome")).status_code == 200


def test_invalid_cursor_is_131059(box):
    with httpx.Client(base_url=box.url, headers={"D360-API-KEY": KEY}) as http:
        response = http.get("/groups", params={"after": "!!!"})
    assert response.json()["error"]["code"] == 131059


def test_failed_sends_emit_failed_statuses_with_catalogue_titles(tmp_path):
    with serve(seed=8, api_key=KEY, archive=tmp_path, failure_rate=1.0) as box:
        message_id = post(box, payloads.text_message(box.group_ids[0], "x")).json()["messages"][0][
            "id"
        ]
        assert box.flush()
    (failed,) = [
        s
        for s in statuses_of(archive_hooks(tmp_path))
        if s["id"] == message_id and s["status"] == "failed"
    ]
    assert failed["errors"][0]["code"] == box.outcomes[message_id].error_code


def test_fail_next_rejects_unknown_faults():
    with pytest.raises(ValueError, match="unknown fault"):
        Sandbox(groups=0).fail_next("teapot")


def test_cli_lists_the_sandbox_command():
    result = CliRunner().invoke(main, ["sandbox", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--archive", "--webhook-url", "--app-secret"):
        assert option in result.output
