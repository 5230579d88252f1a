"""What group messages cost: billable, free and exempt deliveries, priced by a rate card.

Meta bills a group message per participant it was delivered to, at the rate of its
pricing category (reference 1.1.6).  The ``pricing`` object comes on ``delivered``
or ``read`` (sometimes on both, and again on a redelivery), so a delivery is counted
once: the (message, participant) receipt of :func:`groupkit.deliveries`, with the
first pricing reported for it in arrival order.

Rules (reference, "Updates of December 2026"):

* ``pricing.subtype == "paid_exempt"`` (exempt government and non-profit service
  messages) is an *exempt* delivery: never charged;
* otherwise a delivery is *billable* when ``pricing.billable`` says so, or, without
  that flag, when ``pricing.type`` is ``regular``; every other one is *free*;
* ``free_group_customer_service`` meant "inside an open group service window" until
  30 September 2026 and "within the number's free tier" from 1 October 2026, and
  ``regular`` then also covers utility messages inside a window and service
  messages past the free tier: every row says which rules its deliveries followed
  (``pricing_rules``), so the two meanings are never added up in one row.

groupkit ships no prices: a rate card (``country``, ``category``, ``price``,
``currency``, ``effective_from``) is the caller's, applied by the delivery's date.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from groupkit import schema
from groupkit.analytics._backend import refuse_dask
from groupkit.analytics._common import as_list, require_columns
from groupkit.analytics._time import bucket
from groupkit.analytics.deliveries import _phone_by_bsuid, deliveries
from groupkit.analytics.names import name_groups
from groupkit.exceptions import GroupkitError

__all__ = ["RATE_COLUMNS", "costs", "country_of", "read_rates"]

# Columns a rate card must have.
RATE_COLUMNS = ("country", "category", "price", "currency", "effective_from")
UNKNOWN = "unknown"
EXEMPT_SUBTYPES = ("paid_exempt",)
_CHANGE = pd.Timestamp(schema.PRICING_CHANGE, tz="UTC")
RULES_BEFORE = f"before {schema.PRICING_CHANGE}"
RULES_FROM = f"from {schema.PRICING_CHANGE}"
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_PRICING = ["pricing_category", "pricing_type", "pricing_subtype", "billable"]


@functools.lru_cache(maxsize=65536)
def country_of(participant: str | None) -> str:
    """ISO 3166 alpha-2 country of a participant's phone number, else ``"unknown"``.

    Uses Google's libphonenumber rules (the ``phonenumbers`` package): the region of a
    valid number, else the main region of its country calling code (``1`` is ``US``,
    ``44`` is ``GB``).  A business-scoped user id (``US.1349...``) is not a phone
    number, so its country is ``"unknown"``, as is anything unparseable.

    Examples
    --------
    >>> country_of("447700900123"), country_of("16505551234"), country_of("5511987654321")
    ('GB', 'US', 'BR')
    >>> country_of("US.13491208655302741918"), country_of(None)
    ('unknown', 'unknown')
    """
    if participant is None or not isinstance(participant, str) or not _PHONE.match(participant):
        return UNKNOWN
    import phonenumbers  # here: its metadata costs 13 MB, and only costs() needs it

    try:
        number = phonenumbers.parse("+" + participant.lstrip("+"), None)
    except phonenumbers.NumberParseException:
        return UNKNOWN
    region = None
    if phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number)
    if not region or region == "001":
        region = phonenumbers.region_code_for_country_code(number.country_code)
    if not region or region in ("ZZ", "001"):
        return UNKNOWN
    return region


def _category_key(values: pd.Series) -> pd.Series:
    """``group_marketing`` and ``marketing`` both as ``marketing``: a card may use either."""
    return values.astype("str").str.strip().str.lower().str.removeprefix("group_")


def read_rates(rates: Any) -> pd.DataFrame:
    """A rate card, checked: from a CSV path or a DataFrame.

    Parameters
    ----------
    rates
        A path to a CSV file, or a DataFrame, with the columns ``country`` (ISO
        3166 alpha-2 code, or ``*`` for any country), ``category`` (``marketing``
        or ``group_marketing``, ...), ``price`` (per delivery), ``currency`` and
        ``effective_from`` (a date, UTC).  Other columns (a note) are ignored.

    Returns
    -------
    pandas.DataFrame
        The card with ``effective_from`` as UTC timestamps, ``country`` upper-case
        and ``price`` as floats, sorted by ``effective_from``.

    Raises
    ------
    GroupkitError
        When a column is missing or a value cannot be read, naming the row.

    Examples
    --------
    >>> import pandas as pd
    >>> card = pd.DataFrame({"country": ["*"], "category": ["marketing"], "price": [0.05],
    ...                      "currency": ["USD"], "effective_from": ["2026-01-01"]})
    >>> read_rates(card)["effective_from"].iloc[0]
    Timestamp('2026-01-01 00:00:00+0000', tz='UTC')
    """
    where = "the rate card"
    if isinstance(rates, str | os.PathLike):
        where = f"rate card {os.fspath(rates)}"
        try:
            rates = pd.read_csv(rates, dtype={"country": "str", "category": "str"})
        except (OSError, ValueError) as exc:
            raise GroupkitError(f"cannot read {where}: {exc}") from None
    if not isinstance(rates, pd.DataFrame):
        raise GroupkitError(f"rates must be a CSV path or a DataFrame, not {type(rates).__name__}")
    missing = [c for c in RATE_COLUMNS if c not in rates.columns]
    if missing:
        raise GroupkitError(
            f"{where} lacks the column(s) {', '.join(missing)}; it needs {', '.join(RATE_COLUMNS)}"
        )
    card = rates[list(RATE_COLUMNS)].copy()
    for i, row in card.iterrows():
        if row[list(RATE_COLUMNS)].isna().any():
            raise GroupkitError(
                f"{where}, row {i + 1}: every column needs a value ({row.to_dict()})"
            )
    price = pd.to_numeric(card["price"], errors="coerce")
    if price.isna().any() or (price < 0).any():
        bad = int(np.flatnonzero((price.isna() | (price < 0)).to_numpy())[0])
        raise GroupkitError(
            f"{where}, row {bad + 1}: price {card['price'].iloc[bad]!r} is no price"
        )
    when = pd.to_datetime(
        card["effective_from"].astype("str"), errors="coerce", utc=True, format="ISO8601"
    )
    if when.isna().any():
        bad = int(np.flatnonzero(when.isna().to_numpy())[0])
        raise GroupkitError(
            f"{where}, row {bad + 1}: effective_from {card['effective_from'].iloc[bad]!r} "
            "is not a date (use YYYY-MM-DD)"
        )
    country = card["country"].astype("str").str.strip().str.upper()
    bad_country = ~(country.eq("*") | country.str.fullmatch(r"[A-Z]{2}"))
    if bad_country.any():
        bad = int(np.flatnonzero(bad_country.to_numpy())[0])
        raise GroupkitError(
            f"{where}, row {bad + 1}: country {card['country'].iloc[bad]!r} is neither an "
            "ISO 3166 alpha-2 code nor '*'"
        )
    card = card.assign(
        country=country,
        category=card["category"].astype("str").str.strip(),
        price=price.astype("float64"),
        currency=card["currency"].astype("str").str.strip(),
        effective_from=when.astype("datetime64[s, UTC]"),
    )
    return card.sort_values("effective_from", kind="stable").reset_index(drop=True)


def priced_deliveries(archive: Any, *, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per delivered receipt with pricing: the first pricing reported for it.

    A receipt is a row of :func:`groupkit.deliveries` that was delivered (read
    included) and did not fail; its pricing is the first ``delivered``/``read``
    status with pricing for that (message, participant), in arrival order, so a
    pricing sent twice (on ``delivered`` and ``read``, or in a redelivery) counts once.
    """
    frame = deliveries(archive) if frame is None else frame
    st = archive.statuses
    status = st["status"].astype("str")
    priced = (
        status.isin(["delivered", "read"])
        & st["message_id"].notna()
        & st[[c for c in _PRICING if c in st.columns]].notna().any(axis=1)
    )
    rows = st.loc[priced.to_numpy()]
    # The participant as deliveries() keys it: phone, else the phone paired with the
    # BSUID elsewhere in the archive, else the BSUID.
    pid = rows["participant_id"]
    if "participant_user_id" in rows.columns and pid.isna().any():
        positions = np.flatnonzero(st["participant_user_id"].notna().to_numpy())
        phone_of = _phone_by_bsuid(st, positions, archive.membership)
        users = rows["participant_user_id"]
        pid = pid.fillna(users.map(phone_of).astype("str")).fillna(users)
    keep = [c for c in ["message_id", *_PRICING, *_extra_keys(rows)] if c in rows.columns]
    pricing = rows[keep].assign(participant_id=pid.astype("str").to_numpy())
    pricing = pricing.drop_duplicates(["message_id", "participant_id"], keep="first")
    done = frame[frame["delivered_at"].notna() & (frame["state"].astype("str") != "failed")]
    done = done.drop(columns=["pricing_category"])
    out = done.merge(
        pricing.drop(
            columns=[
                c
                for c in pricing.columns
                if c in done.columns and c not in ("message_id", "participant_id")
            ]
        ),
        on=["message_id", "participant_id"],
        how="inner",
    )
    out.attrs["deliveries_without_pricing"] = int(len(done) - len(out))
    return out


