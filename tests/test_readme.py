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


def test_ci_tests_every_dependency_at_its_declared_floor():
    # A floor in pyproject.toml that .ci/floors.txt does not pin is a floor nobody tested.
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floors = {}
    for line in (ROOT / ".ci" / "floors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            floors[name.strip().lower()] = version.strip()
    wanted = {}
    for requirement in declared:
        name, floor = re.fullmatch(r"([A-Za-z0-9_.\-]+)>=([0-9.]+)", requirement).groups()
        wanted[name.lower()] = floor

    # "3.0" is tested as 3.0.0: compare release numbers padded to three parts.
    def padded(version: str) -> tuple[int, ...]:
        parts = [int(p) for p in version.split(".")]
        return tuple(parts + [0] * (3 - len(parts)))

    assert {k: padded(v) for k, v in floors.items()} == {k: padded(v) for k, v in wanted.items()}
