"""Secrets, whatever they hold, never appear in a repr, log record, exception or output."""

from __future__ import annotations

import logging
import pickle
import traceback

import httpx
import pytest
from click.testing import CliRunner

from groupkit.cli import main
from groupkit.exceptions import SecretError
from groupkit.receiver import ReceiverError, Secret, load_secrets, serve
from groupkit.signatures import sign, verify
from tests.receiver.conftest import webhook

# Secrets the receiver accepts, however odd.
WEIRD = [
    "%s%r{0}{}%(x)s",
    "\"quoted\" 'single' `tick`",
    "inner spaces are fine",
    "unicodé 🔑 секрет",
    "back\\slash\\n\\x00",
    "<secret>=#hash&amp;",
    "x" * 300,
    "non-utf8 byte from the environment \udcff",
]
# Secrets it refuses (SecretError, issue 20): control characters, whitespace at an end.
REFUSED = [
    " spaces\tand tabs ",
    "s3cr3t-from-a-file\n",
    "nul\x00inside",
    "\r\ncrlf injected\r\n",
    "line\u2028separator\x85next\x0cfeed\x1erecord",
    "del\x7fchar",
    "k3y-then-a-space ",
]
# A line of a file holds neither a newline nor a byte that is not UTF-8.
IN_A_FILE = [v for v in WEIRD if "\udcff" not in v]


def sendable(text: str) -> str:
    """``text`` as it can travel in a URL (a lone surrogate is not UTF-8)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def everything_shown(*objects) -> str:
    return " ".join(
        f"{o!r} {o!s} {o:}" if isinstance(o, Secret) else f"{o!r} {o!s}" for o in objects
    )


@pytest.mark.parametrize("value", WEIRD)
def test_reprs_and_strings_never_show_a_secret(tmp_path, value):
    environ = {
        "GROUPKIT_APP_SECRET": value,
        "GROUPKIT_VERIFY_TOKEN": value[::-1],
        "GROUPKIT_360DIALOG_SECRET": value + "2",
    }
    secrets = load_secrets(environ=environ)
    assert secrets.app_secret.matches(value) and secrets.verify_token.matches(value[::-1])
    with serve(tmp_path, secrets=secrets) as receiver:
        shown = everything_shown(
            secrets, secrets.app_secret, receiver, receiver.journal, receiver.metrics
        )
    for secret in environ.values():
        assert secret not in shown
    with pytest.raises(TypeError):
        pickle.dumps(secrets.app_secret)


@pytest.mark.parametrize("value", IN_A_FILE)
def test_secrets_read_from_a_file_keep_every_character(tmp_path, value):
    path = tmp_path / "secrets.env"
    path.write_text(f"GROUPKIT_APP_SECRET={value}\nexport GROUPKIT_VERIFY_TOKEN='{value}'\n")
    secrets = load_secrets(path, environ={"GROUPKIT_APP_SECRET": "from-the-environment"})
    # The file wins over the environment; only the line ending and one pair of quotes go.
    assert secrets.app_secret.matches(value) and secrets.verify_token.matches(value)


def test_a_secrets_file_with_crlf_line_endings(tmp_path):
    path = tmp_path / "secrets.env"
    path.write_bytes(b"GROUPKIT_APP_SECRET=abc\r\nGROUPKIT_VERIFY_TOKEN=tok\r\n")
    secrets = load_secrets(path, environ={})
    assert secrets.app_secret.matches("abc") and secrets.verify_token.matches("tok")


def test_a_secret_that_is_not_utf8_signs_with_the_bytes_the_os_gave():
    # os.environ decodes b"\xff" as "\udcff"; the sender signs with the byte itself.
    secret = Secret("k\udcff")
    assert secret.reveal() == b"k\xff"
    assert verify(b"{}", sign(b"{}", b"k\xff"), secret.reveal())


def test_a_secrets_file_error_never_quotes_a_line(tmp_path):
    for text in ("GROUPKIT_APP_SECRET\n", "s3=cr3t-value\n", "\n\nnot-a-pair s3cr3t-value\n"):
        path = tmp_path / "secrets.env"
        path.write_text(text)
        with pytest.raises(ReceiverError) as caught:
            load_secrets(path)
        assert "s3cr3t-value" not in str(caught.value) and "cr3t-value" not in str(caught.value)


@pytest.mark.parametrize("value", WEIRD)
def test_no_log_record_response_or_file_holds_a_secret(tmp_path, caplog, value):
    secrets = load_secrets(
        environ={"GROUPKIT_APP_SECRET": value, "GROUPKIT_VERIFY_TOKEN": "tok " + sendable(value)}
    )
    token = "tok " + sendable(value)
    seen = []
    caplog.set_level(logging.DEBUG)
    with serve(tmp_path, secrets=secrets) as receiver, httpx.Client(base_url=receiver.url) as http:
        for params in (
            {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "7"},
            {"hub.mode": "subscribe", "hub.verify_token": token + "x", "hub.challenge": "7"},
        ):
            seen.append(http.get("/webhook", params=params).text)
        body = webhook(1)
        for headers in (
            {"X-Hub-Signature-256": sign(body, value)},
            {"X-Hub-Signature-256": "x"},
            {},
        ):
            seen.append(http.post("/webhook", content=body, headers=headers).text)
        seen.append(
            http.post(
                "/", content=b"junk", headers={"X-Hub-Signature-256": sign(b"junk", value)}
            ).text
        )
        seen += [http.get("/metrics").text, http.get("/healthz").text]
    assert seen[0] == "7" and "403" not in seen[0]
    # Every record but those of the test's own HTTP client (which logs the URLs it asks for).
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name == "groupkit.receiver" for r in server_side)
    records = " ".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in server_side)
    files = b" ".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for secret in (value, token):
        assert secret not in records
        assert secret not in " ".join(seen)
        assert secret.encode("utf-8", "surrogateescape") not in files


@pytest.mark.parametrize("value", REFUSED)
def test_a_secret_with_a_control_character_is_refused_without_quoting_it(tmp_path, value):
    environ = {"GROUPKIT_APP_SECRET": value}
    path = tmp_path / "secrets.env"
    path.write_bytes(b"GROUPKIT_VERIFY_TOKEN=" + value.encode() + b"\n")
    attempts = [
        lambda: Secret(value),
        lambda: load_secrets(environ=environ),
        lambda: serve(tmp_path, secrets=load_secrets(environ=environ)),
    ]
    if "\n" not in value and "\r" not in value:  # it fits on one line of a file
        attempts.append(lambda: load_secrets(path, environ={}))
    for attempt in attempts:
        with pytest.raises(SecretError) as caught:
            attempt()
        shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value.args)
        for form in (value, repr(value)[1:-1], value.strip(), repr(value.encode())[2:-1]):
            assert form not in shown
    with pytest.raises(SecretError, match="GROUPKIT_APP_SECRET"):
        load_secrets(environ=environ)


# An environment variable cannot hold a NUL.
@pytest.mark.parametrize("value", [v for v in WEIRD + REFUSED if "\x00" not in v])
def test_the_cli_never_prints_a_secret_it_was_given(tmp_path, value):
    env = {"GROUPKIT_APP_SECRET": value, "GROUPKIT_VERIFY_TOKEN": value}
    runs = [
        ["receive", "--out", str(tmp_path), "--app-secret", value],
        ["receive", "--out", str(tmp_path), "--secrets-file", str(tmp_path / "missing")],
        ["receive", "--out", str(tmp_path), "--max-body", "0"],
    ]
    for args in runs:
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code != 0
        assert value not in result.output
