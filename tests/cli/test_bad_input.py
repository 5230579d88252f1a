"""A user's mistakes at the command line: one line in groupkit's words, never a traceback.

Each row is one mistake, run as a user runs it (a real process, so stderr is what a
terminal shows): the exit status says which kind of mistake it was
(:data:`groupkit._cli_common.EXIT_CODES`), stderr is one line that names the problem
and what to do, and nothing is written.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from groupkit._cli_common import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "webhooks"
USAGE, INPUT, EMPTY, OUTPUT = (EXIT_CODES[k] for k in ("usage", "input", "no webhooks", "output"))

# A PNG's first bytes, then bytes that are not text (a few of them newlines).
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


def _groupkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "from groupkit.cli import main; main(prog_name='groupkit')"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _place(folder: Path) -> Path:
    """A working folder with the bad inputs of the table."""
    folder.mkdir(parents=True)
    (folder / "empty").mkdir()
    (folder / "picture.png").write_bytes(PNG)
    (folder / "other.json").write_text('{"name": "not a webhook", "items": [1, 2]}')
    (folder / "numbers.ndjson").write_text("1\n2\n")
    (folder / "a-file").write_text("x")
    return folder


# id, arguments ({s}: the sample archive), exit status, what stderr says
CASES = [
    ("missing path", ["report", "does-not-exist"], INPUT, "no such file or directory"),
    ("glob matching nothing", ["report", "*.nothing"], INPUT, "no file matches the pattern"),
    (
        "-o into a missing folder",
        ["report", "{s}", "-o", "no-such-dir/report.html"],
        OUTPUT,
        "the folder no-such-dir does not exist; create it first",
    ),
    (
        "-o checked before the input is read",
        ["report", "does-not-exist", "-o", "no-such-dir/report.html"],
        OUTPUT,
        "the folder no-such-dir does not exist",
    ),
    ("-o a folder", ["report", "{s}", "-o", "empty"], OUTPUT, "is a folder; give a file name"),
    ("simulate --days 0", ["simulate", "sim", "--days", "0"], USAGE, "'--days': 0 is not in"),
    ("simulate --days -1", ["simulate", "sim", "--days", "-1"], USAGE, "'--days': -1 is not in"),
    ("simulate --groups 0", ["simulate", "sim", "--groups", "0"], USAGE, "'--groups'"),
    ("simulate a bad knob", ["simulate", "sim", "--knob", "nope=1"], USAGE, "NAME=VALUE"),
    (
        "export --to /proc/forbidden",
        ["export", "{s}", "--to", "/proc/forbidden"],
        OUTPUT,
        "--to /proc/forbidden: cannot write in /proc",
    ),
    ("export --to a file", ["export", "{s}", "--to", "a-file"], OUTPUT, "is a file; give a folder"),
    ("report of an empty folder", ["report", "empty"], EMPTY, "no webhook in empty: no file"),
    ("summary of an empty folder", ["summary", "empty"], EMPTY, "no webhook in empty"),
    ("report of a PNG", ["report", "picture.png"], EMPTY, "no webhook in picture.png"),
    (
        "report of JSON that is not a webhook",
        ["report", "other.json"],
        EMPTY,
        "other.json:1: not a webhook: no 'entry' list",
    ),
    (
        "records that are not objects",
        ["summary", "numbers.ndjson"],
        EMPTY,
        "numbers.ndjson:1: not a webhook: a record must be a JSON object, not a number",
    ),
    # click's own words differ by version ("No such option: --bogus" at the floor, 8.1.0).
    ("an unknown option", ["summary", "{s}", "--bogus"], USAGE, "--bogus"),
    ("an unknown command", ["repor"], USAGE, "No such command 'repor'"),
    ("a bad --on-error", ["summary", "{s}", "--on-error", "x"], USAGE, "'--on-error'"),
    ("report without PATH", ["report"], USAGE, "Missing argument 'PATH"),
    ("dashboard of a missing path", ["dashboard", "nowhere"], INPUT, "no such file or directory"),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess[str], list, list]]:
    """Every row of the table, run at once (each in its own folder): a process each."""
    root = tmp_path_factory.mktemp("mistakes")

    def run(case):
        name, args, _, _ = case
        place = _place(root / name.replace("/", "_").replace(" ", "_"))
        args = [a.replace("{s}", str(SAMPLE)) for a in args]
        before = sorted(p.name for p in place.iterdir())
        result = _groupkit(*args, cwd=place)
        return name, (result, before, sorted(p.name for p in place.iterdir()))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(run, CASES))


@pytest.mark.parametrize(("name", "status", "says"), [(c[0], c[2], c[3]) for c in CASES])
def test_a_mistake_is_one_line_and_a_distinct_exit_status(runs, name, status, says):
    result, before, after = runs[name]
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert says in result.stderr
    assert result.stderr.startswith("groupkit")
    assert result.stderr.count("\n") == 1  # one line
    assert after == before  # nothing written: no report, no half-made folder


def test_the_exit_statuses_are_distinct():
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES)
    assert 0 not in EXIT_CODES.values()


def test_a_png_gets_one_reject_that_says_it_is_not_json(tmp_path):
    import groupkit

    place = _place(tmp_path / "png")
    report = groupkit.read_webhooks(place / "picture.png", progress=False).report
    assert len(report.rejects) == 1
    assert "not JSON" in report.rejects[0].reason and "PNG" in report.rejects[0].reason
