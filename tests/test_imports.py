"""groupkit's imports run one way: no module imports, even lazily, one that imports it back."""

from __future__ import annotations

import textwrap
from pathlib import Path

import groupkit
from groupkit._imports import import_graph
from tests.helpers import cycle_through

PACKAGE = Path(groupkit.__file__).parent


def test_groupkit_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 50 and "groupkit.dask.analytics" in graph
    cycles = {tuple(c) for module in sorted(graph) if (c := cycle_through(graph, module))}
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in sorted(cycles))


def test_the_analytics_never_import_dask():
    analytics = [m for m in import_graph(PACKAGE) if m.startswith("groupkit.analytics")]
    reached = import_graph(PACKAGE, roots=analytics)
    assert "groupkit.analytics.deliveries" in reached and "groupkit.schema" in reached
    assert not {m for m in reached if m.startswith("groupkit.dask")}


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_the_graph_counts_lazy_and_relative_imports_but_not_type_checking_ones(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": """
                from typing import TYPE_CHECKING
                import pkg.b
                if TYPE_CHECKING:
                    from pkg import d
                else:
                    from pkg.sub import e
                def later():
                    from . import c
                """,
            "b.py": "from pkg.sub import NAME  # a name of the package's __init__\n",
            "c.py": "from .sub.e import f\n",
            "d.py": "",
            "sub/__init__.py": "NAME = 1\n",
            "sub/e.py": "from .. import a\nfrom pkg.sub import _native\n",
            "sub/_native.c": "",
        },
    )
    graph = import_graph(root)
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b", "pkg.c", "pkg.sub.e"},
        "pkg.b": {"pkg.sub"},
        "pkg.c": {"pkg.sub.e"},
        "pkg.d": set(),
        "pkg.sub": set(),
        "pkg.sub.e": {"pkg.a"},
    }
    # Written by hand: a -> c (lazily) -> sub.e -> a; the TYPE_CHECKING import of d is no edge.
    assert cycle_through(graph, "pkg.a") is not None
    assert cycle_through(graph, "pkg.d") is None
    assert cycle_through(graph, "pkg.b") is None
