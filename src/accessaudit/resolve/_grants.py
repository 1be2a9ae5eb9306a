"""Permission references into grants: resolve, check for ambiguity, collapse, report."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from accessaudit.connectors.base import SourceResult
from accessaudit.errors import ConfigError
from accessaudit.model import LINK_COLUMNS, PRINCIPAL_TYPES, RIGHTS, TABLES, failures_error
from accessaudit.resolve._lookup import EXAMPLES, resolve_principals
from accessaudit.resolve._paths import resolve_resources

__all__ = ["resolve_permissions"]

logger = logging.getLogger("accessaudit.resolve")

_MAX_IN_REPORT = 100


def _ambiguities(
    refs: pd.DataFrame,
    *,
    source: str,
    principals: pd.DataFrame,
    principal_of_row: npt.NDArray[np.intp],
    targets: pd.DataFrame,
    target_of_row: npt.NDArray[np.intp],
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


def resolve_permissions(
    result: SourceResult,
    *,
    accounts: pd.DataFrame,
    groups: pd.DataFrame,
    resources: pd.DataFrame,
    inventory: pd.DataFrame,
    known_sources: set[str],
    report: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``result``'s permission references as ``grants`` and the non-inventoried
    ``resources`` they name; what resolved and what did not is added to ``report``.

    A principal or resource name that matches several is a :class:`SourceError` naming every
    such line; a ``directory`` that is not a configured source is a :class:`ConfigError`.
    """
    refs = result.references
    assert refs is not None
    source = result.source
    for directory in refs["directory"].dropna().unique():
        if str(directory) not in known_sources:
            raise ConfigError(
                f"source {source!r}: directory {directory!r} is not a configured source "
                f"(known: {', '.join(sorted(known_sources))})"
            )
    principals, principal_of_row = resolve_principals(refs, accounts, groups)
    targets, target_of_row = resolve_resources(refs, source, resources, inventory)
    _ambiguities(
        refs,
        source=source,
        principals=principals,
        principal_of_row=principal_of_row,
        targets=targets,
        target_of_row=target_of_row,
    )

    # One grant per (principal, resource, deny, inherited, sharing link): the highest right,
    # and among the rows holding it the most specific path, then the first in the file. A
    # specific-people link stays a grant of its own (its permission id), apart from a direct
    # permission of the same person: it is removed by deleting that link, nothing else.
    principal_codes, _ = pd.factorize(principals["principal_id"])
    resource_codes, _ = pd.factorize(targets["resource_id"])
    rank = refs["right"].cat.codes.to_numpy().astype(np.int64)
    keep = np.flatnonzero(rank >= 0)
    principal = principal_codes[principal_of_row[keep]]
    resource = resource_codes[target_of_row[keep]]
    deny = refs["deny"].to_numpy(dtype=bool)[keep]
    inherited = refs["inherited"].to_numpy(dtype=bool)[keep]
    link = pd.factorize(refs["permission_id"])[0][keep]
    depth = targets["depth"].to_numpy(dtype=np.int64)[target_of_row[keep]]
    order = np.lexsort((keep, -depth, -rank[keep], link, inherited, deny, resource, principal))
    keys = np.stack([principal, resource, deny, inherited, link], axis=1)[order]
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
                **{name: refs[name].to_numpy()[chosen] for name in LINK_COLUMNS},
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
    principal_of_row: npt.NDArray[np.intp],
    targets: pd.DataFrame,
    target_of_row: npt.NDArray[np.intp],
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
                kind: int((type_of_row == kind).sum()) for kind in PRINCIPAL_TYPES
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
        shown = ", ".join(by_identity.index[:EXAMPLES].astype(str))
        report["warnings"].append(
            f"{len(by_identity)} identities could not be resolved and are kept as unresolved "
            f"({int(by_identity.sum())} rows; e.g. {shown})"
        )
        logger.info("%s: %s", refs["system"].iloc[0], report["warnings"][-1])
