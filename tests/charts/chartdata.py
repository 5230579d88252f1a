"""Read what a chart embeds, as its ``to_dict()`` serialises it."""

from __future__ import annotations

import altair as alt
import pandas as pd


def embedded(chart: alt.TopLevelMixin) -> pd.DataFrame:
    """The one dataset a chart embeds, as serialised by ``to_dict()``."""
    datasets = chart.to_dict()["datasets"]
    assert len(datasets) == 1, f"expected one dataset, got {list(datasets)}"
    return pd.DataFrame(next(iter(datasets.values())))


def embedded_rows(chart: alt.TopLevelMixin) -> int:
    """Rows of every dataset the chart carries, in total."""
    return sum(len(values) for values in chart.to_dict().get("datasets", {}).values())
