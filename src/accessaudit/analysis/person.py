"""Everything a snapshot knows of one person: for an investigation or a legal hold.

DataFrames in, DataFrames out: :func:`person_record` finds the person (HR person_id, email,
or the login / account_id of one of their accounts) and returns their HR row, accounts,
group memberships with the path that gives each, and the data they can reach;
:func:`sign_in_history` lines up the accounts' sign-in facts across several snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from accessaudit.classify import privileged_groups, sensitive_resources
from accessaudit.errors import AccessAuditError
from accessaudit.policy import Policy
from accessaudit.snapshot import Snapshot

__all__ = ["PersonRecord", "person_record", "sign_in_history"]


@dataclass(frozen=True)
class PersonRecord:
    """One person as one snapshot sees them. ``person`` has one row, or none for an account
    that belongs to no HR person (then ``subject`` is the account)."""

    subject: str
    person: pd.DataFrame
    accounts: pd.DataFrame
    memberships: pd.DataFrame
    data_reachable: pd.DataFrame


def _casefolded(values: pd.Series) -> pd.Series:
    out: pd.Series = values.astype("string").str.casefold()
    return out


def person_record(snapshot: Snapshot, who: str, policy: Policy | None = None) -> PersonRecord:
    """The person named ``who`` (person_id, email, or a login / account_id of theirs).

    Raises :class:`AccessAuditError` when nobody matches, or when ``who`` names accounts of
    more than one person.
    """
    key = who.casefold()
    people, accounts = snapshot.people, snapshot.accounts
    by_person = people[
        (_casefolded(people["person_id"]).eq(key) | _casefolded(people["email"]).eq(key))
        .fillna(False)
        .to_numpy(dtype=bool)
    ]
    named = accounts[
        (
            _casefolded(accounts["login"]).eq(key)
            | _casefolded(accounts["account_id"]).eq(key)
            | _casefolded(accounts["upn"]).eq(key)
            | _casefolded(accounts["email"]).eq(key)
        )
        .fillna(False)
        .to_numpy(dtype=bool)
    ]
    ids = set(by_person["person_id"].astype(str)) | set(named["person_id"].dropna().astype(str))
    if len(ids) > 1:
        raise AccessAuditError(f"{who!r} names more than one person: {', '.join(sorted(ids))}")
    if not ids and named.empty:
        raise AccessAuditError(f"{who!r} is no person, email or account in the snapshot")
    person = people[people["person_id"].astype(str).isin(ids)].reset_index(drop=True)
    mine = accounts["person_id"].astype(str).isin(ids).to_numpy(dtype=bool) | accounts[
        "account_id"
    ].isin(named["account_id"]).to_numpy(dtype=bool)
    own = accounts[mine].reset_index(drop=True)
    groups = snapshot.groups.assign(privileged=privileged_groups(snapshot.groups, policy))
    memberships = (
        snapshot.effective_memberships[
            snapshot.effective_memberships["account_id"].isin(own["account_id"])
        ]
        .astype({"account_id": object, "group_id": object, "path": object})
        .merge(
            groups[["group_id", "name", "system", "kind", "privileged"]].rename(
                columns={"name": "group", "kind": "group_kind"}
            ),
            on="group_id",
            how="left",
        )
        .merge(own[["account_id", "login"]], on="account_id", how="left")
    )
    resources = snapshot.resources.assign(sensitive=sensitive_resources(snapshot.resources))
    reachable = (
        snapshot.access[snapshot.access["account_id"].isin(own["account_id"])]
        .astype({"via": object, "path": object})
        .merge(
            resources[
                [
                    "resource_id",
                    "name",
                    "type",
                    "path",
                    "sensitivity",
                    "data_categories",
                    "sensitive",
                    "owner",
                ]
            ].rename(columns={"name": "resource", "path": "location"}),
            on="resource_id",
            how="left",
        )
        .merge(own[["account_id", "login"]], on="account_id", how="left")
    )
    subject = next(iter(ids)) if ids else str(named["account_id"].iloc[0])
    return PersonRecord(
        subject=subject,
        person=person,
        accounts=own,
        memberships=memberships.sort_values(["login", "group"]).reset_index(drop=True),
        data_reachable=reachable.sort_values(["login", "resource"]).reset_index(drop=True),
    )


def sign_in_history(snapshots: Sequence[Snapshot], account_ids: Sequence[str]) -> pd.DataFrame:
    """For each snapshot (oldest first) and each of ``account_ids`` it holds: the snapshot's
    date and digest, and the account's enabled flag, creation, last sign-in and password
    date as the source reported them that day."""
    rows = []
    for snapshot in sorted(snapshots, key=lambda s: s.as_of):
        accounts = snapshot.accounts
        picked = accounts[accounts["account_id"].isin(list(account_ids))]
        rows.append(
            pd.DataFrame(
                {
                    "snapshot_as_of": snapshot.as_of,
                    "snapshot_digest": snapshot.snapshot_id or "",
                    "account_id": picked["account_id"].astype(object),
                    "login": picked["login"].astype(object),
                    "enabled": picked["enabled"],
                    "created": picked["created"],
                    "last_sign_in": picked["last_sign_in"],
                    "last_sign_in_known": picked["last_sign_in_known"],
                    "password_last_set": picked["password_last_set"],
                }
            )
        )
    if not rows:
        return pd.DataFrame(
            columns=["snapshot_as_of", "snapshot_digest", "account_id", "login", "enabled"]
        )
    return pd.concat(rows, ignore_index=True)
