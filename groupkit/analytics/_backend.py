"""Other engines' implementations of the analytics, registered by those engines.

The analytics work on pandas.  An engine for archives that do not fit in memory
(:mod:`groupkit.dask`) registers, when it is imported, its own implementation of
an analytics function for its archive and collection types; the pandas function
hands such an input to it.  Dependencies point one way: the engine imports the
analytics, never the reverse.

Examples
--------
>>> import pandas as pd
>>> class LazyArchive:
...     pass
>>> register("funnel", LazyArchive, lambda data, **options: "the lazy funnel")
>>> implementation("funnel", LazyArchive())(None)
'the lazy funnel'
>>> implementation("funnel", pd.DataFrame()) is None
True
>>> is_dask(LazyArchive())
True
>>> unregister("funnel", LazyArchive)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from groupkit.exceptions import GroupkitError

__all__ = ["implementation", "is_dask", "refuse_dask", "register", "unregister"]

# function name -> {archive or collection type -> its implementation}
_IMPLEMENTATIONS: dict[str, dict[type, Callable[..., Any]]] = {}


def register(function: str, kind: type, implementation: Callable[..., Any]) -> None:
    """Use ``implementation`` for the analytics ``function`` when its input is a ``kind``.

    Subclasses of ``kind`` use it too.  Registering again replaces the implementation.
    """
    _IMPLEMENTATIONS.setdefault(function, {})[kind] = implementation


def unregister(function: str, kind: type) -> None:
    """Forget the implementation of ``function`` for ``kind`` (for tests)."""
    _IMPLEMENTATIONS.get(function, {}).pop(kind, None)


def implementation(function: str, data: Any) -> Callable[..., Any] | None:
    """The registered implementation of ``function`` for ``data``; None for in-memory data.

    Raises
    ------
    groupkit.GroupkitError
        ``data`` is a Dask archive or collection (:func:`is_dask`) with
        no implementation of ``function`` registered for its type.
    """
    table = _IMPLEMENTATIONS.get(function, {})
    for kind in type(data).__mro__:
        if kind in table:
            return table[kind]
    if is_dask(data):
        raise GroupkitError(
            f"groupkit.{function} has no implementation for a {type(data).__module__}."
            f"{type(data).__qualname__}; pass a groupkit.Archive or pandas frame, or a "
            "groupkit.dask.DaskArchive (importing groupkit.dask registers its implementations)"
        )
    return None


def is_dask(data: Any) -> bool:
    """True for an input an engine registered (a :class:`groupkit.dask.DaskArchive`...)
    or any Dask collection.

    A Dask collection is recognised by the collection protocol (``__dask_graph__``),
    so nothing here imports Dask.

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask(pd.DataFrame())
    False
    """
    kind = type(data)
    if getattr(kind, "__dask_graph__", None) is not None:
        return True
    return any(
        issubclass(kind, registered) for table in _IMPLEMENTATIONS.values() for registered in table
    )


def refuse_dask(data: Any, what: str) -> None:
    """Raise a :class:`groupkit.GroupkitError` for a Dask archive, saying what to do.

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_dask(pd.DataFrame(), "groupkit.costs")  # in memory: nothing to say
    """
    if is_dask(data):
        raise GroupkitError(
            f"{what} does not support Dask archives; it works on an in-memory one: load it with "
            "groupkit.read_webhooks(...) (or .compute() the Dask archive's frames into a "
            "groupkit.Archive) first"
        )