def _extra_keys(rows: pd.DataFrame) -> list[str]:
    """Status columns a caller may group costs by (the number, the account)."""
    return [c for c in ("phone_number_id", "display_phone_number", "waba_id") if c in rows]


def _classify(priced: pd.DataFrame) -> pd.DataFrame:
    subtype = priced["pricing_subtype"].astype("str") if "pricing_subtype" in priced else None
    exempt = (
        subtype.isin(EXEMPT_SUBTYPES).to_numpy()
        if subtype is not None
        else np.zeros(len(priced), dtype=bool)
    )
    ptype = priced["pricing_type"].astype("str")
    flag = priced["billable"] if "billable" in priced else pd.Series(pd.NA, index=priced.index)
    by_type = ptype.eq("regular").fillna(False).to_numpy(dtype=bool)
    billable = np.where(flag.isna().to_numpy(), by_type, flag.fillna(False).to_numpy(dtype=bool))
    billable = billable & ~exempt
    rules = np.where(priced["delivered_at"] < _CHANGE, RULES_BEFORE, RULES_FROM)
    participant = priced["participant_id"]
    unique = participant.dropna().unique()
    countries = {p: country_of(p) for p in unique}
    return priced.assign(
        billable_deliveries=billable.astype("int64"),
        free_deliveries=(~billable & ~exempt).astype("int64"),
        exempt_deliveries=exempt.astype("int64"),
        pricing_rules=rules,
        country=participant.map(countries).fillna(UNKNOWN).astype("str"),
    )


