"""The `groupkit dashboard` command line, without a browser."""

from __future__ import annotations

import json

from click.testing import CliRunner

from groupkit.cli import main
from groupkit.widgets.dashboard import ARCHIVE_VARIABLE, dashboard_notebook, voila_command


def test_it_is_listed_and_refuses_a_missing_archive(tmp_path):
    runner = CliRunner()
    assert "dashboard" in runner.invoke(main, ["--help"]).output
    result = runner.invoke(main, ["dashboard", str(tmp_path / "nowhere")])
    assert result.exit_code == 3  # an input that cannot be read (EXIT_CODES["input"])
    assert "no such file or directory" in result.stderr


def test_voila_binds_to_loopback_on_the_port_it_was_given():
    command = voila_command("d.ipynb", 43210)
    assert "--Voila.ip=127.0.0.1" in command
    assert "--port=43210" in command
    assert "--Voila.port_retries=0" in command  # never serve elsewhere than the printed URL
    assert "--no-browser" in command


def test_the_notebook_reads_the_archive_named_in_the_environment(tmp_path):
    cells = json.loads(dashboard_notebook(tmp_path).read_text())["cells"]
    source = "".join("".join(cell["source"]) for cell in cells)
    assert ARCHIVE_VARIABLE in source and "Explorer(archive)" in source
