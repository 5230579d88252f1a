"""groupkit's own import graph, read from the source with :mod:`ast` (nothing is imported).

Who imports whom decides two things: the loader's parser version (the cache hashes
the loader and every groupkit module it imports, see
:func:`groupkit.load.cache.parser_files`) and the rule that groupkit has no import
cycle (``tests/test_imports.py``).  Every import counts, those inside functions too,
except the ones under ``if TYPE_CHECKING:``, which never run.

An import names the module it loads, not the packages above it (``import
groupkit.load.walk`` is an edge to ``groupkit.load.walk``; ``from groupkit import
schema`` to ``groupkit.schema``; ``from groupkit.load import Part`` to
``groupkit.load``): every module implicitly runs its parents' ``__init__``, and
counting that would make every package a cycle with its own modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

__all__ = ["import_graph", "module_files"]


def module_files(package_dir: Path, package: str | None = None) -> dict[str, Path]:
    """Every module below ``package_dir`` by dotted name, e.g. ``groupkit.load.walk``.

    Examples
    --------
    >>> import groupkit
    >>> files = module_files(Path(groupkit.__file__).parent)
    >>> files["groupkit"].name, files["groupkit.load.walk"].name
    ('__init__.py', 'walk.py')
    """
    package_dir = Path(package_dir)
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package or package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def import_graph(
    package_dir: Path, package: str | None = None, roots: Iterable[str] | None = None
) -> dict[str, set[str]]:
    """Each module below ``package_dir`` -> the modules of the same package it imports.

    Parameters
    ----------
    package_dir
        The package's folder.
    package
        Its import name, ``package_dir``'s name unless given (for a copy elsewhere).
    roots
        Only these modules and the modules they import, directly or not (only those
        files are read).

    Examples
    --------
    >>> import groupkit
    >>> graph = import_graph(Path(groupkit.__file__).parent)
    >>> "groupkit.schema" in graph["groupkit.load.build"]
    True
    >>> loader = import_graph(Path(groupkit.__file__).parent, roots=["groupkit.load.build"])
    >>> "groupkit.schema" in loader and "groupkit.analytics" not in loader
    True
    """
    package_dir = Path(package_dir)
    files = module_files(package_dir, package)
    known = set(files)
    native = _native_modules(package_dir, package or package_dir.name)
    todo = sorted(files) if roots is None else [name for name in roots if name in files]
    graph: dict[str, set[str]] = {}
    while todo:
        name = todo.pop()
        if name in graph:
            continue
        path = files[name]
        graph[name] = _imports(path, name, path.name == "__init__.py", known, native)
        todo.extend(graph[name] - set(graph))
    return dict(sorted(graph.items()))


def _native_modules(package_dir: Path, package: str) -> set[str]:
    """Compiled modules (``load/_scan.c`` -> ``groupkit.load._scan``): imported, not read."""
    out = set()
    for pattern in ("*.c", "*.so", "*.pyd"):
        for path in package_dir.rglob(pattern):
            parts = path.relative_to(package_dir).parts
            out.add(".".join([package, *parts[:-1], parts[-1].split(".")[0]]))
    return out


def _imports(
    path: Path, name: str, is_package: bool, known: set[str], native: set[str]
) -> set[str]:
    here = name if is_package else name.rpartition(".")[0]
    importable = known | native
    found: set[str] = set()
    for node in _running_nodes(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in importable else base)
    return {target for target in found if target in known and target != name}


def _running_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
