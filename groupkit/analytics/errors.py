"""Errors by code, explained from the catalogue, with counts, shares and first/last seen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import implementation
from groupkit.analytics._common import as_list
from groupkit.analytics._time import bucket
from groupkit.catalog import CATALOG, lookup

__all__ = ["DELIVERY_ORIGINS", "INBOUND_ORIGINS", "error_catalog", "error_summary"]

# Where an error sat (``archive.errors["origin"]``) decides what it is about: a failed
# status is a message the business sent that did not reach someone; an error on an
# inbound message (130501 "unsupported", ...) is something a participant posted that
# WhatsApp could not pass on, and says nothing about delivery.
DELIVERY_ORIGINS = ("status",)
INBOUND_ORIGINS = ("message",)

_CATALOG_COLUMNS = {
    "code": "Int64",
    "title": "str",
    "description": "str",
    "family": "category",
    "retryable": "boolean",
    "retry": "str",
    "advice": "str",
    "http_status": "Int64",
    "href": "str",
}


def error_catalog() -> pd.DataFrame:
    """Every error code groupkit knows, one row each, from :mod:`groupkit.catalog`.

    Returns
    -------
    pandas.DataFrame
        ``code, title, description, family (group/general), retryable, retry, advice,
        http_status, href``, sorted by code.

    Examples
    --------
    >>> cat = error_catalog()
    >>> cat.set_index("code").loc[131020, ["title", "family"]].tolist()
    ['Bad Group', 'group']
    """
    rows = [asdict(info) for _, info in sorted(CATALOG.items())]
    frame = pd.DataFrame(rows, columns=list(_CATALOG_COLUMNS))
    return frame.astype(_CATALOG_COLUMNS).reset_index(drop=True)


def _describe(codes: pd.Series, webhook: pd.DataFrame) -> pd.DataFrame:
    """Title, description, family, retryable, href per code: catalogue first, else the webhook."""
    rows = []
    for code in codes:
        info = lookup(int(code)) if pd.notna(code) else None
        said = webhook.loc[code] if code in webhook.index else None
        if info is not None:
            rows.append(
                {
                    "code": code,
                    "title": info.title,
                    "description": info.description,
                    "family": info.family,
                    "retryable": info.retryable,
                    "href": info.href,
                    "known": True,
                }
            )
        else:
            rows.append(
                {
                    "code": code,
                    "title": None if said is None else said["title"],
                    "description": None if said is None else said["description"],
                    "family": "unknown",
                    "retryable": pd.NA,
                    "href": None if said is None else said["href"],
                    "known": False,
                }
            )
    return pd.DataFrame(
        rows, columns=["code", "title", "description", "family", "retryable", "href", "known"]
    )


def error_summary(
    archive: Any,
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    origin: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Errors in the archive by code, with what each code means and how often it came.

    Every row of ``archive.errors`` counts once: a failed status, an unsupported
    inbound message, a webhook-level or group-event error (exact redeliveries are
    already dropped by the loader).

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    by
        Column(s) of ``archive.errors`` to split by, e.g. ``"group_id"`` or ``"origin"``.
    freq
        Also split by the bucket of the error's ``timestamp``: ``"half_hour"``,
        ``"day"`` or ``"month"``.
    origin
        Only errors that sat there (``archive.errors["origin"]``): ``"status"``
        (:data:`DELIVERY_ORIGINS`, delivery failures), ``"message"``
        (:data:`INBOUND_ORIGINS`, inbound messages WhatsApp could not pass on),
        ``"webhook"``, ``"group_event"``, or several; ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns (and ``bucket``), then ``code, title, description, family
        (group / general / unknown), retryable, href, known`` (in the catalogue),
        ``count``, ``share`` (of the errors with the same ``by``/``bucket``),
        ``first_seen`` and ``last_seen``; sorted by the keys, then most frequent
        first.  For a code missing from the catalogue, ``title``, ``description``
        (message, else details) and ``href`` are what the webhooks said.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from groupkit import schema
    >>> errors = schema.empty_frame("errors").reindex(range(2))
    >>> errors["code"] = pd.array([131049, 999999], dtype="Int64")
    >>> errors["title"] = ["Meta chose not to deliver", "Brand new error"]
    >>> out = error_summary(SimpleNamespace(errors=errors))
    >>> out[["code", "family", "title", "count"]].values.tolist()
    [[131049, 'general', 'Meta chose not to deliver', 1], [999999, 'unknown', 'Brand new error', 1]]
    >>> errors["origin"] = ["status", "message"]
    >>> error_summary(SimpleNamespace(errors=errors), origin="status")["code"].tolist()
    [131049]
    """
    engine = implementation("error_summary", archive)
    if engine is not None:
        return engine(archive, by=by, freq=freq, origin=origin)
    errors = archive.errors
    if origin is not None:
        errors = errors[errors["origin"].astype("str").isin(as_list(origin))]
    keys = as_list(by)
    table = errors[[*keys, "code", "timestamp"]].copy()
    if freq is not None:
        table["bucket"] = bucket(errors["timestamp"], freq)
        keys = [*keys, "bucket"]
    said = pd.DataFrame(
        {
            "code": errors["code"],
            "title": errors["title"],
            "description": errors["message"].fillna(errors["details"]),
            "href": errors["href"],
        }
    )
    said = (
        said.dropna(subset=["code"])
        .groupby("code")
        .agg({"title": "first", "description": "first", "href": "first"})
    )
    grouped = table.groupby([*keys, "code"], observed=True, dropna=False, sort=True)
    out = grouped.agg(
        count=("timestamp", "size"), first_seen=("timestamp", "min"), last_seen=("timestamp", "max")
    ).reset_index()
    if keys:
        totals = out.groupby(keys, observed=True, dropna=False)["count"].transform("sum")
    else:
        totals = out["count"].sum()
    out["share"] = out["count"] / totals if len(out) else np.array([], dtype="float64")
    info = _describe(pd.Series(out["code"].unique()), said)
    out = out.merge(info, on="code", how="left")
    columns = [
        *keys,
        "code",
        "title",
        "description",
        "family",
        "retryable",
        "href",
        "known",
        "count",
        "share",
        "first_seen",
        "last_seen",
    ]
    out = out[columns].astype(
        {
            "code": "Int64",
            "title": "str",
            "description": "str",
            "family": "category",
            "retryable": "boolean",
            "href": "str",
            "known": "bool",
            "count": "int64",
            "share": "float64",
        }
    )
    out = out.sort_values([*keys, "count", "code"], ascending=[True] * len(keys) + [False, True])
    return out.reset_index(drop=True)
