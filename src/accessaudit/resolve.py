"""Cross-source resolution: what one source's rows name in another source, decided once.

Connectors read their own source and know no other, so they keep references as written. When
the snapshot is built, after every source has been read (in any order), this module decides:

* **Owners.** An inventory ``owner`` (an employee id, an e-mail address, a group name or
  group_id) becomes ``owner_id``: the ``person_id``, else the ``group_id``. An owner that names
  nobody keeps ``owner`` as written and an empty ``owner_id``.
* **Principals** of permission references (:data:`accessaudit.model.REFERENCES`): the
  ``windows`` form (``DOMAIN\\name`` in the source's ``domain``, or a SID) resolves to an account
  login or SID, else a group name or SID; the ``name`` form to an ``account_id`` or
  ``group_id``, else a login or group name (case-insensitive). ``directory`` narrows the
  search to one source. Unresolvable identities are kept (``principal_type = unresolved``,
  ``principal_id`` as written) and counted; one that matches several principals is an error
  naming its line.
* **Resources.** A ``path`` belongs to the inventory resource whose ``path`` is the longest
  whole-component prefix of it (case-insensitive, ``/`` and ``\\`` alike, trailing separators,
  ``\\\\?\\`` and PowerShell's ``Microsoft.PowerShell.Core\\FileSystem::`` ignored). Paths no
  inventory entry covers are grouped per top-level share into a non-inventoried resource
  ``"{source}:\\\\server\\share"`` (lower-case; ``"{source}:d:\\top"`` for local paths). A
  ``name`` is a ``resource_id`` or an inventory name; anything else becomes a non-inventoried
  resource ``"{source}:{name}"``.

Permissions then collapse to one grant per principal, resource, deny and inheritance with the
highest right, on the most specific path that holds it. What was resolved and what was not is
added to each source's report (the same keys for every source) and logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.base import SourceResult
from accessaudit.errors import ConfigError
from accessaudit.model import RIGHTS, TABLES, failures_error

__all__ = ["normalise_paths", "resolve_references"]

logger = logging.getLogger("accessaudit.resolve")

_PROVIDER_PREFIX = re.compile(r"^(?:Microsoft\.PowerShell\.Core\\)?FileSystem::", re.IGNORECASE)
_LONG_UNC_PREFIX = re.compile(r"^\\\\\?\\UNC\\", re.IGNORECASE)
_LONG_PREFIX = re.compile(r"^\\\\\?\\", re.IGNORECASE)
_EXAMPLES = 5
_MAX_IN_REPORT = 100


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


def resolve_references(results: Sequence[SourceResult]) -> list[SourceResult]:
    """Resolve owners and permission references across ``results``; return new results.

    Each returned result has ``owner_id`` filled on its resources, its references turned into
    ``grants`` (plus non-inventoried ``resources``) and ``references`` cleared, and its
    report extended with what was and was not resolved. The outcome does not depend on the
    order of ``results``.
    """
    people = _combined(results, "people")
    accounts = _combined(results, "accounts")
    groups = _combined(results, "groups")
    resources = _combined(results, "resources")
    known_sources = {r.source for r in results}
    inventory = _inventory_paths(resources)
    resolved: list[SourceResult] = []
    for result in results:
        tables = dict(result.tables)
        report = dict(result.report)
        report["warnings"] = list(report.get("warnings", []))
        if "resources" in tables and tables["resources"]["owner"].notna().any():
            tables["resources"] = _resolve_owners(tables["resources"], people, groups, report)
        if result.references is not None:
            grants, new_resources = _resolve_permissions(
                result,
                accounts=accounts,
                groups=groups,
                resources=resources,
                inventory=inventory,
                known_sources=known_sources,
                report=report,
            )
            tables["grants"] = _concat(TABLES["grants"].name, tables.get("grants"), grants)
            tables["resources"] = _concat("resources", tables.get("resources"), new_resources)
        resolved.append(replace(result, tables=tables, report=report, references=None))
    return resolved


def _combined(results: Sequence[SourceResult], name: str) -> pd.DataFrame:
    frames = [r.tables[name] for r in results if name in r.tables and len(r.tables[name])]
    if not frames:
        return TABLES[name].empty()
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _concat(name: str, first: pd.DataFrame | None, second: pd.DataFrame) -> pd.DataFrame:
    if first is None or first.empty:
        return second
    if second.empty:
        return first
    return TABLES[name].conform(pd.concat([first, second], ignore_index=True), source=name)


# ----------------------------------------------------------------------------- owners


def _unique_lookup(keys: pd.Series, ids: pd.Series) -> pd.Series:
    """key → id for keys that name exactly one id (a key shared by two ids names nobody)."""
    table = pd.DataFrame({"key": keys.to_numpy(), "id": ids.to_numpy()}).dropna()
    table = table.drop_duplicates()
    table = table[~table["key"].duplicated(keep=False)]
    return pd.Series(table["id"].to_numpy(), index=table["key"].to_numpy())


def _resolve_owners(
    resources: pd.DataFrame,
    people: pd.DataFrame,
    groups: pd.DataFrame,
    report: dict[str, Any],
) -> pd.DataFrame:
    owners = resources["owner"].astype("str").str.strip()
    lowered = owners.str.lower()
    person = owners.map(_unique_lookup(people["person_id"], people["person_id"]))
    person = person.fillna(
        lowered.map(_unique_lookup(people["email"].str.lower(), people["person_id"]))
    )
    group = lowered.map(_unique_lookup(groups["group_id"].str.lower(), groups["group_id"]))
    group = group.fillna(
        lowered.map(_unique_lookup(groups["name"].str.lower(), groups["group_id"]))
    )
    out = resources.copy()
    owner_id = person.astype(object).where(person.notna(), group.astype(object))
    out["owner_id"] = owner_id.astype(out["owner_id"].dtype)
    named = owners.notna()
    unknown = named & out["owner_id"].isna()
    report["owners"] = {
        "person": int(person.notna().sum()),
        "group": int((person.isna() & group.notna()).sum()),
        "unresolved": int(unknown.sum()),
    }
    report["unknown_owners"] = {
        "count": int(unknown.sum()),
        "examples": [str(v) for v in owners[unknown].unique()[:_EXAMPLES]],
    }
    if unknown.any():
        without_hr = " (no HR source was collected)" if people.empty else ""
        shown = ", ".join(report["unknown_owners"]["examples"])
        report["warnings"].append(
            f"{int(unknown.sum())} resource owners are not a known person or group{without_hr}; "
            f"kept as written in resources.owner (e.g. {shown})"
        )
    return out


# ----------------------------------------------------------------------------- principals


def _distinct(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct combinations of ``columns`` (first-seen order) and each row's number."""
    number = frame.groupby(columns, observed=True, dropna=False, sort=False).ngroup().to_numpy()
    _, first = np.unique(number, return_index=True)
    distinct = frame.iloc[first][columns].reset_index(drop=True)
    for column in columns:
        distinct[column] = distinct[column].astype(object).where(distinct[column].notna(), None)
    return distinct, number


