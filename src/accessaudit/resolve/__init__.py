"""Cross-source resolution: what one source's rows name in another source, decided once.

Connectors read their own source and know no other, so they keep references as written. When
the snapshot is built, after every source has been read (in any order), this module decides:

* **Owners.** An inventory ``owner`` (an employee id, an e-mail address, a group name or
  group_id) becomes ``owner_id``: the ``person_id``, else the ``group_id``. An owner that names
  nobody keeps ``owner`` as written and an empty ``owner_id``.
* **Classification.** A resource its source could not classify (``inventoried`` false, a
  ``path`` such as a SharePoint URL) takes sensitivity, categories, owner and third parties
  from the inventory entry whose path is its longest prefix (:mod:`._inventory`).
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
highest right, on the most specific path that holds it. A reference that carries a sharing
link (:data:`accessaudit.model.LINK_COLUMNS`: a specific-people link naming a directory user)
stays a grant of its own per link permission and keeps those columns, so the link can be
reviewed and its permission deleted. What was resolved and what was not is
added to each source's report (the same keys for every source) and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from accessaudit.connectors.base import SourceResult
from accessaudit.model import TABLES
from accessaudit.resolve._grants import resolve_permissions
from accessaudit.resolve._inventory import classify_by_inventory
from accessaudit.resolve._lookup import EXAMPLES
from accessaudit.resolve._paths import inventory_paths, normalise_paths

__all__ = ["normalise_paths", "resolve_references"]

logger = logging.getLogger("accessaudit.resolve")


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
    inventory = inventory_paths(resources)
    resolved: list[SourceResult] = []
    for result in results:
        tables = dict(result.tables)
        report = dict(result.report)
        report["warnings"] = list(report.get("warnings", []))
        if "resources" in tables:
            tables["resources"] = classify_by_inventory(
                tables["resources"], resources, result.source, report
            )
        if "resources" in tables and tables["resources"]["owner"].notna().any():
            tables["resources"] = _resolve_owners(tables["resources"], people, groups, report)
        if result.references is not None:
            grants, new_resources = resolve_permissions(
                result,
                accounts=accounts,
                groups=groups,
                resources=resources,
                inventory=inventory,
                known_sources=known_sources,
                report=report,
            )
            for name, frame in (("grants", grants), ("resources", new_resources)):
                tables[name] = _concat(name, tables.get(name), frame, source=result.source)
        resolved.append(replace(result, tables=tables, report=report, references=None))
    return resolved


def _combined(results: Sequence[SourceResult], name: str) -> pd.DataFrame:
    frames = [r.tables[name] for r in results if name in r.tables and len(r.tables[name])]
    if not frames:
        return TABLES[name].empty()
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _concat(
    name: str, first: pd.DataFrame | None, second: pd.DataFrame, *, source: str
) -> pd.DataFrame:
    if first is None or first.empty:
        return second
    if second.empty:
        return first
    return TABLES[name].conform(pd.concat([first, second], ignore_index=True), source=source)


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
    # An owner_id the source already gave is kept; otherwise the person, else the group.
    found = person.astype(object).where(person.notna(), group.astype(object))
    given = resources["owner_id"].astype(object)
    out["owner_id"] = given.where(given.notna(), found).astype(out["owner_id"].dtype)
    named = owners.notna()
    unknown = named & out["owner_id"].isna()
    report["owners"] = {
        "person": int(person.notna().sum()),
        "group": int((person.isna() & group.notna()).sum()),
        "unresolved": int(unknown.sum()),
    }
    report["unknown_owners"] = {
        "count": int(unknown.sum()),
        "examples": [str(v) for v in owners[unknown].unique()[:EXAMPLES]],
    }
    if unknown.any():
        # The count and examples are said from "unknown_owners" (accessaudit.coverage); a
        # sentence here would say it twice. Only the reason, when there is one, is added.
        logger.info("%d resource owners are not a known person or group", int(unknown.sum()))
        if people.empty:
            report["warnings"].append(
                "no HR source was collected, so owners could only be matched to groups"
            )
    return out
