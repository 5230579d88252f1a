"""Which engine an analytics input needs: pandas, or Dask (without importing Dask)."""

from __future__ import annotations

from typing import Any


def is_dask(data: Any) -> bool:
    """True for a :class:`groupkit.dask.DaskArchive` or a Dask collection.

    Decided by the object's module, so the pandas path never imports Dask.

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask(pd.DataFrame())
    False
    """
    module = type(data).__module__ or ""
    return module.startswith(("groupkit.dask", "dask.", "dask_expr."))