def _price(priced: pd.DataFrame, card: pd.DataFrame) -> pd.DataFrame:
    """Each delivery's price: the card's latest rate in force on its date, for its
    category and country (else the category's ``*`` rate)."""
    priced = priced.assign(
        _cat=_category_key(priced["pricing_category"]).to_numpy(),
        _when=priced["delivered_at"].astype("datetime64[s, UTC]"),
        _row=np.arange(len(priced)),
    )
    card = card.assign(_cat=_category_key(card["category"]).to_numpy())
    price = pd.Series(np.nan, index=priced["_row"].to_numpy())
    currency = pd.Series(None, index=priced["_row"].to_numpy(), dtype="object")
    left = priced[["_row", "_cat", "country", "_when"]].sort_values("_when", kind="stable")
    for country_key in ("country", "*"):
        rates = card if country_key == "country" else card[card["country"] == "*"]
        rates = rates[["_cat", "country", "effective_from", "price", "currency"]]
        if country_key == "*":
            rates = rates.drop(columns="country")
        todo = left[price.reindex(left["_row"]).isna().to_numpy()]
        if todo.empty or rates.empty:
            continue
        hit = pd.merge_asof(
            todo,
            rates.sort_values("effective_from", kind="stable"),
            left_on="_when",
            right_on="effective_from",
            by=["_cat", "country"] if country_key == "country" else ["_cat"],
            direction="backward",
        )
        found = hit["price"].notna().to_numpy()
        price.loc[hit["_row"].to_numpy()[found]] = hit["price"].to_numpy()[found]
        currency.loc[hit["_row"].to_numpy()[found]] = hit["currency"].to_numpy()[found]
    billable = priced["billable_deliveries"].to_numpy() == 1
    charged = np.where(billable, price.to_numpy(), 0.0)
    # A billable delivery no rate covers has no cost: never silently zero.
    charged = np.where(billable & np.isnan(price.to_numpy()), np.nan, charged)
    return priced.drop(columns=["_cat", "_when", "_row"]).assign(
        cost=charged,
        currency=pd.array(np.where(billable, currency.to_numpy(), None), dtype="str"),
        _unpriced=(billable & np.isnan(price.to_numpy())).astype("int64"),
    )


