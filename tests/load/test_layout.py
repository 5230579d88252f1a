"""The loader's house: one package whose imports run one way, and tests that run in any set."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import groupkit
from groupkit._imports import import_graph
from tests.helpers import cycle_through

PACKAGE = Path(groupkit.__file__).parent
ROOT = PACKAGE.parent


def test_the_archive_the_cache_and_the_loader_import_one_way():
    graph = import_graph(PACKAGE)
    loader = [m for m in graph if m.startswith("groupkit.load")]
    assert "groupkit.load.api" in loader and "groupkit.load.walk" in loader
    for module in ["groupkit.archive", "groupkit.cache", *loader]:
        assert cycle_through(graph, module) is None, cycle_through(graph, module)
    # The results module knows nothing of how they are made.
    assert not {m for m in graph["groupkit.archive"] if m.startswith("groupkit.load")}


def test_dask_uses_only_the_loaders_public_names():
    tree = ast.parse((PACKAGE / "dask" / "_reader.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("groupkit"):
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"groupkit.dask imports private names {private}"


def test_any_set_of_test_folders_collects_together():
    folders = ["tests/client", "tests/widgets", "tests/load", "tests/analytics", "tests/charts"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *folders,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
