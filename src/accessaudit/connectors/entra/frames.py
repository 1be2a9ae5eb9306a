"""Graph objects as DataFrames: one row per object, absent properties as empty values.

A property Graph did not return is a column of missing values, never a guess: the transforms
decide what "unknown" means for each one and count it in the report.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from accessaudit.connectors._graph.pages import RawPages

__all__ = ["absent", "column", "frame", "guest_users", "lookup", "origin", "text", "times"]


def frame(raw: RawPages, dataset: str, *, depth: int = 1) -> pd.DataFrame:
    """Every object of ``dataset``, ``depth`` levels of nesting flattened (``signInActivity.x``),
    with the object each page was asked about in ``_parent`` and the page (saved file or URL)
    in ``_origin``, for messages."""
    records, parents, origins = raw.records(dataset)
    if not records:
        return pd.DataFrame(
            {"id": pd.Series([], dtype=object), "_parent": [], "_origin": pd.Series([], dtype=str)}
        )
    table = pd.json_normalize(cast(list[dict[str, Any]], records), max_level=depth)
    table["_parent"] = parents
    table["_origin"] = origins
    return table


def origin(table: pd.DataFrame) -> pd.Series:
    """Where each row came from, for messages: ``<file or URL> object <id>``."""
    return column(table, "_origin").astype(str) + " object " + column(table, "id").astype(str)


def absent(raw: RawPages, dataset: str, name: str) -> pd.Series:
    """Which objects of ``dataset`` (in :func:`frame`'s order) lack property ``name``
    altogether: not returned, as opposed to ``null``, which is Graph's answer."""
    records = raw.records(dataset)[0]
    return pd.Series(np.fromiter((name not in r for r in records), bool, count=len(records)))


def column(table: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name``, or a column of missing values when no object had the property."""
    if name in table.columns:
        return table[name]
    return pd.Series(np.nan, index=table.index, dtype=object)


def text(table: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` as strings (missing stays missing)."""
    return column(table, name).astype("string")


def guest_users(users: pd.DataFrame) -> pd.Series:
    """Which ``users`` (rows with ``userType`` and ``userPrincipalName``) are guests: the one
    rule the accounts table and the sponsors read both follow. ``userType`` "Guest" (any case)
    decides; where it is absent, Graph's guest naming (UPN ``<address>#EXT#@<tenant>``) still
    tells. A B2B member (userType "Member" with an ``#EXT#`` UPN) is a member.

    >>> guest_users(pd.DataFrame({"userType": ["Guest", "Member", None],
    ...     "userPrincipalName": ["a", "b#EXT#@t", "c#EXT#@t"]})).tolist()
    [True, False, True]
    """
    user_type = text(users, "userType").str.lower()
    upn = text(users, "userPrincipalName")
    guest = user_type.eq("guest").fillna(upn.str.contains("#EXT#", regex=False).fillna(False))
    return guest.astype(bool)


_EARLIEST = pd.Timestamp.min.tz_localize("UTC")
_LATEST = pd.Timestamp.max.tz_localize("UTC").floor("s")


def times(series: pd.Series) -> pd.Series:
    """Graph's ISO 8601 timestamps as UTC times (nanosecond precision, as the tables store
    them); anything else is missing. Graph writes ``0001-01-01T…`` for "not set", which
    stays missing; dates past 2262 (a ``9999-12-31`` "never expires") become the latest
    representable time, so they still read as far in the future.
    """
    parsed = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    parsed = parsed.where(parsed >= _EARLIEST).mask(parsed > _LATEST, _LATEST)
    return parsed.astype("datetime64[ns, UTC]")


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` looked up by ``keys`` (missing or unknown keys give missing values), with
    ``values``' dtype whatever the keys hold."""
    unique = values[~values.index.duplicated()]
    found = unique.reindex(pd.Index(keys.astype(object).to_numpy()))
    return pd.Series(found.to_numpy(), index=keys.index, dtype=unique.dtype)
