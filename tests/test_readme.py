"""The README tells the truth about what it can be checked against."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from groupkit import schema

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_column_tables_match_the_schema_module():
    block = README.split("<!-- schema:start -->")[1].split("<!-- schema:end -->")[0]
    assert block.strip() == schema.markdown_table().strip()


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command.strip() in ci


def test_the_extras_the_readme_names_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for name in re.findall(r"pip install -e '\.\[(\w+)\]'", README):
        assert name in extras