def _match(queries: pd.Series, candidates: pd.DataFrame) -> pd.DataFrame:
    """For each query key (index kept), the best-ranked candidates: id, type, how many
    distinct ids tie at that rank, and their list (for the message when several do)."""
    wanted = pd.DataFrame({"query": queries.index, "key": queries.to_numpy()}).dropna()
    merged = wanted.merge(candidates, on="key", how="inner")
    best = merged.groupby("query")["rank"].transform("min")
    merged = merged[merged["rank"] == best].drop_duplicates(["query", "id"])
    matched = merged.groupby("query").agg(
        id=("id", "first"),
        type=("type", "first"),
        matches=("id", "size"),
        all_ids=("id", lambda ids: ", ".join(sorted(ids.astype(str))[:_EXAMPLES])),
    )
    return matched.reindex(queries.index)


def _candidates(rows: Iterable[tuple[pd.Series, pd.Series, str, int]]) -> pd.DataFrame:
    frames = [
        pd.DataFrame({"key": key.to_numpy(), "id": ids.to_numpy(), "type": kind, "rank": rank})
        for key, ids, kind, rank in rows
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[table["key"].notna()]


def _principal_candidates(
    accounts: pd.DataFrame, groups: pd.DataFrame
) -> Mapping[str, pd.DataFrame]:
    """Lookup tables per form. Windows: an account beats a group of the same name."""
    login = "name:" + accounts["login"].str.lower()
    group_name = "name:" + groups["name"].str.lower()
    return {
        "windows": _candidates(
            [
                (login, accounts["account_id"], "account", 0),
                ("sid:" + accounts["sid"].str.upper(), accounts["account_id"], "account", 0),
                (group_name, groups["group_id"], "group", 1),
                ("sid:" + groups["sid"].str.upper(), groups["group_id"], "group", 1),
            ]
        ),
        "name": _candidates(
            [
                (
                    "name:" + accounts["account_id"].str.lower(),
                    accounts["account_id"],
                    "account",
                    0,
                ),
                ("name:" + groups["group_id"].str.lower(), groups["group_id"], "group", 0),
                (login, accounts["account_id"], "account", 1),
                (group_name, groups["group_id"], "group", 1),
            ]
        ),
    }


def _principal_keys(distinct: pd.DataFrame) -> pd.Series:
    """The lookup key of each distinct principal: ``name:login`` for DOMAIN\\login in the
    source's domain, ``sid:S-1-...`` for a SID, ``name:value`` for the name form."""
    principal = distinct["principal"].astype("str")
    split = principal.str.extract(r"^([^\\]+)\\(.+)$")
    domain = distinct["domain"].astype("str").str.lower()
    in_domain = (split[0].str.lower() == domain).fillna(False).astype(bool)
    is_sid = principal.str.match(r"(?i)^S-1-\d").fillna(False).astype(bool)
    windows = pd.Series(pd.NA, index=distinct.index, dtype="str")
    windows = windows.mask(in_domain, "name:" + split[1].str.lower())
    windows = windows.mask(is_sid & ~in_domain, "sid:" + principal.str.upper())
    return windows.where(distinct["principal_form"] == "windows", "name:" + principal.str.lower())


def _resolve_principals(
    refs: pd.DataFrame, accounts: pd.DataFrame, groups: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct principals with ``principal_id``, ``principal_type``, ``matches``,
    ``all_ids``; and each reference row's position among them."""
    distinct, number = _distinct(refs, ["principal", "principal_form", "domain", "directory"])
    keys = _principal_keys(distinct)
    found = pd.DataFrame(index=distinct.index, columns=["id", "type", "matches", "all_ids"])
    for directory in distinct["directory"].drop_duplicates():
        if directory is None:
            scope = distinct["directory"].isna()
            candidates = _principal_candidates(accounts, groups)
        else:
            scope = distinct["directory"] == directory
            candidates = _principal_candidates(
                accounts[accounts["system"] == directory], groups[groups["system"] == directory]
            )
        for form, table in candidates.items():
            part = scope & (distinct["principal_form"] == form)
            if part.any():
                found.loc[part] = _match(keys[part], table).to_numpy()
    distinct["principal_id"] = found["id"].fillna(distinct["principal"]).astype("str")
    distinct["principal_type"] = found["type"].fillna("unresolved").astype("str")
    distinct["matches"] = pd.to_numeric(found["matches"]).fillna(0).astype(int)
    distinct["all_ids"] = found["all_ids"]
    return distinct, number


# ----------------------------------------------------------------------------- resources


def _inventory_paths(resources: pd.DataFrame) -> pd.DataFrame:
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


def _longest_prefix(paths: pd.Series, inventory: pd.DataFrame) -> pd.Series:
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


def _resolve_resources(
    refs: pd.DataFrame, source: str, resources: pd.DataFrame, inventory: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct resources as written with ``resource_id``, ``covered``, ``shown`` path,
    ``depth``, ``matches``, ``all_ids`` and a new-resource ``name``/``type``; and each
    reference row's position among them."""
    distinct, number = _distinct(refs, ["resource", "resource_form", "resource_type"])
    written = distinct["resource"].astype("str")
    is_path = (distinct["resource_form"] == "path").to_numpy()
    normalised = normalise_paths(written.where(is_path))
    share = _share_of(normalised)
    by_path = _longest_prefix(normalised, inventory).where(is_path)
    names = resources[resources["inventoried"]]
    by_name = _match(
        ("name:" + written.str.lower()).where(~is_path),
        _candidates(
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


# ----------------------------------------------------------------------------- grants


def _ambiguities(
    refs: pd.DataFrame,
    *,
    source: str,
    principals: pd.DataFrame,
    principal_of_row: np.ndarray,
    targets: pd.DataFrame,
    target_of_row: np.ndarray,
) -> None:
    """Raise one error naming every row whose principal or resource matches several."""
    failures = []
    position = np.arange(len(refs))
    for distinct, of_row, column, problem in (
        (
            principals,
            principal_of_row,
            "principal",
            "matches several principals ({}); set directory for this source or use the account_id",
        ),
        (
            targets,
            target_of_row,
            "resource",
            "matches several inventory resources ({}); use the resource_id",
        ),
    ):
        several = distinct["matches"].to_numpy() > 1
        rows = several[of_row]
        if rows.any():
            listed = distinct["all_ids"].astype(str).to_numpy()[of_row[rows]]
            failures.append(
                pd.DataFrame(
                    {
                        "position": position[rows],
                        "location": refs["location"].to_numpy()[rows],
                        "column": column,
                        "value": refs[column].astype(str).to_numpy()[rows],
                        "problem": [problem.format(ids) for ids in listed],
                    }
                )
            )
    if failures:
        raise failures_error(pd.concat(failures, ignore_index=True), source=source)


def _resolve_permissions(
    result: SourceResult,
    *,
    accounts: pd.DataFrame,
    groups: pd.DataFrame,
    resources: pd.DataFrame,
    inventory: pd.DataFrame,
    known_sources: set[str],
    report: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    refs = result.references
    assert refs is not None
    source = result.source
    for directory in refs["directory"].dropna().unique():
        if str(directory) not in known_sources:
            raise ConfigError(
                f"source {source!r}: directory {directory!r} is not a configured source "
                f"(known: {', '.join(sorted(known_sources))})"
            )
    principals, principal_of_row = _resolve_principals(refs, accounts, groups)
    targets, target_of_row = _resolve_resources(refs, source, resources, inventory)
    _ambiguities(
        refs,
        source=source,
        principals=principals,
        principal_of_row=principal_of_row,
        targets=targets,
        target_of_row=target_of_row,
    )

    # One grant per (principal, resource, deny, inherited): the highest right, and among the
    # rows holding it the most specific path, then the first in the file.
    principal_codes, _ = pd.factorize(principals["principal_id"])
    resource_codes, _ = pd.factorize(targets["resource_id"])
    rank = refs["right"].cat.codes.to_numpy().astype(np.int64)
    keep = np.flatnonzero(rank >= 0)
    principal = principal_codes[principal_of_row[keep]]
    resource = resource_codes[target_of_row[keep]]
    deny = refs["deny"].to_numpy(dtype=bool)[keep]
    inherited = refs["inherited"].to_numpy(dtype=bool)[keep]
    depth = targets["depth"].to_numpy(dtype=np.int64)[target_of_row[keep]]
    order = np.lexsort((keep, -depth, -rank[keep], inherited, deny, resource, principal))
    keys = np.stack([principal, resource, deny, inherited], axis=1)[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]).any(axis=1)
    chosen = np.sort(keep[order[first]])
    of_principal = principal_of_row[chosen]
    of_target = target_of_row[chosen]
    grants = TABLES["grants"].conform(
        pd.DataFrame(
            {
                "principal_id": principals["principal_id"].to_numpy()[of_principal],
                "principal_type": principals["principal_type"].to_numpy()[of_principal],
                "resource_id": targets["resource_id"].to_numpy()[of_target],
                "right": np.asarray(RIGHTS, dtype=object)[rank[chosen]],
                "inherited": refs["inherited"].to_numpy(dtype=bool)[chosen],
                "deny": refs["deny"].to_numpy(dtype=bool)[chosen],
                "path": targets["shown"].to_numpy()[of_target],
                "system": source,
            }
        ),
        source=source,
        origin=pd.Series(refs["location"].to_numpy()[chosen]),
    )
    new = targets[~targets["covered"]].drop_duplicates("resource_id")
    new = new[~new["resource_id"].isin(resources["resource_id"])]
    new_resources = TABLES["resources"].conform(
        pd.DataFrame(
            {
                "resource_id": new["resource_id"],
                "system": source,
                "name": new["new_name"],
                "type": new["new_type"],
                "path": new["new_name"].where(new["resource_form"] == "path"),
                "inventoried": False,
            }
        ),
        source=source,
    )
    _report_permissions(
        report,
        refs=refs,
        principals=principals,
        principal_of_row=principal_of_row,
        targets=targets,
        target_of_row=target_of_row,
        grants=grants,
        new_resources=new_resources,
    )
    if inventory.attrs.get("shadowed"):
        report["warnings"].append(
            f"{inventory.attrs['shadowed']} inventory entries share a path with another; "
            "paths map to the one with the lowest resource_id"
        )
    return grants, new_resources


def _report_permissions(
    report: dict[str, Any],
    *,
    refs: pd.DataFrame,
    principals: pd.DataFrame,
    principal_of_row: np.ndarray,
    targets: pd.DataFrame,
    target_of_row: np.ndarray,
    grants: pd.DataFrame,
    new_resources: pd.DataFrame,
) -> None:
    rows_per_principal = np.bincount(principal_of_row, minlength=len(principals))
    unresolved = (principals["principal_type"] == "unresolved").to_numpy()
    by_identity = (
        pd.Series(rows_per_principal[unresolved], index=principals["principal_id"][unresolved])
        .groupby(level=0)
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    type_of_row = principals["principal_type"].to_numpy()[principal_of_row]
    uncovered = ~targets["covered"].to_numpy(dtype=bool)
    report.update(
        {
            "grants": len(grants),
            "deny_grants": int(grants["deny"].sum()),
            "rows_by_principal_type": {
                kind: int((type_of_row == kind).sum())
                for kind in ("account", "group", "unresolved")
            },
            "unresolved": {
                "identities": len(by_identity),
                "rows": int(by_identity.sum()),
                "by_identity": {
                    str(k): int(v) for k, v in by_identity.head(_MAX_IN_REPORT).items()
                },
            },
            "resources_named": len(targets),
            "resources_not_in_inventory": int(uncovered.sum()),
            "rows_not_in_inventory": int(uncovered[target_of_row].sum()),
            "non_inventoried_resources": new_resources["name"]
            .astype(str)
            .head(_MAX_IN_REPORT)
            .tolist(),
        }
    )
    if len(by_identity):
        shown = ", ".join(by_identity.index[:_EXAMPLES].astype(str))
        report["warnings"].append(
            f"{len(by_identity)} identities could not be resolved and are kept as unresolved "
            f"({int(by_identity.sum())} rows; e.g. {shown})"
        )
        logger.warning("%s: %s", refs["system"].iloc[0], report["warnings"][-1])
