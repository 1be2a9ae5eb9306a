"""Data found in the data: discovery's categories against what the inventory declares.

A resource a connector classified by sampling (a database table read with ``discover =
true``: not inventoried, with ``data_categories`` set) is compared with the inventory entry
that covers it — the inventoried resource whose ``path`` is the longest prefix of its path
(``postgresql://db1:5432/crm`` covers every table of that database), or whose name is the
same. Categories found but not declared there, or found where no entry covers the table at
all, are a finding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.policy import Policy
from accessaudit.rules._context import RuleContext
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = ["UNCLASSIFIED_SENSITIVE_DATA", "unclassified_sensitive_data"]


def _categories(values: pd.Series) -> pd.Series:
    return (
        values.astype("string")
        .fillna("")
        .str.lower()
        .str.split(";")
        .map(lambda parts: frozenset(p.strip() for p in parts if p.strip()))
    )


def _normal_path(paths: pd.Series) -> pd.Series:
    return paths.astype("string").str.strip().str.lower().str.rstrip("/")


def _covering_entry(found: pd.DataFrame, inventory: pd.DataFrame) -> np.ndarray:
    """For each found resource, the row position in ``inventory`` that covers it, or -1.

    One vectorised pass per inventory entry with a path (inventories have hundreds of entries,
    the tables found can be many thousands), keeping the longest matching prefix."""
    best = np.full(len(found), -1, dtype=np.int64)
    best_length = np.full(len(found), -1, dtype=np.int64)
    paths = _normal_path(found["path"]).fillna("")
    names = found["name"].astype("string").str.lower()
    inventory_paths = _normal_path(inventory["path"])
    inventory_names = inventory["name"].astype("string").str.lower()
    for position in range(len(inventory)):
        prefix = inventory_paths.iloc[position]
        by_name = (names == inventory_names.iloc[position]).to_numpy(dtype=bool, na_value=False)
        by_path = np.zeros(len(found), dtype=bool)
        if isinstance(prefix, str) and prefix:
            by_path = ((paths == prefix) | paths.str.startswith(prefix + "/")).to_numpy(
                dtype=bool, na_value=False
            )
        length = len(prefix) if isinstance(prefix, str) else 0
        # An exact name match is as specific as a full path.
        score = np.where(by_name, 1 << 30, np.where(by_path, length, -1))
        better = score > best_length
        best[better] = position
        best_length[better] = score[better]
    return best


def unclassified_sensitive_data(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Tables whose sampled data holds categories (pii, pci, phi …) the inventory does not
    declare for them, or that no inventory entry covers."""
    ctx = RuleContext.of(snapshot, policy, as_of)
    r = ctx.resources
    found_mask = ~r["inventoried"].to_numpy(dtype=bool) & (
        r["data_categories"].astype("string").fillna("").str.strip() != ""
    ).to_numpy(dtype=bool)
    found = r[found_mask].reset_index(drop=True)
    inventory = r[r["inventoried"].to_numpy(dtype=bool)].reset_index(drop=True)
    at = _covering_entry(found, inventory)
    covered = at >= 0
    discovered = _categories(found["data_categories"])
    declared = pd.Series([frozenset()] * len(found), dtype=object)
    if covered.any():
        declared[covered] = _categories(inventory["data_categories"]).to_numpy()[at[covered]]
    missing = pd.Series(
        [sorted(d - k) for d, k in zip(discovered, declared, strict=True)], dtype=object
    )
    hit = (missing.map(len) > 0).to_numpy(dtype=bool)
    rows = found[hit].reset_index(drop=True)
    entry = pd.Series(
        np.where(covered[hit], inventory["name"].to_numpy(dtype=object)[at[hit]], None),
        dtype=object,
    )
    owner = pd.Series(
        np.where(covered[hit], inventory["owner_id"].to_numpy(dtype=object)[at[hit]], None),
        dtype=object,
    )
    missing_text = missing[hit].reset_index(drop=True).map(";".join)
    declared_text = declared[hit].reset_index(drop=True).map(lambda s: ";".join(sorted(s)))
    why = pd.Series(
        np.where(
            entry.isna(),
            "no inventory entry covers it",
            np.where(
                declared_text == "",
                "its inventory entry " + entry.fillna("") + " declares no data categories",
                "its inventory entry " + entry.fillna("") + " declares only " + declared_text,
            ),
        ),
        dtype=object,
    )
    message = (
        rows["name"] + " holds " + missing_text + " (found by sampling its columns), but " + why
    )
    evidence = pd.DataFrame(
        {
            "found_categories": rows["data_categories"],
            "undeclared_categories": missing_text,
            "declared_categories": declared_text,
            "inventory_entry": entry,
            "path": rows["path"],
        }
    )
    return UNCLASSIFIED_SENSITIVE_DATA.findings(
        subject_type="resource",
        subject_id=rows["resource_id"],
        subject_name=rows["name"],
        system=rows["system"],
        person_id=owner,
        message=message,
        evidence=evidence,
    )


UNCLASSIFIED_SENSITIVE_DATA = RuleSpec(
    id="unclassified-sensitive-data",
    title="Sensitive data the inventory does not declare",
    severity="high",
    rationale="Personal, payment or health data found in a store the inventory lists without "
    "it (or not at all) is protected, reviewed and retained as if it were harmless, and is "
    "missing from the records of processing a breach notification starts from.",
    remediation="Confirm the finding with the data owner; add the categories (and the right "
    "sensitivity) to the store's inventory entry, or remove the data.",
    controls=(
        "ISO 27001:2022 A.5.12",
        "ISO 27001:2022 A.5.9",
        "SOC 2 CC6.1",
        "GDPR Art. 30",
        "GDPR Art. 32",
        "PCI DSS 4.0 Req. 12.5.2",
        "HIPAA §164.308(a)(1)(ii)(A)",
    ),
    function=unclassified_sensitive_data,
    needs=("resources", "discovered"),
)
