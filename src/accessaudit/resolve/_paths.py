"""Paths and resource names: which inventory resource a permission is on."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pandas as pd

from accessaudit.resolve._lookup import candidates, distinct_rows, match

__all__ = ["inventory_paths", "longest_prefix", "normalise_paths", "resolve_resources"]

_PROVIDER_PREFIX = re.compile(r"^(?:Microsoft\.PowerShell\.Core\\)?FileSystem::", re.IGNORECASE)
_LONG_UNC_PREFIX = re.compile(r"^\\\\\?\\UNC\\", re.IGNORECASE)
_LONG_PREFIX = re.compile(r"^\\\\\?\\", re.IGNORECASE)


def normalise_paths(paths: pd.Series) -> pd.Series:
    """Paths as compared: provider prefix and ``\\\\?\\`` stripped, ``/`` → ``\\``,
    lower-case, no trailing separator.

    >>> normalise_paths(pd.Series(["//FS01/Finance/"])).tolist()
    ['\\\\\\\\fs01\\\\finance']
    """
    return (
        paths.astype("str")
        .str.strip()
        .str.replace(_PROVIDER_PREFIX, "", regex=True)
        .str.replace("/", "\\", regex=False)
        .str.replace(_LONG_UNC_PREFIX, r"\\\\", regex=True)
        .str.replace(_LONG_PREFIX, "", regex=True)
        .str.lower()
        .str.rstrip("\\")
    )


def inventory_paths(resources: pd.DataFrame) -> pd.DataFrame:
    """Inventoried resources with a path: resource_id and normalised path, sorted by id so
    that of two entries with the same path the same one wins whatever the source order."""
    inventory = resources[resources["inventoried"] & resources["path"].notna()]
    inventory = pd.DataFrame(
        {"resource_id": inventory["resource_id"], "norm": normalise_paths(inventory["path"])}
    ).sort_values("resource_id", kind="stable")
    inventory = inventory[inventory["norm"] != ""]
    shadowed = inventory["norm"].duplicated()
    inventory.attrs["shadowed"] = int(shadowed.sum())
    return inventory[~shadowed]


def _share_of(normalised: pd.Series) -> pd.Series:
    r"""The top-level share a path lives in: ``\\server\share``, or ``d:\top`` for local."""
    unc = normalised.str.extract(r"^(\\\\[^\\]+(?:\\[^\\]+)?)", expand=False)
    local = normalised.str.extract(r"^([^\\]+(?:\\[^\\]+)?)", expand=False)
    return unc.fillna(local).fillna(normalised).astype("str")


def longest_prefix(paths: pd.Series, inventory: pd.DataFrame) -> pd.Series:
    """For each normalised path, the resource_id of the inventory entry with the longest
    path that is a whole-component prefix of it (NA when none).

    One vectorised pass per distinct inventory depth, not per path or per entry.
    """
    result = pd.Series(pd.NA, index=paths.index, dtype="str")
    depth = inventory["norm"].str.count(r"\\") + 1
    for level in sorted(depth.unique()):
        entries = inventory[depth == level]
        lookup = pd.Series(entries["resource_id"].to_numpy(), index=entries["norm"].to_numpy())
        pattern = r"^((?:[^\\]*\\){" + str(int(level) - 1) + r"}[^\\]*)(?:\\|$)"
        prefix = paths.str.extract(pattern, expand=False)
        found = prefix.map(lookup)
        result = found.where(found.notna(), result).astype("str")
    return result


def resolve_resources(
    refs: pd.DataFrame, source: str, resources: pd.DataFrame, inventory: pd.DataFrame
) -> tuple[pd.DataFrame, npt.NDArray[np.intp]]:
    """Distinct resources as written with ``resource_id``, ``covered``, ``shown`` path,
    ``depth``, ``matches``, ``all_ids`` and a new-resource ``name``/``type``; and each
    reference row's position among them."""
    distinct, number = distinct_rows(refs, ["resource", "resource_form", "resource_type"])
    written = distinct["resource"].astype("str")
    is_path = (distinct["resource_form"] == "path").to_numpy()
    normalised = normalise_paths(written.where(is_path))
    share = _share_of(normalised)
    by_path = longest_prefix(normalised, inventory).where(is_path)
    names = resources[resources["inventoried"]]
    by_name = match(
        ("name:" + written.str.lower()).where(~is_path),
        candidates(
            [
                ("name:" + resources["resource_id"].str.lower(), resources["resource_id"], "", 0),
                ("name:" + names["name"].str.lower(), names["resource_id"], "", 1),
            ]
        ),
    )
    found = by_path.fillna(by_name["id"])
    distinct["covered"] = found.notna()
    distinct["new_name"] = share.where(is_path, written)
    distinct["resource_id"] = found.fillna(source + ":" + distinct["new_name"]).astype("str")
    distinct["shown"] = written.str.replace(_PROVIDER_PREFIX, "", regex=True)
    distinct["depth"] = np.where(is_path, normalised.str.count(r"\\").fillna(0), 0)
    distinct["new_type"] = np.where(
        is_path,
        np.where(share.str.startswith("\\\\"), "share", "folder"),
        distinct["resource_type"].fillna("other"),
    )
    distinct["matches"] = pd.to_numeric(by_name["matches"]).fillna(0).astype(int)
    distinct["all_ids"] = by_name["all_ids"]
    return distinct, number