def costs(
    archive: Any,
    rates: Any = None,
    *,
    by: str | Sequence[str] | None = "group_id",
    freq: str | None = None,
    frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Deliveries by pricing category, type and country, and their cost with a rate card.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    rates
        A rate card (CSV path or DataFrame, see :func:`read_rates`); without one, only
        the counts.  groupkit ships no prices: ``sample_data/rates-illustrative.csv``
        is an example, not Meta's rates.
    by
        Column(s) to group by: ``"group_id"`` (default), a column of
        :func:`groupkit.deliveries` (``biz_opaque_callback_data``) or the number
        (``phone_number_id``); ``None`` for the whole archive.
    freq
        Also group by the delivery's ``bucket``: ``"half_hour"``, ``"day"`` or
        ``"month"``.
    frame
        The archive's :func:`groupkit.deliveries`, when already computed.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` value (and ``bucket``) x ``pricing_category`` x
        ``pricing_type`` x ``pricing_rules`` (``"before 2026-10-01"`` or
        ``"from 2026-10-01"``: which meaning ``pricing_type`` had) x ``country``
        (ISO code of the participant's phone, ``"unknown"`` for one known only by a
        business-scoped id): ``billable_deliveries``, ``free_deliveries``,
        ``exempt_deliveries`` and, with ``rates``, ``currency`` (a key too) and
        ``cost`` (billable deliveries x the rate in force on each delivery's date;
        null when a billable delivery has no rate: ``attrs["unpriced_deliveries"]``
        counts them).  Grouped by ``group_id``, a readable ``group`` comes first.
        ``attrs["deliveries_without_pricing"]`` counts delivered receipts that no
        status priced.

    Raises
    ------
    GroupkitError
        For a Dask archive, an unknown ``by`` column or an unreadable rate card.

    Examples
    --------
    >>> import groupkit
    >>> def status(kind, ts, pricing=None):
    ...     obj = {"id": "wamid.A", "status": kind, "timestamp": str(ts), "recipient_id": "G",
    ...            "recipient_type": "group"}
    ...     if kind != "sent":
    ...         obj["recipient_participant_id"] = "447700900123"
    ...     return obj | ({"pricing": pricing} if pricing else {})
    >>> paid = {"billable": True, "type": "regular", "category": "group_marketing"}
    >>> hook = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {
    ...     "statuses": [status("sent", 1760000000), status("delivered", 1760000005, paid),
    ...                  status("read", 1760000050, paid)]}}]}]}
    >>> out = costs(groupkit.parse_webhooks([hook]), by=None)
    >>> out[["pricing_category", "country", "billable_deliveries"]].values.tolist()
    [['group_marketing', 'GB', 1]]
    """
    refuse_dask(archive, "groupkit.costs")
    if isinstance(archive, pd.DataFrame):
        raise GroupkitError("costs needs the Archive (its statuses carry the pricing)")
    keys = as_list(by)
    card = read_rates(rates) if rates is not None else None
    priced = priced_deliveries(archive, frame=frame)
    without_pricing = priced.attrs.get("deliveries_without_pricing", 0)
    require_columns(priced, keys, "group costs", "the priced deliveries")
    priced = _classify(priced)
    if card is not None:
        priced = _price(priced, card)
    if freq is not None:
        priced = priced.assign(bucket=bucket(priced["delivered_at"], freq))
        keys = [*keys, "bucket"]
    keys += ["pricing_category", "pricing_type", "pricing_rules", "country"]
    counts = ["billable_deliveries", "free_deliveries", "exempt_deliveries"]
    if card is not None:
        keys.append("currency")
    for key in ("pricing_category", "pricing_type"):
        priced[key] = priced[key].astype("str")
    sums = {c: "sum" for c in counts}
    if card is not None:
        sums.update(cost=lambda s: s.sum(min_count=1), _unpriced="sum")
    out = priced.groupby(keys, dropna=False, sort=True, observed=True).agg(sums).reset_index()
    out[counts] = out[counts].astype("Int64")
    if card is not None:
        out["cost"] = out["cost"].where(out["_unpriced"] == 0).astype("Float64")
        out = out[[c for c in out.columns if c not in ("currency", "cost", "_unpriced")]].assign(
            currency=out["currency"], cost=out["cost"]
        )
    out.attrs["deliveries_without_pricing"] = without_pricing
    if card is not None:
        out.attrs["unpriced_deliveries"] = int(priced["_unpriced"].sum())
    return name_groups(out, archive)
