"""Graph objects as DataFrames: one row per object, absent properties as empty values.

A property Graph did not return is a column of missing values, never a guess: the transforms
decide what "unknown" means for each one and count it in the report.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from accessaudit.connectors.entra.pages import RawPages

__all__ = ["column", "frame", "lookup", "origin", "text", "times"]


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


def column(table: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name``, or a column of missing values when no object had the property."""
    if name in table.columns:
        return table[name]
    return pd.Series(np.nan, index=table.index, dtype=object)


def text(table: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` as strings (missing stays missing)."""
    return column(table, name).astype("string")


def times(series: pd.Series) -> pd.Series:
    """Graph's ISO 8601 timestamps as UTC times; anything else is missing."""
    return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``keys.map(values)``, also for no keys (where pandas would try to cast the dtype)."""
    if not len(keys):
        return pd.Series([], index=keys.index, dtype=values.dtype)
    return keys.map(values)
