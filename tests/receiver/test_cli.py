"""groupkit receive at the command line: a user's mistake is one line and a non-zero exit."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from groupkit.cli import main
from groupkit.receiver.journal import Journal

SECRET = "cli-secret-never-shown-4e1"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("GROUPKIT_APP_SECRET", "GROUPKIT_VERIFY_TOKEN", "GROUPKIT_360DIALOG_SECRET"):
        monkeypatch.delenv(name, raising=False)


def run(*args, env=None):
    return CliRunner().invoke(main, ["receive", *args], env=env)


def one_line_error(result, code):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    return lines[-1]


def test_help_names_the_environment_variables_and_no_secret_option():
    result = run("--help")
    assert result.exit_code == 0
    assert "--secrets-file" in result.output and "GROUPKIT_APP_SECRET" in result.output
    assert "--app-secret" not in result.output


@pytest.mark.parametrize("option", ["--app-secret", "--verify-token", "--360dialog-secret"])
def test_a_secret_on_the_command_line_is_refused_without_repeating_it(tmp_path, option):
    result = run("--out", str(tmp_path), option, SECRET)
    line = one_line_error(result, 2)
    assert "not accepted" in line and "GROUPKIT_APP_SECRET" in line
    assert SECRET not in result.output
    assert not any(tmp_path.iterdir())


def test_without_any_signature_secret_it_says_what_to_set(tmp_path):
    line = one_line_error(run("--out", str(tmp_path / "a")), 1)
    assert "GROUPKIT_APP_SECRET" in line and "--allow-unsigned" in line


def test_a_secrets_file_that_does_not_exist(tmp_path):
    line = one_line_error(run("--out", str(tmp_path), "--secrets-file", str(tmp_path / "no")), 1)
    assert "does not exist" in line


def test_a_bad_line_in_the_secrets_file_is_named_but_never_shown(tmp_path):
    path = tmp_path / "secrets.env"
    path.write_text(f"# comment\nGROUPKIT_APP_SECRET={SECRET}\nGROUPKIT_APP_SECRT={SECRET}\n")
    path.chmod(0o600)
    result = run("--out", str(tmp_path / "a"), "--secrets-file", str(path))
    line = one_line_error(result, 1)
    assert f"{path}:3" in line
    assert SECRET not in result.output
    path.write_text(f"{SECRET}\n")
    result = run("--out", str(tmp_path / "a"), "--secrets-file", str(path))
    assert f"{path}:1: expected NAME=value" in one_line_error(result, 1)
    assert SECRET not in result.output


def test_a_directory_another_receiver_writes_is_refused(tmp_path):
    with Journal(tmp_path):
        result = run("--out", str(tmp_path), "--port", "0", env={"GROUPKIT_APP_SECRET": SECRET})
    line = one_line_error(result, 1)
    assert "another groupkit receive" in line
    assert SECRET not in result.output


def test_a_port_in_use_is_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--out", str(tmp_path), "--port", str(port), env={"GROUPKIT_APP_SECRET": "x"})
    assert f"cannot listen on 127.0.0.1:{port}" in one_line_error(result, 1)
