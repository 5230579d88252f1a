"""The loader's house: one package whose imports run one way, and tests that run in any set."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import groupkit

PACKAGE = Path(groupkit.__file__).parent
ROOT = PACKAGE.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """groupkit module -> the groupkit modules it imports (at any depth of its code)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    folder = ROOT.joinpath(*node.module.split("."))
                    if full in modules:
                        found.add(full)
                    elif not any(folder.glob(f"{alias.name}.*")):  # not a C extension
                        found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_the_archive_the_cache_and_the_loader_import_one_way():
    graph = _imports()
    loader = [m for m in graph if m.startswith("groupkit.load")]
    assert "groupkit.load.api" in loader and "groupkit.load.walk" in loader
    for module in ["groupkit.archive", "groupkit.cache", *loader]:
        assert _cycle_through(graph, module) is None, _cycle_through(graph, module)
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
