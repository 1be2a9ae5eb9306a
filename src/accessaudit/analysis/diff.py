"""What changed between two snapshots: accounts, memberships, access.

An auditor compares this quarter with the last: who got new privileged access, which accounts
appeared or went away, whose right on a data store grew. :func:`diff_snapshots` answers with
DataFrames, new privileged / sensitive access first.

>>> change = diff_snapshots(Snapshot.load("q3"), Snapshot.load("q4"))  # doctest: +SKIP
>>> change.memberships_added.head()                                      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import pandas as pd

from accessaudit.classify import privileged_groups, privileged_rights, sensitive_resources
from accessaudit.model import SENSITIVITIES
from accessaudit.policy import Policy

if TYPE_CHECKING:
    from accessaudit.snapshot import Snapshot

__all__ = ["ACCOUNT_FIELDS_COMPARED", "SnapshotDiff", "diff_snapshots"]

#: Account columns whose change is reported in ``accounts_changed``.
ACCOUNT_FIELDS_COMPARED = ("enabled", "kind", "person_id", "login", "password_never_expires")

_ACCOUNT_COLUMNS = ["account_id", "system", "login", "display_name", "kind", "enabled", "person_id"]


@dataclass(frozen=True)
class SnapshotDiff:
    """The changes from ``old_as_of`` to ``new_as_of``, one DataFrame per kind of change.

    ``accounts_changed`` has one row per changed field (``field``, ``old``, ``new``).
    ``memberships_*`` come from the effective memberships (any nesting depth) and carry the
    group's ``name`` and ``privileged``; ``access_*`` carry the resource name and sensitivity;
    ``access_changed`` has ``old_right`` and ``new_right``. Added rows are sorted privileged /
    most sensitive first.
    """

    old_as_of: pd.Timestamp
    new_as_of: pd.Timestamp
    accounts_added: pd.DataFrame
    accounts_removed: pd.DataFrame
    accounts_changed: pd.DataFrame
    memberships_added: pd.DataFrame
    memberships_removed: pd.DataFrame
    access_added: pd.DataFrame
    access_removed: pd.DataFrame
    access_changed: pd.DataFrame
    # The digests of the two snapshots (None for one never saved), so a diff names its evidence.
    old_digest: str | None = None
    new_digest: str | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every change table by name, in reading order."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), pd.DataFrame)
        }

    def summary(self) -> pd.DataFrame:
        """One row per change table with its row count (and privileged count where it applies)."""
        rows = []
        for name, table in self.tables().items():
            privileged = int(table["privileged"].sum()) if "privileged" in table else None
            rows.append({"change": name, "rows": len(table), "privileged": privileged})
        summary = pd.DataFrame(rows)
        summary["privileged"] = summary["privileged"].astype("Int64")
        return summary

    @property
    def is_empty(self) -> bool:
        """True when nothing changed."""
        return all(table.empty for table in self.tables().values())

    def _repr_html_(self) -> str:
        summary = self.summary().astype(object)
        table = summary.where(summary.notna(), "").to_html(index=False)
        return (
            f"<p><b>Changes</b> from {self.old_as_of.date()} to {self.new_as_of.date()}</p>{table}"
        )


def diff_snapshots(old: Snapshot, new: Snapshot, *, policy: Policy | None = None) -> SnapshotDiff:
    """Compare two snapshots of the same organisation.

    Accounts are matched on ``account_id``, memberships on (account, group), access on
    (account, resource). ``policy`` adds its privileged groups to the connectors' flags (see
    :mod:`accessaudit.classify`), so the diff calls privileged what the rules do. Returns a
    :class:`SnapshotDiff`.

    >>> diff_snapshots(q3, q4, policy=config.policy).summary()  # doctest: +SKIP
    """
    old_accounts = old.accounts[[*_ACCOUNT_COLUMNS, "password_never_expires"]]
    new_accounts = new.accounts[[*_ACCOUNT_COLUMNS, "password_never_expires"]]
    added = new_accounts[~new_accounts["account_id"].isin(old_accounts["account_id"])]
    removed = old_accounts[~old_accounts["account_id"].isin(new_accounts["account_id"])]

    both = old_accounts.merge(new_accounts, on="account_id", suffixes=("_old", "_new"))
    changes = []
    for column in ACCOUNT_FIELDS_COMPARED:
        before = both[f"{column}_old"].astype(object)
        after = both[f"{column}_new"].astype(object)
        differs = ~((before == after) | (before.isna() & after.isna()))
        part = both.loc[differs, ["account_id", "system_new", "login_new"]].rename(
            columns={"system_new": "system", "login_new": "login"}
        )
        part = part.assign(field=column, old=before[differs], new=after[differs])
        changes.append(part)
    changed = pd.concat(changes, ignore_index=True).sort_values(["login", "field"])

    m_added, m_removed = _set_difference(
        _memberships(old, policy), _memberships(new, policy), ["account_id", "group_id"]
    )
    old_access, new_access = _access(old), _access(new)
    a_added, a_removed = _set_difference(old_access, new_access, ["account_id", "resource_id"])
    matched = old_access.merge(
        new_access[["account_id", "resource_id", "right", "path"]],
        on=["account_id", "resource_id"],
        suffixes=("_old", "_new"),
    )
    a_changed = matched[matched["right_old"].astype(str) != matched["right_new"].astype(str)]
    a_changed = a_changed.rename(columns={"right_old": "old_right", "right_new": "new_right"})
    a_changed = a_changed.drop(columns=["path_old"]).rename(columns={"path_new": "path"})

    return SnapshotDiff(
        old_as_of=old.as_of,
        new_as_of=new.as_of,
        old_digest=old.digest,
        new_digest=new.digest,
        accounts_added=added.sort_values(["system", "login"]).reset_index(drop=True),
        accounts_removed=removed.sort_values(["system", "login"]).reset_index(drop=True),
        accounts_changed=changed.reset_index(drop=True),
        memberships_added=_privileged_first(m_added, ["privileged"], ["login", "name"]),
        memberships_removed=_privileged_first(m_removed, ["privileged"], ["login", "name"]),
        access_added=_privileged_first(a_added, ["privileged", "sensitivity"], ["login"]),
        access_removed=_privileged_first(a_removed, ["privileged", "sensitivity"], ["login"]),
        access_changed=_privileged_first(a_changed, ["privileged", "sensitivity"], ["login"]),
    )


def _memberships(snapshot: Snapshot, policy: Policy | None) -> pd.DataFrame:
    table = snapshot.effective_memberships[["account_id", "group_id", "depth", "path"]]
    groups = snapshot.groups[["group_id", "name", "system", "privileged"]]
    groups = groups.assign(privileged=privileged_groups(snapshot.groups, policy))
    table = table.merge(groups, on="group_id", how="left")
    table = table.merge(snapshot.accounts[["account_id", "login"]], on="account_id", how="left")
    table["privileged"] = table["privileged"].fillna(False).astype(bool)
    return table[
        ["account_id", "login", "group_id", "name", "system", "privileged", "depth", "path"]
    ]


def _access(snapshot: Snapshot) -> pd.DataFrame:
    table = snapshot.access[["account_id", "resource_id", "right", "via", "path"]]
    resources = snapshot.resources[["resource_id", "name", "sensitivity", "data_categories"]]
    resources = resources.assign(sensitive=sensitive_resources(snapshot.resources))
    table = table.merge(
        resources.rename(columns={"name": "resource"}), on="resource_id", how="left"
    )
    table = table.merge(snapshot.accounts[["account_id", "login"]], on="account_id", how="left")
    table["sensitivity"] = pd.Categorical(
        table["sensitivity"].astype(object), categories=list(SENSITIVITIES), ordered=True
    )
    # "Privileged" access to data: administering or owning it, or any right on a sensitive
    # store (both as accessaudit.classify decides).
    sensitive = table["sensitive"].astype("boolean").fillna(False).astype(bool)
    table["privileged"] = privileged_rights(table["right"]) | sensitive
    return table[
        [
            "account_id",
            "login",
            "resource_id",
            "resource",
            "right",
            "via",
            "path",
            "sensitivity",
            "data_categories",
            "privileged",
        ]
    ]


def _set_difference(
    old: pd.DataFrame, new: pd.DataFrame, key: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    old_keys = pd.MultiIndex.from_frame(old[key])
    new_keys = pd.MultiIndex.from_frame(new[key])
    return new[~new_keys.isin(old_keys)], old[~old_keys.isin(new_keys)]


def _privileged_first(frame: pd.DataFrame, first: list[str], then: list[str]) -> pd.DataFrame:
    order = [c for c in first + then if c in frame.columns]
    ascending = [c not in first for c in order]
    return frame.sort_values(order, ascending=ascending, na_position="last").reset_index(drop=True)
