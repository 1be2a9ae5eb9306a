"""Data stores a source found but could not fully classify, completed by the data inventory.

A SharePoint site without a sensitivity label (or without a known owner), or its folders and
files, is completed by the inventory entry whose ``path`` (a URL, like
``https://example.sharepoint.com/sites/finance``) is the longest whole-component prefix of the
resource's own URL: the entry's sensitivity, data categories, owner and third parties fill
what the source left empty (what the source said wins). The resource then counts as
inventoried. Entries of the resource's own source are not used, and only resources named by
an ``http(s)://`` URL are completed (other sources' stores, a database table under an
inventoried database, keep what their source found).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from accessaudit.resolve._paths import inventory_paths, longest_prefix, normalise_paths

__all__ = ["classify_by_inventory"]

_FILLED = ("sensitivity", "data_categories", "owner", "third_parties")


def classify_by_inventory(
    own: pd.DataFrame, resources: pd.DataFrame, source: str, report: dict[str, Any]
) -> pd.DataFrame:
    """``own`` (one source's resources) with its rows that have a path and lack inventory
    facts completed from the inventory entries of every *other* source in ``resources``;
    counted in ``report`` (``classified_by_inventory``)."""
    missing = own[list(_FILLED)].isna().any(axis=1)
    # Web data stores only (SharePoint, OneDrive: named by URL). A database table under an
    # inventoried database keeps its own, discovered, categories (unclassified-sensitive-data
    # compares the two).
    web = own["path"].astype("string").str.match(r"(?i)https?://").fillna(False).astype(bool)
    open_rows = (web & (~own["inventoried"] | missing)).to_numpy(dtype=bool)
    if not open_rows.any():
        return own
    # Not by ``system``: an inventory row's system is the data store's ("sharepoint"), which
    # may well be the name of the source that found the store.
    others = resources[~resources["resource_id"].isin(own["resource_id"])]
    inventory = inventory_paths(others)
    if inventory.empty:
        return own
    paths = normalise_paths(own.loc[open_rows, "path"])
    entry = longest_prefix(paths, inventory)
    matched = entry.notna()
    if not matched.any():
        return own
    by_id = others.drop_duplicates("resource_id").set_index("resource_id")
    out = own.copy()
    rows = entry[matched].index
    chosen = entry[matched].to_numpy()
    for column in _FILLED:
        given = out.loc[rows, column]
        found = pd.Series(by_id[column].reindex(chosen).to_numpy(), index=rows)
        out.loc[rows, column] = given.where(given.notna(), found.astype(given.dtype))
    out.loc[rows, "inventoried"] = True
    report["classified_by_inventory"] = int(matched.sum())
    return out
